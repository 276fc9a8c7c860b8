// A reader for the little-endian ELF64 AArch64 executables that assembled snippets become:
// what to load where, where to start, and symbols so that results can say `fb_loop+0x8`.
// Every read is bounds-checked first; malformed input is an `ELFError`, never a trap.

import AArch64
import FoundationEssentials

public enum ELFError: Error, Sendable, Equatable, CustomStringConvertible {
    case notELF
    /// EI_CLASS other than ELFCLASS64 (2).
    case wrongClass(UInt8)
    /// EI_DATA other than ELFDATA2LSB (1).
    case wrongByteOrder(UInt8)
    /// e_machine other than EM_AARCH64 (183).
    case wrongMachine(UInt16)
    /// e_type other than ET_EXEC (2).
    case wrongType(UInt16)
    /// `what` needs `length` bytes at `offset`, past the end of a file of `fileSize` bytes.
    case truncated(what: String, offset: UInt64, length: UInt64, fileSize: Int)
    case malformed(String)

    public var description: String {
        switch self {
        case .notELF:
            "not an ELF file (no \\x7fELF magic)"
        case .wrongClass(let elfClass):
            "ELF class \(elfClass) (\(elfClass == 1 ? "32-bit" : "unknown")) is not supported; expected ELF64 (class 2)"
        case .wrongByteOrder(let data):
            "ELF data encoding \(data) (\(data == 2 ? "big-endian" : "unknown")) is not supported; "
                + "expected little-endian (1)"
        case .wrongMachine(let machine):
            "ELF machine \(machine) is not AArch64 (183)"
        case .wrongType(let type):
            "ELF type \(type) is not an executable (ET_EXEC, 2)"
        case .truncated(let what, let offset, let length, let fileSize):
            "truncated file: \(what) at offset \(hex(offset)) needs \(length) bytes, but the file has \(fileSize)"
        case .malformed(let message):
            "malformed ELF file: \(message)"
        }
    }
}

public struct ELFImage: Sendable, Equatable {
    /// A PT_LOAD segment: `bytes` go at `virtualAddress`, and the rest of `memorySize` is zero (.bss).
    public struct Segment: Sendable, Equatable {
        public let virtualAddress: UInt64
        /// The load address (LMA), which differs from the virtual one for data copied at boot.
        public let physicalAddress: UInt64
        public let bytes: [UInt8]
        public let memorySize: UInt64
        public let permissions: Permissions
    }

