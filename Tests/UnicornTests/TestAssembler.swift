import Foundation

/// Assembles a flat AArch64 image for these tests with the Swift toolchain's clang, ld.lld and
/// llvm-objcopy (found beside `swift`). The harness has its own loader; these tests pin
/// Unicorn's behaviour and must not depend on it.
enum TestAssembler {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func toolchainBin() -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":") {
            let url = URL(fileURLWithPath: String(dir))
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("ld.lld").path),
               FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("clang").path) {
                return url
            }
        }
        return URL(fileURLWithPath: "/opt/swift/usr/bin")
    }

    static func flat(_ source: String, at base: UInt64) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-ut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try (".text\n.globl _start\n_start:\n" + source + "\n").write(to: dir.appendingPathComponent("t.S"), atomically: true, encoding: .utf8)
        let bin = toolchainBin()
        try run(bin.appendingPathComponent("clang"), ["--target=aarch64-none-elf", "-c", "t.S", "-o", "t.o"], in: dir)
        try run(bin.appendingPathComponent("ld.lld"), ["-Ttext=0x" + String(base, radix: 16), "-e", "_start", "t.o", "-o", "t.elf"], in: dir)
        try run(bin.appendingPathComponent("llvm-objcopy"), ["-O", "binary", "t.elf", "t.bin"], in: dir)
        return [UInt8](try Data(contentsOf: dir.appendingPathComponent("t.bin")))
    }

    private static func run(_ tool: URL, _ args: [String], in dir: URL) throws {
        let p = Process()
        p.executableURL = tool
        p.arguments = args
        p.currentDirectoryURL = dir
        let err = Pipe()
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw Failure(description: "\(tool.lastPathComponent) failed: \(text)")
        }
    }
}
