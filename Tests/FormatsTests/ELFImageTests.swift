import Foundation
import Testing
@testable import Formats

enum ELFImageTests {
    // The guest: every address below follows from this source and the linker script
    // (an A64 instruction is 4 bytes; .text at 0x40080000, .data at 0x40090000 loaded at 0x40100000).
    static let guestSource = """
            .text
        Boot:                       // a label at the same address as the sized _start
            .globl _start
            .type _start, %function
        _start:
            nop                     // +0x0
            nop                     // +0x4
        loop:
            nop                     // +0x8
            nop                     // +0xc
            b loop                  // +0x10
            .size _start, . - _start
        tail:                       // +0x14, outside any sized symbol
            nop
            nop                     // +0x18

            .data
            .globl value
            .type value, %object
        value:
            .quad 0x1122334455667788
            .size value, 8

            .bss
            .type buffer, %object
        buffer:
            .space 64
            .size buffer, 64

        """

    static let linkerScript = """
        ENTRY(_start)
        SECTIONS {
            . = 0x40080000;
            .text : { *(.text*) }
            . = 0x40090000;
            .data : AT(0x40100000) { *(.data*) }
            .bss : { *(.bss*) }
        }

        """

    struct GuestBuild: Sendable {
        let executable: [UInt8]
        let object: [UInt8]
    }

    struct ToolFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Built once for the whole suite with the toolchain's own clang and lld.
    static let guest = Result { try buildGuest() }

    static func buildGuest() throws -> GuestBuild {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("elfimage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try guestSource.write(to: directory.appendingPathComponent("guest.S"), atomically: true, encoding: .utf8)
        try linkerScript.write(to: directory.appendingPathComponent("guest.ld"), atomically: true, encoding: .utf8)
        try run("clang", ["--target=aarch64-none-elf", "-c", "guest.S", "-o", "guest.o"], in: directory)
        // A 4 KiB page size keeps the file small enough to corrupt byte by byte below.
        try run("ld.lld", ["-T", "guest.ld", "-z", "max-page-size=4096", "guest.o", "-o", "guest.elf"], in: directory)
        return GuestBuild(
            executable: [UInt8](try Data(contentsOf: directory.appendingPathComponent("guest.elf"))),
            object: [UInt8](try Data(contentsOf: directory.appendingPathComponent("guest.o"))))
    }

    static func run(_ tool: String, _ arguments: [String], in directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/opt/swift/usr/bin/\(tool)")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ToolFailure(description: "\(tool) \(arguments.joined(separator: " ")) failed: \(message)")
        }
    }

    /// A little-endian field of `bytes`, read independently of the code under test.
    static func field(_ bytes: [UInt8], _ offset: Int, _ size: Int) -> Int {
        (0..<size).reduce(0) { $0 | Int(bytes[offset + $1]) << ($1 * 8) }
    }

    static func patched(_ bytes: [UInt8], _ offset: Int, _ value: Int, size: Int) -> [UInt8] {
        var copy = bytes
        for i in 0..<size { copy[offset + i] = UInt8(truncatingIfNeeded: value >> (i * 8)) }
        return copy
    }

    static func elfError(_ bytes: [UInt8]) -> ELFError? {
        do {
            _ = try ELFImage(bytes)
            return nil
        } catch {
            return error
        }
    }