    /// p_flags (PF_X, PF_W, PF_R).
    public struct Permissions: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let execute = Permissions(rawValue: 1)
        public static let write = Permissions(rawValue: 2)
        public static let read = Permissions(rawValue: 4)
    }

    public struct Symbol: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// STT_FUNC
            case function
            /// STT_OBJECT
            case object
            /// STT_NOTYPE: a plain label.
            case noType
        }

        public let name: String
        public let value: UInt64
        public let size: UInt64
        public let kind: Kind
        /// An `.equ` constant (SHN_ABS): a value, never an address to name a site by.
        public let isAbsolute: Bool

        public init(name: String, value: UInt64, size: UInt64, kind: Kind, isAbsolute: Bool = false) {
            self.name = name
            self.value = value
            self.size = size
            self.kind = kind
            self.isAbsolute = isAbsolute
        }
    }

    public let entry: UInt64
    public let segments: [Segment]
    /// Functions, objects and labels from .symtab, by address (then name). Section, file and
    /// undefined symbols and the `$x`/`$d` mapping symbols are left out.
    public let symbols: [Symbol]
    /// The symbols that name places (not `.equ` constants), for `symbolize`.
    private let siteSymbols: [Symbol]

    public init(_ data: Data) throws(ELFError) {
        try self.init([UInt8](data))
    }

    /// `positionIndependent` also accepts ET_DYN (3): an image that applies its own
    /// relocations where it runs (U-Boot's `uboot.elf` with POSITION_INDEPENDENT), loaded at its
    /// link addresses.
    public init(_ bytes: [UInt8], positionIndependent: Bool = false) throws(ELFError) {
        let file = FileBytes(bytes: bytes)
        let magic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else { throw .notELF }
        // e_ident's class and data bytes decide how the rest reads, so check them first.
        if bytes.count > 4, bytes[4] != 2 { throw .wrongClass(bytes[4]) }
        if bytes.count > 5, bytes[5] != 1 { throw .wrongByteOrder(bytes[5]) }
        let header = try file.record(at: 0, length: 64, "ELF header")
        guard header.u16(18) == 183 else { throw .wrongMachine(header.u16(18)) }
        let type = header.u16(16)
        guard type == 2 || (positionIndependent && type == 3) else { throw .wrongType(type) }

        entry = header.u64(24)
        segments = try Self.readSegments(file, header)
        symbols = try Self.readSymbols(file, header)
        siteSymbols = symbols.filter { !$0.isAbsolute }
    }

    /// The symbol called `name`, e.g. a snippet's end marker.
    public func symbol(named name: String) -> Symbol? {
        symbols.first { $0.name == name }
    }

    /// `name` for an exact hit (a sized symbol first), `name+0x8` inside a sized symbol (the
    /// innermost) or else after the nearest label below, and `0x...` when no symbol fits.
    public func symbolize(_ address: UInt64) -> String {
        let symbols = siteSymbols
        if let exact = symbols.first(where: { $0.value == address && $0.size > 0 })
            ?? symbols.first(where: { $0.value == address }) {
            return exact.name
        }
        let containing = symbols.last { $0.size > 0 && $0.value < address && address - $0.value < $0.size }
        let label = symbols.last { $0.size == 0 && $0.value < address }
        guard let symbol = containing ?? label else { return hex(address) }
        return "\(symbol.name)+\(hex(address - symbol.value))"
    }

    private static func readSegments(_ file: FileBytes, _ header: Record) throws(ELFError) -> [Segment] {
        let offset = header.u64(32), entrySize = UInt64(header.u16(54)), count = header.u16(56)
        guard count == 0 || entrySize >= 56 else {
            throw .malformed("program header size \(entrySize) is smaller than 56")
        }
        let table = try file.record(at: offset, length: UInt64(count) * entrySize, "program headers")
        var segments: [Segment] = []
        for index in 0..<UInt64(count) {
            let program = table.sub(at: index * entrySize, length: 56)
            guard program.u32(0) == 1 else { continue }  // PT_LOAD
            let fileOffset = program.u64(8), virtualAddress = program.u64(16)
            let fileSize = program.u64(32), memorySize = program.u64(40)
            guard fileSize <= memorySize else {
                throw .malformed("segment \(index): file size \(hex(fileSize)) exceeds memory size \(hex(memorySize))")
            }
            guard memorySize == 0 || virtualAddress <= UInt64.max - (memorySize - 1) else {
                throw .malformed(
                    "segment \(index): \(hex(virtualAddress)) + \(hex(memorySize)) is past the end of the address space")
            }
            let contents = try file.record(at: fileOffset, length: fileSize, "segment \(index)")
            segments.append(Segment(virtualAddress: virtualAddress, physicalAddress: program.u64(24),
                                    bytes: Array(contents.bytes), memorySize: memorySize,
                                    permissions: Permissions(rawValue: program.u32(4))))
        }
        return segments
    }

    private static func readSymbols(_ file: FileBytes, _ header: Record) throws(ELFError) -> [Symbol] {
        let sectionsOffset = header.u64(40), entrySize = UInt64(header.u16(58)), count = UInt64(header.u16(60))
        guard count == 0 || entrySize >= 64 else {
            throw .malformed("section header size \(entrySize) is smaller than 64")
        }
        let sections = try file.record(at: sectionsOffset, length: count * entrySize, "section headers")
        func section(_ index: UInt64) -> Record {
            sections.sub(at: index * entrySize, length: 64)
        }
        var symbolTable: Record?
        for index in 0..<count {
            let candidate = section(index)
            if candidate.u32(4) == 2 {  // SHT_SYMTAB
                symbolTable = candidate
                break
            }
        }
        guard let symbolTable else { return [] }

        let stringIndex = UInt64(symbolTable.u32(40))
        guard stringIndex < count else {
            throw .malformed("symbol table links to section \(stringIndex), but there are \(count) sections")
        }
        let stringSection = section(stringIndex)
        guard stringSection.u32(4) == 3 else {  // SHT_STRTAB
            throw .malformed("symbol table links to section \(stringIndex), which is not a string table")
        }
        let strings = try file.record(at: stringSection.u64(24), length: stringSection.u64(32), "string table")
        let symbolSize = symbolTable.u64(56)
        guard symbolSize >= 24 else { throw .malformed("symbol size \(symbolSize) is smaller than 24") }
        let table = try file.record(at: symbolTable.u64(24), length: symbolTable.u64(32), "symbol table")

        var symbols: [Symbol] = []
        // Entry 0 is the reserved null symbol.
        for index in 1..<max(1, table.length / symbolSize) {
            let entry = table.sub(at: index * symbolSize, length: 24)
            let kind: Symbol.Kind
            switch entry.u8(4) & 0xF {
            case 0: kind = .noType
            case 1: kind = .object
            case 2: kind = .function
            default: continue  // sections, files, TLS, ...
            }
            guard entry.u16(6) != 0 else { continue }  // SHN_UNDEF
            let name = try Self.name(at: UInt64(entry.u32(0)), in: strings, symbol: index)
            guard !name.isEmpty, !isMappingSymbol(name) else { continue }
            symbols.append(Symbol(name: name, value: entry.u64(8), size: entry.u64(16), kind: kind,
                                  isAbsolute: entry.u16(6) == 0xFFF1))  // SHN_ABS
        }
        return symbols.sorted { ($0.value, $0.name) < ($1.value, $1.name) }
    }

    private static func name(at offset: UInt64, in strings: Record, symbol: UInt64) throws(ELFError) -> String {
        guard offset < strings.length else {
            throw .malformed("symbol \(symbol): name offset \(hex(offset)) is outside the string table")
        }
        let tail = strings.bytes.dropFirst(Int(offset))
        guard let end = tail.firstIndex(of: 0) else {
            throw .malformed("symbol \(symbol): name at string table offset \(hex(offset)) has no terminating NUL")
        }
        return String(decoding: tail[..<end], as: UTF8.self)
    }

    /// AArch64 ELF mapping symbols (`$x`, `$d`, optionally `$x.<anything>`) mark code and data
    /// runs for disassemblers; they are not names a person wrote.
    private static func isMappingSymbol(_ name: String) -> Bool {
        name == "$x" || name == "$d" || name.hasPrefix("$x.") || name.hasPrefix("$d.")
    }
}

