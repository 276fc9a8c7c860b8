import AArch64
import Coherency
import FoundationEssentials
import Hypervisor

/// What a snippet's manifest says: where the image goes, the platform it runs on, and how long
/// it may run. Parsed from TOML; every error names the file, the line and the field.
public struct Manifest: Sendable, Equatable {
    public struct MemoryRegion: Sendable, Equatable {
        public var name: String
        public var base: UInt64
        public var size: UInt64
        /// Never overflows for a parsed manifest: base + size is checked when it is read.
        public var end: UInt64 { base + size }
        /// Whether `length` bytes from `address` lie in the region; by subtraction, so an
        /// address near 2^64 cannot overflow.
        public func contains(_ address: UInt64, length: UInt64 = 1) -> Bool {
            address >= base && length <= size && address - base <= size - length
        }
    }

    public var description: String
    /// Link address of `.text` (the ELF's own segments say where everything else goes).
    public var textAddress: UInt64
    public var entry: String
    /// Where the manifest names its entry (checked against the image's symbols once built).
    public var entryField: FieldLocation
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

    /// Memory more than one observer touches, served by the coherency model.
    public struct ObservedRegion: Sendable, Equatable {
        public var name: String
        public var kind: RegionKind
        public var base: UInt64
        public var size: UInt64
        /// The byte every location holds at the start.
        public var initial: UInt8
    }

    /// A DMA master of the platform.
    public struct DMAMaster: Sendable, Equatable {
        public var name: String
        public var coherent: Bool
    }

    /// What an observer does at a sync point.
    public struct HostAction: Sendable, Equatable {
        public enum Action: String, Sendable { case read, write }
        public var at: Int
        /// `vmm` or a DMA master's name.
        public var observer: String
        public var action: Action
        public var region: String
        public var offset: UInt64
        public var size: UInt64
        /// For writes: a 64-bit little-endian pattern repeated over `size` bytes.
        public var value: UInt64
        public var label: String
    }

    /// A condition the snippet states for a policy, with the reasoning behind it.
    public struct Expectation: Sendable, Equatable {
        public var policies: [String]
        public var condition: Condition
        public var reason: String
        /// A known failure (`xfail = "why"`): reported XFAIL, not a regression, while it fails.
        public var xfail: String?
        public var line: Int
    }

    /// A live migration at a sync point: the VM's state carried to a host of another kind.
    public struct Migration: Sendable, Equatable {
        public var at: Int
        /// The target host has FEAT_S2FWB.
        public var toFWB: Bool
    }

    public var migrations: [Migration]
    public var observed: [ObservedRegion]
    public var dma: [DMAMaster]
    public var host: [HostAction]
    public var expectations: [Expectation]
    /// The most eviction schedules explored before the exploration is cut short.
    public var scheduleCap: Int

    public static let defaultBudget = 1_000_000
    public static let defaultScheduleCap = 4096
    public static let defaultTimeoutMilliseconds = 30_000

    /// The range of every numeric field (README, "Input limits"). Values outside are errors
    /// naming the file, line, field and range, so no conversion or sum of them can trap.
    public enum Limits {
        public static let budget: ClosedRange<UInt64> = 1...1_000_000_000_000
        public static let scheduleCap: ClosedRange<UInt64> = 1...1_000_000
        /// 24 hours.
        public static let timeoutMilliseconds: ClosedRange<UInt64> = 1...86_400_000
        /// 2^48: the largest output address with the 4 KB granule without FEAT_LPA2 (Arm ARM,
        /// ID_AA64MMFR0_EL1.PARange 0b0101), the walker's bound too. Guest RAM, observed
        /// regions, .text and the initial SP (the MMU is off at entry: VA = PA) lie below it.
        public static let physicalAddressLimit: UInt64 = 1 << PhysicalAddressSize.bits48.bits
        /// With 48-bit VAs (TCR_EL1.TnSZ >= 16, no FEAT_LVA) TTBR0_EL1 translates
        /// [0, 2^48) and TTBR1_EL1 [0xffff_0000_0000_0000, 2^64); other VAs always fault.
        public static let upperVirtualRangeStart: UInt64 = 0xFFFF_0000_0000_0000
        /// Unicorn maps whole 4 KB pages (uc_mem_map rejects anything else).
        public static let pageSize: UInt64 = 4096
        /// `hvc #imm16`: #0 ends the run, #1 to #65535 are sync points.
        public static let syncPoint: ClosedRange<UInt64> = 1...0xFFFF
        /// One [[host]] access (1 GiB): the harness performs it a MiB at a time, checking the
        /// wall-clock limit between pieces; it must also lie inside its region.
        public static let hostAccessSize: ClosedRange<UInt64> = 1...0x4000_0000
    }
}

