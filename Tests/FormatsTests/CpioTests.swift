import Foundation
import Testing
@testable import Formats

/// The newc writer against the format itself (cpio(5), "New ASCII Format"; the kernel's
/// buffer-format.rst): bytes written out by hand, and GNU cpio reading what we write.
@Suite struct CpioTests {
    static let entries: [Cpio.Entry] = [
        .directory("d"),
        .file("d/f", permissions: 0o644, data: Array("hi\n".utf8)),
        .characterDevice("c", permissions: 0o600, major: 5, minor: 1),
    ]

    /// One header: `070701`, then c_ino, c_mode, c_uid, c_gid, c_nlink, c_mtime, c_filesize,
    /// c_devmajor, c_devminor, c_rdevmajor, c_rdevminor, c_namesize, c_check, 8 hex digits each.
    static func header(_ fields: String...) -> String { "070701" + fields.joined() }

    @Test func exactBytes() {
        let zero = "00000000"
        let expected =
            // d: mode 040755, two links, name "d\0": 110 + 2 = 112, already a multiple of 4.
            Self.header("00000001", "000041ED", zero, zero, "00000002", zero, zero, zero, zero, zero, zero, "00000002", zero)
            + "d\0"
            // d/f: mode 0100644, 3 bytes; 110 + 4 = 114, padded to 116; data padded to 4.
            + Self.header("00000002", "000081A4", zero, zero, "00000001", zero, "00000003", zero, zero, zero, zero, "00000004", zero)
            + "d/f\0" + "\0\0" + "hi\n" + "\0"
            // c: mode 020600, the device 5:1 in c_rdevmajor and c_rdevminor.
            + Self.header("00000003", "00002180", zero, zero, "00000001", zero, zero, zero, zero, "00000005", "00000001", "00000002", zero)
            + "c\0"
            // TRAILER!!!: name size 11; 110 + 11 = 121, padded to 124.
            + Self.header(zero, zero, zero, zero, "00000001", zero, zero, zero, zero, zero, zero, "0000000B", zero)
            + "TRAILER!!!\0" + "\0\0\0"
        let archive = Cpio.newc(Self.entries)
        #expect(archive == Array(expected.utf8))
        #expect(archive.count == 112 + 116 + 4 + 112 + 124)
    }

    @Test func emptyArchiveIsTheTrailer() {
        #expect(Cpio.newc([]).count == 124)
        #expect(Array(Cpio.newc([]).prefix(6)) == Array("070701".utf8))
    }

    /// Every name length lands the data on a 4-byte boundary: 110 + name + NUL, rounded up.
    @Test(arguments: 1...8)
    func namePadding(length: Int) {
        let name = String(repeating: "n", count: length)
        let archive = Cpio.newc([.file(name, permissions: 0o644, data: [0xAB])])
        let dataOffset = (110 + length + 1 + 3) / 4 * 4
        #expect(archive[dataOffset] == 0xAB)
        #expect(archive[(110 + length + 1)..<dataOffset].allSatisfy { $0 == 0 })
        #expect(archive.count == dataOffset + 4 + 124)
    }

    @Test func hexFields() {
        #expect(Cpio.hex8(0) == "00000000")
        #expect(Cpio.hex8(0o100755) == "000081ED")
        #expect(Cpio.hex8(UInt32.max) == "FFFFFFFF")
    }

    static let cpioTool = "/usr/bin/cpio"

    /// GNU cpio lists what we wrote: types, permissions, links, sizes, the device, the names.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: cpioTool), "needs GNU cpio (apt-get install -y cpio)"))
    func gnuCpioReadsIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cpio-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("a.cpio")
        try Data(Cpio.newc(Self.entries)).write(to: file)
        let listing = try ProcessRunner.run(Self.cpioTool, ["-itv", "--numeric-uid-gid", "-F", file.path])
        #expect(listing.status == 0, "\(listing.stderr)")
        // mode, links, uid, gid, size (or major, minor), then the date and the name.
        let rows = listing.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.map { Array($0.prefix(5)) } == [
            ["drwxr-xr-x", "2", "0", "0", "0"],
            ["-rw-r--r--", "1", "0", "0", "3"],
            ["crw-------", "1", "0", "0", "5,"],
        ])
        #expect(rows.map { $0.last } == ["d", "d/f", "c"])
        #expect(rows[2][5] == "1")
        // Extracting the file (not the device: mknod needs privileges) gives back its bytes.
        let extract = try ProcessRunner.run(Self.cpioTool, ["-id", "-F", file.path, "d/f"], in: directory)
        #expect(extract.status == 0, "\(extract.stderr)")
        #expect(try String(contentsOf: directory.appendingPathComponent("d/f"), encoding: .utf8) == "hi\n")
    }
}
