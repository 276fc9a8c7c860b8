import Foundation

/// Runs an external tool (the assembler, the linker, llvm-objdump, git) and collects what it
/// printed. Both pipes are drained at once: reading one to its end first deadlocks as soon as
/// the tool fills the other's 64 KiB buffer.
public enum ProcessRunner {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// The signal that ended the tool, when one did (`status` is then its number).
        public var signal: Int32? = nil
    }

    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String]? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let collected = Collected()
        let group = DispatchGroup()
        for (pipe, isOut) in [(out, true), (err, false)] {
            DispatchQueue.global().async(group: group) {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.set(data, isOut: isOut)
            }
        }
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: collected.out, as: UTF8.self),
                      stderr: String(decoding: collected.err, as: UTF8.self),
                      signal: process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil)
    }

    /// `git ARGS` in the current directory: its output trimmed, or nil when git fails or is absent.
    public static func git(_ arguments: [String]) -> String? {
        guard let result = try? run("/usr/bin/env", ["git"] + arguments), result.status == 0 else { return nil }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var out = Data()
    private(set) var err = Data()

    func set(_ data: Data, isOut: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if isOut { out = data } else { err = data }
    }
}