extension Manifest {
    /// Reads, parses and checks a manifest; every error names the file, the line and the field.
    public init(contentsOf url: URL, displayPath: String) throws(FormatError) {
        try self.init(try TOMLTable(contentsOf: url, displayPath: displayPath))
    }

    public init(parsing text: String, file: String) throws(FormatError) {
        try self.init(try TOMLTable(parsing: text, file: file))
    }

    /// From a file's bytes, as `init(contentsOf:displayPath:)` reads them (malformed UTF-8 is
    /// an error at its line).
    init(utf8 bytes: [UInt8], file: String) throws(FormatError) {
        try self.init(try TOMLTable(utf8: bytes, file: file))
    }

    init(_ root: TOMLTable) throws(FormatError) {
        try root.rejectUnknownKeys(allowed: ["description", "image", "run", "memory", "virtual_window", "observed",
                                             "dma", "host", "expect", "migrate"])
        description = try root.optional("description") ?? ""
        let image = try root.table("image")
        try image.rejectUnknownKeys(allowed: ["text", "entry"])
        textAddress = try image.uint64("text")
        if textAddress >= Limits.physicalAddressLimit {
            throw image.fieldError("text", "\(hex(textAddress)) is not below \(Self.physicalLimitText)")
        }
        // A64 instructions are 32-bit words; a misaligned PC is a PC alignment fault (Arm ARM).
        if textAddress % 4 != 0 { throw image.fieldError("text", "\(hex(textAddress)) is not 4-byte aligned") }
        entry = try image.optional("entry") ?? "_start"
        // The name is pasted into a linker script (ENTRY(...)): only a plain symbol is safe there.
        if !Self.isPlainSymbol(entry) {
            throw image.fieldError("entry", "\(entry.debugDescription) is not a plain assembler symbol "
                + "(a letter, '_', '.' or '$', then letters, digits, '_', '.' or '$')")
        }
        entryField = FieldLocation(file: image.file, line: image["entry"]?.line ?? image.line,
                                   field: image.fieldPath("entry"))
        let run = try root.optional("run", as: TOMLTable.self)
        try run?.rejectUnknownKeys(allowed: ["budget", "timeout_ms", "stack", "schedule_cap"])
        scheduleCap = Int(try run?.optional("schedule_cap", in: Limits.scheduleCap, "a number of schedules")
            ?? UInt64(Self.defaultScheduleCap))
        budget = Int(try run?.optional("budget", in: Limits.budget, "a number of instructions")
            ?? UInt64(Self.defaultBudget))
        timeoutMilliseconds = Int(try run?.optional("timeout_ms", in: Limits.timeoutMilliseconds, "a number of milliseconds")
            ?? UInt64(Self.defaultTimeoutMilliseconds))
        stack = try run?.optional("stack")
        if let run, let stack {
            // The top of the stack may be the end of RAM (exclusive), so 2^48 itself is allowed.
            if stack > Limits.physicalAddressLimit {
                throw run.fieldError("stack", "\(hex(stack)) is above \(Self.physicalLimitText)")
            }
            // SP alignment checking (Arm ARM, SCTLR_EL1.SA): SP-based accesses need 16 bytes.
            if stack % 16 != 0 { throw run.fieldError("stack", "\(hex(stack)) is not 16-byte aligned") }
        }
        var names = RegionNames()
        (memory, virtualWindows) = try Self.memory(root, names: &names)
        let observed = try Self.observed(root, notOverlapping: memory + virtualWindows, names: &names)
        let dma = try Self.dma(root)
        var host: [HostAction] = []
        for table in try root.arrayOfTables("host") {
            host.append(try Self.hostAction(table, observed: observed, dma: dma))
        }
        (self.observed, self.dma, self.host) = (observed, dma, host)
        var migrations: [Migration] = [], expectations: [Expectation] = []
        for table in try root.arrayOfTables("migrate") { migrations.append(try Self.migration(table)) }
        for table in try root.arrayOfTables("expect") {
            expectations.append(try Self.expectation(table, observed: observed, dma: dma))
        }
        (self.migrations, self.expectations) = (migrations, expectations)
        if !memory.contains(where: { $0.contains(textAddress) }) {
            throw image.fieldError("text", "\(hex(textAddress)) lies in no [[memory]] region")
        }
    }

    static let physicalLimitText = "\(hex(Limits.physicalAddressLimit)) (2^48, the emulated CPU's physical address size)"