extension ELFImage {
    /// The file's bytes; `record` is the only way in, and it checks the bounds.
    private struct FileBytes {
        let bytes: [UInt8]

        /// `length` bytes at `offset`, or an error naming `what` was cut short.
        func record(at offset: UInt64, length: UInt64, _ what: String) throws(ELFError) -> Record {
            let size = UInt64(bytes.count)
            guard offset <= size, length <= size - offset else {
                throw .truncated(what: what, offset: offset, length: length, fileSize: bytes.count)
            }
            return Record(bytes: bytes[Int(offset)..<Int(offset + length)])
        }
    }

    /// A bounds-checked run of bytes read as little-endian fields; callers read only fields that
    /// lie inside the length they asked for.
    private struct Record {
        let bytes: ArraySlice<UInt8>

        var length: UInt64 { UInt64(bytes.count) }

        func sub(at offset: UInt64, length: UInt64) -> Record {
            let start = bytes.startIndex + Int(offset)
            return Record(bytes: bytes[start..<start + Int(length)])
        }

        func u8(_ offset: Int) -> UInt8 { bytes[bytes.startIndex + offset] }

        func u16(_ offset: Int) -> UInt16 { UInt16(truncatingIfNeeded: little(offset, 2)) }

        func u32(_ offset: Int) -> UInt32 { UInt32(truncatingIfNeeded: little(offset, 4)) }

        func u64(_ offset: Int) -> UInt64 { little(offset, 8) }

        private func little(_ offset: Int, _ count: Int) -> UInt64 {
            (0..<count).reduce(0) { $0 | UInt64(u8(offset + $1)) << ($1 * 8) }
        }
    }
}