    static func words(_ words: [UInt32]) -> [UInt8] {
        words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } }
    }

    static let nop: UInt32 = 0xd503_201f

    @Suite struct Reader {
        @Test func readsEntrySegmentsAndSymbols() throws {
            let image = try ELFImage(Data(try guest.get().executable))
            #expect(image.entry == 0x4008_0000)
            #expect(image.segments.count == 2)

            let text = image.segments[0]
            #expect(text.virtualAddress == 0x4008_0000)
            #expect(text.physicalAddress == 0x4008_0000)
            // `b loop` at +0x10 branches back 8 bytes: imm26 = -2.
            #expect(text.bytes == words([nop, nop, nop, nop, 0x17ff_fffe, nop, nop]))
            #expect(text.memorySize == 0x1c)
            #expect(text.permissions == [.read, .execute])

            let data = image.segments[1]
            #expect(data.virtualAddress == 0x4009_0000)
            #expect(data.physicalAddress == 0x4010_0000)
            #expect(data.bytes == [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
            #expect(data.memorySize == 8 + 64)
            #expect(data.permissions == [.read, .write])

            #expect(image.symbols == [
                .init(name: "Boot", value: 0x4008_0000, size: 0, kind: .noType),
                .init(name: "_start", value: 0x4008_0000, size: 0x14, kind: .function),
                .init(name: "loop", value: 0x4008_0008, size: 0, kind: .noType),
                .init(name: "tail", value: 0x4008_0014, size: 0, kind: .noType),
                .init(name: "value", value: 0x4009_0000, size: 8, kind: .object),
                .init(name: "buffer", value: 0x4009_0008, size: 64, kind: .object),
            ])
            #expect(image.symbol(named: "tail")?.value == 0x4008_0014)
            #expect(image.symbol(named: "$x") == nil)
        }

        @Test(arguments: [
            (0x4008_0000, "_start"),            // exact: the sized symbol before the label
            (0x4008_0004, "_start+0x4"),
            (0x4008_0008, "loop"),              // exact hit on a label
            (0x4008_000c, "_start+0xc"),        // inside _start beats the nearer label
            (0x4008_0014, "tail"),
            (0x4008_0018, "tail+0x4"),          // past _start's end: the nearest label
            (0x4009_0004, "value+0x4"),
            (0x4009_0047, "buffer+0x3f"),
            (0x4009_0048, "tail+0x10034"),      // past buffer's end
            (0x1000, "0x1000"),                 // below every symbol
        ] as [(UInt64, String)])
        func symbolize(address: UInt64, expected: String) throws {
            #expect(try ELFImage(guest.get().executable).symbolize(address) == expected)
        }

        @Test func rejectsWhatIsNotAnAArch64Executable() throws {
            let elf = try guest.get().executable
            #expect(elfError([]) == .notELF)
            #expect(elfError(patched(elf, 3, 0x47, size: 1)) == .notELF)
            #expect(elfError(patched(elf, 5, 2, size: 1)) == .wrongByteOrder(2))
            #expect(elfError(patched(elf, 18, 62, size: 2)) == .wrongMachine(62))
            #expect(elfError(try guest.get().object) == .wrongType(1))
            #expect(ELFError.wrongMachine(62).description == "ELF machine 62 is not AArch64 (183)")
            #expect(ELFError.wrongType(1).description == "ELF type 1 is not an executable (ET_EXEC, 2)")
            #expect(ELFError.notELF.description == "not an ELF file (no \\x7fELF magic)")
        }

        /// ET_DYN (3) only when asked for: an image that relocates itself (U-Boot's uboot.elf).
        @Test func positionIndependentOnlyWhenAsked() throws {
            let dynamic = patched(try guest.get().executable, 16, 3, size: 2)
            #expect(elfError(dynamic) == .wrongType(3))
            let image = try ELFImage(dynamic, positionIndependent: true)
            #expect(image.segments == (try ELFImage(guest.get().executable)).segments)
        }

        @Test func rejects32BitHeader() {
            // An ELF32 header for an ARM executable: class 1, little-endian, ET_EXEC, EM_ARM.
            var header: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1] + [UInt8](repeating: 0, count: 45)
            header[16] = 2
            header[18] = 40
            let error = elfError(header)
            #expect(error == .wrongClass(1))
            #expect(error?.description == "ELF class 1 (32-bit) is not supported; expected ELF64 (class 2)")
        }

        @Test func reportsTruncationWithOffsets() throws {
            let elf = try guest.get().executable
            let error = elfError(Array(elf.prefix(40)))
            #expect(error == .truncated(what: "ELF header", offset: 0, length: 64, fileSize: 40))
            #expect(error?.description == "truncated file: ELF header at offset 0x0 needs 64 bytes, but the file has 40")

            let programHeaders = field(elf, 32, 8), programCount = field(elf, 56, 2)
            #expect(elfError(Array(elf.prefix(100))) == .truncated(
                what: "program headers", offset: UInt64(programHeaders), length: UInt64(programCount * 56), fileSize: 100))

            // Program header 0 is .text: cut the file halfway through its 0x1c bytes.
            let textOffset = field(elf, programHeaders + 8, 8)
            #expect(elfError(Array(elf.prefix(textOffset + 0xe))) == .truncated(
                what: "segment 0", offset: UInt64(textOffset), length: 0x1c, fileSize: textOffset + 0xe))

            let sectionHeaders = field(elf, 40, 8), sectionCount = field(elf, 60, 2)
            #expect(elfError(Array(elf.dropLast())) == .truncated(
                what: "section headers", offset: UInt64(sectionHeaders), length: UInt64(sectionCount * 64),
                fileSize: elf.count - 1))
        }

        @Test func reportsInconsistentHeaders() throws {
            let elf = try guest.get().executable
            let programHeaders = field(elf, 32, 8)
            #expect(elfError(patched(elf, 54, 32, size: 2)) == .malformed("program header size 32 is smaller than 56"))
            #expect(elfError(patched(elf, 58, 32, size: 2)) == .malformed("section header size 32 is smaller than 64"))
            let shrunk = elfError(patched(elf, programHeaders + 40, 4, size: 8))
            #expect(shrunk == .malformed("segment 0: file size 0x1c exceeds memory size 0x4"))
            #expect(shrunk?.description == "malformed ELF file: segment 0: file size 0x1c exceeds memory size 0x4")
            let wrapping = patched(patched(elf, programHeaders + 16, -0x10, size: 8), programHeaders + 40, 0x20, size: 8)
            #expect(elfError(wrapping)
                == .malformed("segment 0: 0xfffffffffffffff0 + 0x20 is past the end of the address space"))
        }

        @Test func reportsBrokenSymbolTable() throws {
            let elf = try guest.get().executable
            let sectionHeaders = field(elf, 40, 8), sectionCount = field(elf, 60, 2)
            let headers = (0..<sectionCount).map { sectionHeaders + $0 * 64 }
            let symbolTableIndex = try #require(headers.firstIndex { field(elf, $0 + 4, 4) == 2 })  // SHT_SYMTAB
            let symbolTable = headers[symbolTableIndex]
            let stringTable = headers[field(elf, symbolTable + 40, 4)]
            let symbols = field(elf, symbolTable + 24, 8)
            let strings = field(elf, stringTable + 24, 8), stringsSize = field(elf, stringTable + 32, 8)

            #expect(elfError(patched(elf, symbolTable + 40, 99, size: 4))
                == .malformed("symbol table links to section 99, but there are \(sectionCount) sections"))
            #expect(elfError(patched(elf, symbolTable + 40, symbolTableIndex, size: 4))
                == .malformed("symbol table links to section \(symbolTableIndex), which is not a string table"))
            #expect(elfError(patched(elf, symbolTable + 56, 8, size: 8)) == .malformed("symbol size 8 is smaller than 24"))
            // Symbol 1's st_name is the first field of the second 24-byte entry.
            #expect(elfError(patched(elf, symbols + 24, 0xffff, size: 4))
                == .malformed("symbol 1: name offset 0xffff is outside the string table"))
            // Point symbol 1 at the table's final NUL and overwrite it.
            let unterminated = patched(patched(elf, symbols + 24, stringsSize - 1, size: 4),
                                       strings + stringsSize - 1, 0x78, size: 1)
            #expect(elfError(unterminated) == .malformed(
                "symbol 1: name at string table offset 0x\(String(stringsSize - 1, radix: 16)) has no terminating NUL"))
            #expect(elfError(patched(elf, symbolTable + 24, elf.count - 10, size: 8)) == .truncated(
                what: "symbol table", offset: UInt64(elf.count - 10), length: UInt64(field(elf, symbolTable + 32, 8)),
                fileSize: elf.count))
        }

        /// Every strict prefix is refused as truncated (or, under 4 bytes, as not ELF), and no
        /// single-byte corruption anywhere makes the reader trap.
        @Test func survivesCorruption() throws {
            let elf = try guest.get().executable
            for length in 0..<elf.count {
                switch elfError(Array(elf.prefix(length))) {
                case .notELF?: #expect(length < 4)
                case .truncated?: #expect(length >= 4)
                case let other: Issue.record("prefix of \(length) bytes: \(String(describing: other))")
                }
            }
            for offset in elf.indices {
                for value: UInt8 in [0x00, 0x7F, 0xFF] {
                    var corrupted = elf
                    corrupted[offset] = value
                    _ = try? ELFImage(corrupted)
                }
            }
        }
    }
}