    /// `[A-Za-z_.$][A-Za-z0-9_.$]*`: a symbol the assembler and the linker script take as it is.
    static func isPlainSymbol(_ name: String) -> Bool {
        func isStart(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "$"): true
            default: false
            }
        }
        guard let first = name.utf8.first, isStart(first) else { return false }
        return name.utf8.dropFirst().allSatisfy { isStart($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// Region names seen so far, in every kind of region: conditions and [[host]] actions name
    /// regions, so one name must mean one region.
    struct RegionNames {
        var seen: [String: (table: String, line: Int)] = [:]

        mutating func claim(_ name: String, in table: TOMLTable) throws(FormatError) {
            if let first = seen[name] {
                throw table.fieldError("name", "\(name.debugDescription) is already the name of \(first.table) at line \(first.line)")
            }
            seen[name] = (table.path, table["name"]?.line ?? table.line)
        }
    }

    private static func memory(_ root: TOMLTable, names: inout RegionNames) throws(FormatError) -> ([MemoryRegion], [MemoryRegion]) {
        var memory: [MemoryRegion] = [], windows: [MemoryRegion] = []
        let regions = try root.arrayOfTables("memory")
        if regions.isEmpty { throw root.fieldError("memory", "at least one [[memory]] region is needed") }
        for table in regions {
            memory.append(try region(table, notOverlapping: memory, names: &names, space: .physical))
        }
        for table in try root.arrayOfTables("virtual_window") {
            windows.append(try region(table, notOverlapping: memory + windows, names: &names, space: .virtual))
        }
        return (memory, windows)
    }

    private static func observed(_ root: TOMLTable, notOverlapping others: [MemoryRegion],
                                 names: inout RegionNames) throws(FormatError) -> [ObservedRegion] {
        var observed: [ObservedRegion] = []
        for table in try root.arrayOfTables("observed") {
            let region = try region(table, notOverlapping: others
                + observed.map { MemoryRegion(name: $0.name, base: $0.base, size: $0.size) }, names: &names,
                space: .physical, extraKeys: ["kind", "init"])
            let kindName = try table.string("kind")
            guard let kind = RegionKind(rawValue: kindName) else {
                throw table.fieldError("kind", "'\(kindName)' is not one of \(RegionKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let initial = try table.optional("init", as: UInt64.self) ?? 0
            if initial > 0xFF { throw table.fieldError("init", "\(hex(initial)) is not a byte") }
            observed.append(ObservedRegion(name: region.name, kind: kind, base: region.base, size: region.size,
                                           initial: UInt8(initial)))
        }
        return observed
    }

    private static func dma(_ root: TOMLTable) throws(FormatError) -> [DMAMaster] {
        var dma: [DMAMaster] = []
        for table in try root.arrayOfTables("dma") {
            try table.rejectUnknownKeys(allowed: ["name", "coherent"])
            let master = DMAMaster(name: try table.string("name"), coherent: try table.bool("coherent"))
            if master.name == "vmm" || master.name == "guest" || dma.contains(where: { $0.name == master.name }) {
                throw table.fieldError("name", "'\(master.name)' is already an observer's name")
            }
            dma.append(master)
        }
        return dma
    }

    private static func migration(_ table: TOMLTable) throws(FormatError) -> Migration {
        try table.rejectUnknownKeys(allowed: ["at", "to"])
        let at = try table.uint64("at")
        if !Limits.syncPoint.contains(at) { throw table.fieldError("at", "a sync point is hvc #1 to #65535") }
        let to = try table.string("to")
        guard to == "fwb" || to == "non-fwb" else { throw table.fieldError("to", "'\(to)' is not fwb or non-fwb") }
        return Migration(at: Int(at), toFWB: to == "fwb")
    }

    private static func expectation(_ table: TOMLTable, observed: [ObservedRegion], dma: [DMAMaster]) throws(FormatError) -> Expectation {
        try table.rejectUnknownKeys(allowed: ["policy", "policies", "condition", "reason", "xfail"])
        var policies = try table.array("policies", of: String.self)
        if let single = try table.optional("policy", as: String.self) { policies.append(single) }
        if policies.isEmpty { throw table.fieldError("policies", "name at least one policy") }
        let text = try table.string("condition")
        let condition: Condition
        do {
            condition = try Condition(parsing: text)
        } catch {
            throw table.fieldError("condition", error.description)
        }
        // A name that is not the snippet's would never match: the condition could not fail.
        let names = condition.names
        let observers = ["guest", "vmm"] + dma.map(\.name)
        if let unknown = names.observers.first(where: { !observers.contains($0) }) {
            throw table.fieldError("condition", "'\(unknown)' is not an observer of this snippet (\(observers.joined(separator: ", ")))")
        }
        if let unknown = names.regions.first(where: { name in !observed.contains { $0.name == name } }) {
            throw table.fieldError("condition", "no [[observed]] region is named '\(unknown)' (\(observed.map(\.name).joined(separator: ", ")))")
        }
        return Expectation(policies: policies, condition: condition, reason: try table.string("reason"),
                           xfail: try table.optional("xfail"), line: table["condition"]?.line ?? table.line)
    }

    private static func hostAction(_ table: TOMLTable, observed: [ObservedRegion], dma: [DMAMaster]) throws(FormatError) -> HostAction {
        try table.rejectUnknownKeys(allowed: ["at", "observer", "action", "region", "offset", "size", "value", "label"])
        let at = try table.uint64("at")
        if !Limits.syncPoint.contains(at) { throw table.fieldError("at", "a sync point is hvc #1 to #65535") }
        let observer = try table.string("observer")
        if observer != "vmm" && !dma.contains(where: { $0.name == observer }) {
            throw table.fieldError("observer", "'\(observer)' is neither 'vmm' nor a [[dma]] master")
        }
        let actionName = try table.string("action")
        guard let action = HostAction.Action(rawValue: actionName) else {
            throw table.fieldError("action", "'\(actionName)' is not read or write")
        }
        let regionName = try table.string("region")
        guard let region = observed.first(where: { $0.name == regionName }) else {
            throw table.fieldError("region", "no [[observed]] region is named '\(regionName)'")
        }
        let offset = try table.optional("offset", as: UInt64.self) ?? 0
        let size = try table.optional("size", in: Limits.hostAccessSize, "a number of bytes") ?? 8
        if offset >= region.size || size > region.size - offset {
            throw table.fieldError("size", "offset \(hex(offset)) + size \(hex(size)) does not fit region '\(regionName)' (\(hex(region.size)) bytes)")
        }
        let value = try table.optional("value", as: UInt64.self)
        if action == .write && value == nil { throw table.fieldError("value", "a write needs a value") }
        let label = try table.optional("label", as: String.self) ?? "\(observer) \(actionName) \(regionName)+\(hex(offset)) at sync \(at)"
        return HostAction(at: Int(at), observer: observer, action: action, region: regionName, offset: offset,
                          size: size, value: value ?? 0, label: label)
    }

    /// Whether a region holds physical addresses ([[memory]], [[observed]]) or virtual ones.
    enum AddressSpace { case physical, virtual }

    private static func region(_ table: TOMLTable, notOverlapping others: [MemoryRegion], names: inout RegionNames,
                               space: AddressSpace, extraKeys: Set<String> = []) throws(FormatError) -> MemoryRegion {
        try table.rejectUnknownKeys(allowed: Set(["name", "base", "size"]).union(extraKeys))
        let name = try table.string("name")
        try names.claim(name, in: table)
        let region = MemoryRegion(name: name, base: try table.uint64("base"), size: try table.uint64("size"))
        // Unicorn maps whole 4 KB pages (uc_mem_map rejects anything else).
        if region.base % Limits.pageSize != 0 { throw table.fieldError("base", "\(hex(region.base)) is not 4 KB aligned") }
        if region.size == 0 || region.size % Limits.pageSize != 0 {
            throw table.fieldError("size", "\(hex(region.size)) is not a non-zero multiple of 4 KB")
        }
        let (end, overflow) = region.base.addingReportingOverflow(region.size)
        if overflow {
            throw table.fieldError("size", "\(hex(region.size)) runs past the top of the address space")
        }
        switch space {
        case .physical:
            if region.base >= Limits.physicalAddressLimit {
                throw table.fieldError("base", "\(hex(region.base)) is not below \(physicalLimitText)")
            }
            if end > Limits.physicalAddressLimit {
                throw table.fieldError("size", "\(hex(region.base)) + \(hex(region.size)) runs past \(physicalLimitText)")
            }
        case .virtual:
            if end > Limits.physicalAddressLimit && region.base < Limits.upperVirtualRangeStart {
                throw table.fieldError("base", "\(hex(region.base)) + \(hex(region.size)) is neither below "
                    + "\(hex(Limits.physicalAddressLimit)) (TTBR0_EL1) nor at or above \(hex(Limits.upperVirtualRangeStart)) "
                    + "(TTBR1_EL1), the ranges of 48-bit virtual addresses")
            }
        }
        if let other = others.first(where: { $0.base < region.end && region.base < $0.end }) {
            throw table.fieldError("base", "region '\(region.name)' overlaps region '\(other.name)'")
        }
        return region
    }
}
