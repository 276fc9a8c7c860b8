import Formats
import Foundation
import Testing
@testable import Harness

/// The Linux init of our own (guest-images/linux-init/init.S): how it is linked, packed, kept
/// out of the snippets, and what it prints when it runs.
@Suite struct LinuxInitTests {
    static let source = Fixtures.guestImages.appendingPathComponent("linux-init/init.S")
    static let qemu = ["/usr/bin/qemu-aarch64", "/usr/local/bin/qemu-aarch64"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    // The constants of init.S and the counts its header derives from them.
    static let rounds = 100, yields = 50, getpids = 25
    static let parentCalls = 2 * rounds + yields + 9
    static let pingPongChildCalls = 2 * rounds + yields + 2

    static func build() throws -> [UInt8] {
        try LinuxInit.executable(source: source, toolchain: Toolchain.find())
    }

    @Test func linkedAsOneReadExecuteSegmentAtItsBase() throws {
        let image = try ELFImage(try Self.build())
        #expect(image.entry == 0x400000)
        #expect(image.symbol(named: "_start")?.value == 0x400000)
        #expect(image.segments.count == 1)
        #expect(image.segments.first?.virtualAddress == 0x400000)
        #expect(image.segments.first?.permissions == [.read, .execute])
    }

    /// Writable data would share a page with the code under the snippets' layout: refused.
    @Test func writableDataIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("init-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("init.S")
        try "        .text\n        .globl _start\n_start: b _start\n        .data\ncounter: .quad 0\n"
            .write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: HarnessError.image(file: file.path, message: "has writable data (.data or .bss): keep variables on the stack, the init is linked as one read-execute segment")) {
            try LinuxInit.executable(source: file, toolchain: Toolchain.find())
        }
    }

    /// `/dev`, the console, then `/init` holding the executable byte for byte: offsets from the
    /// newc layout (110-byte headers, names and data padded to 4).
    @Test func initramfsLayout() throws {
        let executable = try Self.build()
        let archive = LinuxInit.initramfs(executable: executable)
        func name(at offset: Int, length: Int) -> String { String(decoding: archive[(offset + 110)..<(offset + 110 + length)], as: UTF8.self) }
        #expect(name(at: 0, length: 3) == "dev")              // 110 + 4 -> 116
        #expect(name(at: 116, length: 11) == "dev/console")   // 110 + 12 -> 124
        #expect(name(at: 240, length: 4) == "init")           // 110 + 5 -> 116
        #expect(String(decoding: archive[(240 + 14)..<(240 + 22)], as: UTF8.self) == "000081ED") // c_mode 0100755
        #expect(Array(archive[356..<(356 + executable.count)]) == executable)
        let trailer = 356 + (executable.count + 3) / 4 * 4
        #expect(name(at: trailer, length: 10) == "TRAILER!!!")
        #expect(archive.count == trailer + 124)
    }

    /// The snippet suite runs `*.S` beside a manifest in guest-images/ only: the init's folder
    /// is not looked into.
    @Test func notASnippet() throws {
        let snippets = try Snippet.all(in: Fixtures.guestImages)
        #expect(!snippets.isEmpty)
        #expect(snippets.allSatisfy { $0.source.deletingLastPathComponent().lastPathComponent == "guest-images" })
        #expect(!snippets.contains { $0.name == "init" })
    }

    /// Runs under user-mode emulation: every count as init.S's header derives it, in order, and
    /// not being PID 1 it does not call reboot but exit_group(1).
    @Test(.enabled(if: qemu != nil, "needs qemu-aarch64 user emulation (apt-get install -y qemu-user)"))
    func runsUnderQemuUser() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("init-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("init")
        try Data(try Self.build()).write(to: file)
        // qemu-aarch64 loads only an executable file, and says why not on a stdout it never flushes.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
        // A hung init (a lost pipe byte) ends after a minute instead of holding the tests.
        let result = try ProcessRunner.run("/usr/bin/timeout", ["60", Self.qemu!, file.path])
        #expect(result.stdout == """
            mairlab-init: start
            mairlab-init: ping-pong child: rounds=\(Self.rounds) yields=\(Self.yields) syscalls=\(Self.pingPongChildCalls)
            mairlab-init: getpid child: syscalls=\(Self.getpids)
            mairlab-init: rounds=\(Self.rounds) yields=\(Self.yields) children=2 syscalls=\(Self.parentCalls)
            mairlab-init: not PID 1: exit_group(1) instead of reboot(POWER_OFF)

            """)
        // The derivations above, pinned: a change to them alone shows here.
        #expect(result.stdout.contains("syscalls=252") && result.stdout.contains("syscalls=259"))
        #expect(result.stderr.isEmpty)
        #expect(result.status == 1)
    }
}
