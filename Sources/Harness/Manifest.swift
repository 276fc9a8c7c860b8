import Foundation

/// What a snippet's manifest says: where the image goes, the platform it runs on, and how long
/// it may run. Parsed from TOML; every error names the file, the line and the field.
public struct Manifest: Sendable, Equatable {
    public struct MemoryRegion: Sendable, Equatable {
        public var name: String
        public var base: UInt64
        public var size: UInt64
        public var end: UInt64 { base + size }
        public func contains(_ address: UInt64, length: UInt64 = 1) -> Bool {
            address >= base && address + length <= end
        }
    }

    public var description: String
    /// Link address of `.text` (the ELF's own segments say where everything else goes).
    public var textAddress: UInt64
    public var entry: String
    public var memory: [MemoryRegion]
    /// VA ranges the guest's own tables map somewhere else (TTBR1 addresses, aliases). Unicorn
    /// 2.0.1 checks every access's VA against its regions before translating it, so each needs
    /// a placeholder region; its contents are never used.
    public var virtualWindows: [MemoryRegion]
    /// Guest instructions after which a run that has not ended is stopped as never-ending.
    public var budget: Int
    /// A wall-clock safety net in milliseconds; never the deterministic limit.
    public var timeoutMilliseconds: Int
    /// SP_EL1 at entry (default: the top of the region holding `.text`).
    public var stack: UInt64?

    public static let defaultBudget = 1_000_000
    public static let defaultTimeoutMilliseconds = 30_000
}

extension Manifest {
    /// Parses and checks a manifest. Errors are `HarnessError.manifest` naming file:line: field.
    public init(contentsOf url: URL, displayPath: String) throws {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw HarnessError.io("\(displayPath): cannot read the manifest: \(error.localizedDescription)")
        }
        do {
            try self.init(parsing: text, file: displayPath)
        } catch {
            throw HarnessError.manifest(error.description)
        }
    }

    init(parsing text: String, file: String) throws(TOMLError) {
        let root = try TOMLTable(parsing: text, file: file)
        try root.rejectUnknownKeys(allowed: ["description", "image", "run", "memory", "virtual_window"])
        description = try root.optional("description") ?? ""

        let image = try root.table("image")
        try image.rejectUnknownKeys(allowed: ["text", "entry"])
        textAddress = try image.uint64("text")
        entry = try image.optional("entry") ?? "_start"

        let run = try root.optional("run", as: TOMLTable.self)
        try run?.rejectUnknownKeys(allowed: ["budget", "timeout_ms", "stack"])
        budget = Int(try run?.optional("budget", as: UInt64.self) ?? UInt64(Self.defaultBudget))
        if let run, budget == 0 { throw run.fieldError("budget", "must be at least 1 instruction") }
        timeoutMilliseconds = Int(try run?.optional("timeout_ms", as: UInt64.self) ?? UInt64(Self.defaultTimeoutMilliseconds))
        stack = try run?.optional("stack")

        memory = []
        virtualWindows = []
        let regions = try root.arrayOfTables("memory")
        if regions.isEmpty { throw root.fieldError("memory", "at least one [[memory]] region is needed") }
        for table in regions {
            memory.append(try Self.region(table, notOverlapping: memory))
        }
        for table in try root.arrayOfTables("virtual_window") {
            virtualWindows.append(try Self.region(table, notOverlapping: memory + virtualWindows))
        }
        if !memory.contains(where: { $0.contains(textAddress) }) {
            throw image.fieldError("text", "\(hex(textAddress)) lies in no [[memory]] region")
        }
    }

    private static func region(_ table: TOMLTable, notOverlapping others: [MemoryRegion]) throws(TOMLError) -> MemoryRegion {
        try table.rejectUnknownKeys(allowed: ["name", "base", "size"])
        let region = MemoryRegion(name: try table.string("name"), base: try table.uint64("base"),
                                  size: try table.uint64("size"))
        // Unicorn maps whole 4 KB pages (uc_mem_map rejects anything else).
        if region.base % 4096 != 0 { throw table.fieldError("base", "\(hex(region.base)) is not 4 KB aligned") }
        if region.size == 0 || region.size % 4096 != 0 {
            throw table.fieldError("size", "\(hex(region.size)) is not a non-zero multiple of 4 KB")
        }
        if region.base > UInt64.max - region.size {
            throw table.fieldError("size", "\(hex(region.size)) runs past the top of the address space")
        }
        if let other = others.first(where: { $0.base < region.end && region.base < $0.end }) {
            throw table.fieldError("base", "region '\(region.name)' overlaps region '\(other.name)'")
        }
        return region
    }
}
