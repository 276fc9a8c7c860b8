import Foundation
import Harness
import Testing

/// `mairlab initramfs`: builds the shipped init and packs it; an existing file is left alone.
@Suite struct InitramfsCommandTests {
    static let source = InProcess.repository.appendingPathComponent("guest-images/linux-init/init.S").path

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("initramfs-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func writesTheArchiveAndNeverOverwrites() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("init.cpio").path
        let result = InProcess.run(["initramfs", "-o", output, "--source", Self.source])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let executable = try LinuxInit.executable(source: URL(fileURLWithPath: Self.source), toolchain: Toolchain.find())
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(written == LinuxInit.initramfs(executable: executable))
        #expect(result.stdout == """
            \(output): \(written.count) bytes, a newc cpio archive
              /dev          directory
              /dev/console  character device 5:1
              /init         \(executable.count) bytes, static AArch64 executable from \(Self.source)

            """)

        let again = InProcess.run(["initramfs", "--output", output, "--source", Self.source])
        #expect(again.status == 2)
        #expect(again.stdout.isEmpty)
        #expect(again.stderr == "mairlab: \(output) exists: not overwriting it\n")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: output))) == written)
    }

    @Test func missingSourceIsBadInput() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("init.cpio").path
        let result = InProcess.run(["initramfs", "-o", output, "--source", directory.appendingPathComponent("none.S").path])
        #expect(result.status == 2)
        #expect(result.stderr == "mairlab: no init source at \(directory.path)/none.S\n")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func outputIsRequired() {
        let result = InProcess.run(["initramfs"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("Error: Missing expected argument '--output <output>'"))
    }
}
