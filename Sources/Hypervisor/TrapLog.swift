import AArch64

/// One guest access to a virtual-memory control register that HCR_EL2.TVM (writes) or
/// HCR_EL2.TRVM (reads) would trap to EL2 (Arm ARM D13.2.47, HCR_EL2.TVM; the set is
/// `SystemRegister.isTrappedByTVM`).
public struct TrappedAccess: Sendable, Equatable {
    public enum Direction: String, Sendable, Codable { case write, read }

    public let register: SystemRegister
    public let direction: Direction
    /// The value the guest wrote (writes) or was given (reads).
    public let value: UInt64
    /// The value the hardware register holds after the trap is handled (writes).
    public let loaded: UInt64
    /// The guest PC of the MSR/MRS.
    public let pc: UInt64
    /// The guest site, `symbol+offset`.
    public let site: String

    public init(register: SystemRegister, direction: Direction, value: UInt64, loaded: UInt64, pc: UInt64, site: String) {
        self.register = register
        self.direction = direction
        self.value = value
        self.loaded = loaded
        self.pc = pc
        self.site = site
    }
}

/// Every trapped access of one run, in order, with counts by register and by site.
public struct TrapLog: Sendable, Equatable {
    public private(set) var accesses: [TrappedAccess] = []

    public init() {}

    public mutating func record(_ access: TrappedAccess) { accesses.append(access) }

    public var total: Int { accesses.count }

    public var byRegister: [String: Int] {
        accesses.reduce(into: [:]) { $0[$1.register.rawValue, default: 0] += 1 }
    }

    public var bySite: [String: Int] {
        accesses.reduce(into: [:]) { $0[$1.site, default: 0] += 1 }
    }
}

/// The hypervisor's answer to a trapped write: what to load into the real register.
/// (The 2015 RFC's MAIR rewrite and the trap regimes are policies built on this.)
public enum TrapDecision: Sendable, Equatable {
    /// Load the guest's value unchanged.
    case passThrough
    /// Load this value instead of the guest's.
    case load(UInt64)
}

/// The first trap: every TVM register write is trapped, counted and passed through unchanged,
/// as KVM's `access_vm_reg` does for a guest whose caches are already on.
public struct PassThroughTrapHandler: Sendable {
    public init() {}

    public func decide(writing value: UInt64, to register: SystemRegister) -> TrapDecision {
        .passThrough
    }
}
