import AArch64
import Coherency
import Foundation
import Hypervisor

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
}

extension Manifest {
    /// Reads, parses and checks a manifest; every error names the file, the line and the field.
    public init(contentsOf url: URL, displayPath: String) throws(FormatError) {
        try self.init(try TOMLTable(contentsOf: url, displayPath: displayPath))
    }

    public init(parsing text: String, file: String) throws(FormatError) {
        try self.init(try TOMLTable(parsing: text, file: file))
    }

    init(_ root: TOMLTable) throws(FormatError) {
        try root.rejectUnknownKeys(allowed: ["description", "image", "run", "memory", "virtual_window", "observed",
                                             "dma", "host", "expect", "migrate"])
        description = try root.optional("description") ?? ""
        let image = try root.table("image")
        try image.rejectUnknownKeys(allowed: ["text", "entry"])
        textAddress = try image.uint64("text")
        entry = try image.optional("entry") ?? "_start"
        entryField = FieldLocation(file: image.file, line: image["entry"]?.line ?? image.line,
                                   field: image.fieldPath("entry"))
        let run = try root.optional("run", as: TOMLTable.self)
        try run?.rejectUnknownKeys(allowed: ["budget", "timeout_ms", "stack", "schedule_cap"])
        scheduleCap = Int(try run?.optional("schedule_cap", as: UInt64.self) ?? UInt64(Self.defaultScheduleCap))
        budget = Int(try run?.optional("budget", as: UInt64.self) ?? UInt64(Self.defaultBudget))
        if let run, budget == 0 { throw run.fieldError("budget", "must be at least 1 instruction") }
        timeoutMilliseconds = Int(try run?.optional("timeout_ms", as: UInt64.self) ?? UInt64(Self.defaultTimeoutMilliseconds))
        stack = try run?.optional("stack")
        (memory, virtualWindows) = try Self.memory(root)
        let observed = try Self.observed(root, notOverlapping: memory + virtualWindows), dma = try Self.dma(root)
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

    private static func memory(_ root: TOMLTable) throws(FormatError) -> ([MemoryRegion], [MemoryRegion]) {
        var memory: [MemoryRegion] = [], windows: [MemoryRegion] = []
        let regions = try root.arrayOfTables("memory")
        if regions.isEmpty { throw root.fieldError("memory", "at least one [[memory]] region is needed") }
        for table in regions {
            memory.append(try region(table, notOverlapping: memory))
        }
        for table in try root.arrayOfTables("virtual_window") {
            windows.append(try region(table, notOverlapping: memory + windows))
        }
        return (memory, windows)
    }

    private static func observed(_ root: TOMLTable, notOverlapping others: [MemoryRegion]) throws(FormatError) -> [ObservedRegion] {
        var observed: [ObservedRegion] = []
        for table in try root.arrayOfTables("observed") {
            let region = try region(table, notOverlapping: others
                + observed.map { MemoryRegion(name: $0.name, base: $0.base, size: $0.size) }, extraKeys: ["kind", "init"])
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
        if at == 0 || at > 0xFFFF { throw table.fieldError("at", "a sync point is hvc #1 to #65535") }
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
        if at == 0 || at > 0xFFFF { throw table.fieldError("at", "a sync point is hvc #1 to #65535") }
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
        let size = try table.optional("size", as: UInt64.self) ?? 8
        if size == 0 || offset >= region.size || size > region.size - offset {
            throw table.fieldError("size", "offset \(hex(offset)) + size \(hex(size)) does not fit region '\(regionName)' (\(hex(region.size)) bytes)")
        }
        let value = try table.optional("value", as: UInt64.self)
        if action == .write && value == nil { throw table.fieldError("value", "a write needs a value") }
        let label = try table.optional("label", as: String.self) ?? "\(observer) \(actionName) \(regionName)+\(hex(offset)) at sync \(at)"
        return HostAction(at: Int(at), observer: observer, action: action, region: regionName, offset: offset,
                          size: size, value: value ?? 0, label: label)
    }

    private static func region(_ table: TOMLTable, notOverlapping others: [MemoryRegion],
                               extraKeys: Set<String> = []) throws(FormatError) -> MemoryRegion {
        try table.rejectUnknownKeys(allowed: Set(["name", "base", "size"]).union(extraKeys))
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
