import AArch64

/// One guest access that the hypervisor trapped: a VM control register written (HCR_EL2.TVM)
/// or read (HCR_EL2.TRVM), or a data cache operation by set/way (HCR_EL2.TSW).
public struct TrappedAccess: Sendable, Equatable {
    public enum Direction: String, Sendable, Codable {
        case write, read
        /// A system instruction (DC ... by set/way).
        case operation
    }

    /// The register or instruction in the architecture's spelling (`MAIR_EL1`, `DC CISW`).
    public let name: String
    public let direction: Direction
    /// The value the guest wrote, or was given on a read.
    public let value: UInt64
    /// The value the hardware register holds after the trap (writes).
    public let loaded: UInt64
    public let path: ExitPath
    /// The host cleaned the VM's stage 2 to PoC while handling it.
    public let stage2Flush: Bool
    /// The guest PC and site (`symbol+offset`).
    public let pc: UInt64
    public let site: String
    /// MAIR_EL1 writes under a rewrite: index by index.
    public let mairChanges: [MAIRIndexChange]

    public init(name: String, direction: Direction, value: UInt64, loaded: UInt64, path: ExitPath,
                stage2Flush: Bool = false, pc: UInt64, site: String, mairChanges: [MAIRIndexChange] = []) {
        self.name = name
        self.direction = direction
        self.value = value
        self.loaded = loaded
        self.path = path
        self.stage2Flush = stage2Flush
        self.pc = pc
        self.site = site
        self.mairChanges = mairChanges
    }
}

/// Every trapped access of one run, in order, with the counts the reports show.
public struct TrapLog: Sendable, Equatable {
    public private(set) var accesses: [TrappedAccess] = []

    public init() {}

    public mutating func record(_ access: TrappedAccess) { accesses.append(access) }

    public var total: Int { accesses.count }

    public var byRegister: [String: Int] { count(\.name) }
    public var bySite: [String: Int] { count(\.site) }
    public var byPath: [String: Int] { count(\.path.rawValue) }
    public var fastPath: Int { accesses.count { $0.path == .fastPath } }
    public var fullExits: Int { accesses.count { $0.path == .fullExit } }
    public var stage2Flushes: Int { accesses.count { $0.stage2Flush } }

    private func count(_ key: (TrappedAccess) -> String) -> [String: Int] {
        accesses.reduce(into: [:]) { $0[key($1), default: 0] += 1 }
    }
}
