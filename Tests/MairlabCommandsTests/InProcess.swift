import Foundation
import MairlabCommands

/// Runs `mairlab` commands in this process, as the executable would, with what they print
/// captured.
enum InProcess {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let images = repository.appendingPathComponent("guest-images").path

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String]) -> Result {
        let console = Console.capturing()
        let status = Console.$current.withValue(console) { Mairlab.execute(arguments) }
        return Result(status: status, stdout: console.standardOutput, stderr: console.standardError)
    }
}

/// Golden files: what a command printed, kept under Golden/ and compared byte for byte. Read
/// each one when it changes (the diff is the review); `MAIRLAB_UPDATE_GOLDEN=1 swift test
/// --filter MairlabCommandsTests` rewrites them.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let updating = ProcessInfo.processInfo.environment["MAIRLAB_UPDATE_GOLDEN"] == "1"

    /// The stored text, or (when updating) `actual` written as the new golden file.
    static func expected(_ name: String, actual: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        if updating {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
        }
        return try String(contentsOf: url, encoding: .utf8)
    }
}
