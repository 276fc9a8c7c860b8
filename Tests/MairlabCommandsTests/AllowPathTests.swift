import Foundation
import Testing

/// `--allow-path`: a snippet that reads a file outside its folder runs only when the user
/// passes that file's folder.
@Suite struct AllowPathTests {
    /// A snippet folder (with the shared include) whose source takes 4 bytes from `data`.
    static func snippet(reading data: URL) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-allow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("include"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: InProcess.images + "/include/mairlab.inc", toPath: dir.path + "/include/mairlab.inc")
        try """
                .include "mairlab.inc"
                .text
                .globl _start
        _start: b       over
                .incbin "\(data.path)"
        over:   mairlab_end 0

        """.write(to: dir.appendingPathComponent("reads.S"), atomically: true, encoding: .utf8)
        let manifest = try String(contentsOfFile: InProcess.images + "/mair-readback.toml", encoding: .utf8)
        try manifest.write(to: dir.appendingPathComponent("reads.toml"), atomically: true, encoding: .utf8)
        return dir.appendingPathComponent("reads")
    }

    @Test func aFileOutsideIsReadOnlyWhenItsFolderIsPassed() throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        let data = outside.appendingPathComponent("four.bin")
        try Data("ABCD".utf8).write(to: data)
        let snippet = try Self.snippet(reading: data)
        let refused = InProcess.run(["run", snippet.path])
        #expect(refused.status == 2)
        let folder = snippet.deletingLastPathComponent().resolvingSymlinksInPath().path
        #expect(refused.stderr == "mairlab: \(snippet.path).S:5: .incbin: \"\(data.path)\": an absolute path outside the snippet's folder; a snippet may name only files in its folder \(folder) (pass --allow-path DIR to allow another)\n")
        let allowed = InProcess.run(["run", snippet.path, "--allow-path", outside.path])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        // b, then mov and hvc after the 4 bytes: 3 instructions.
        let lines = allowed.stdout.split(separator: "\n")
        #expect(lines.prefix(3) == ["reads under kvm-2015: completed", "  completed at over+0x4 with exit status 0", "  guest instructions: 3"])
    }
}
