import AArch64

/// How a trapped access was handled.
public enum ExitPath: String, CaseIterable, Sendable, Codable {
    /// At EL2, without leaving the guest's context (the RFC's patch 1; `handle_tx2_tvm`).
    case fastPath = "fast-path"
    /// A full world switch to the host and back.
    case fullExit = "full-exit"
}

/// The hypervisor's side of one vCPU: which traps are set now, the guest's own values of the
/// registers it wrote, and the decision for every trapped access. Pure: the harness asks, the
/// controller answers, nothing here touches an emulator.
public struct TrapController: Sendable {
    /// The policy in force: the one owner of it for a run (a migration changes it here).
    public private(set) var policy: Policy
    /// HCR_EL2.TVM as it stands now.
    public private(set) var tvm: Bool
    /// The guest's own values of the VM registers it wrote (what it reads back under TRVM).
    public private(set) var shadow: [SystemRegister: UInt64] = [:]
    /// Stage-2 cleans to PoC the policy has caused (`stage2_flush_vm`), each a host action.
    public private(set) var stage2Flushes = 0
    /// SCTLR_EL1 as the hypervisor last saw it (at reset, or on a trapped write).
    private var sctlr: UInt64

    public init(policy: Policy, resetSCTLR: UInt64) {
        self.policy = policy
        self.tvm = policy.trap != .none
        self.sctlr = resetSCTLR
    }

    public struct WriteDecision: Sendable, Equatable {
        /// What the real register is loaded with.
        public let loaded: UInt64
        public let path: ExitPath
        /// The write toggled SCTLR_EL1.{M,C} and the host cleaned stage 2 (`kvm_toggle_cache`).
        public let stage2Flush: Bool
        /// For MAIR_EL1 under a rewrite: what changed, index by index.
        public let mairChanges: [MAIRIndexChange]
    }

    /// The decision for a guest write of `register`, or nil when the write does not trap.
    public mutating func write(_ register: SystemRegister, value: UInt64) -> WriteDecision? {
        guard tvm, register.isTrappedByTVM else { return nil }
        shadow[register] = value
        var loaded = value
        var changes: [MAIRIndexChange] = []
        if register == .mairEL1, policy.rewrite != .none {
            (loaded, changes) = MAIRRewrite.apply(policy.rewrite, scope: policy.rewriteScope, to: value)
        }
        var toggles = false
        if register == .sctlrEL1 {
            let wasOn = Self.cachesOn(sctlr), nowOn = Self.cachesOn(value)
            toggles = wasOn != nowOn
            sctlr = value
            if toggles { stage2Flushes += 1 }
            // kvm_toggle_cache: once the guest runs with MMU and caches on, stop trapping.
            if nowOn && policy.trap == .untilCachesOn { tvm = false }
        }
        let path: ExitPath = policy.handledAtEL2(register, togglesCaches: toggles) ? .fastPath : .fullExit
        return WriteDecision(loaded: loaded, path: path, stage2Flush: toggles, mairChanges: changes)
    }

    public struct ReadDecision: Sendable, Equatable {
        public let value: UInt64
        public let path: ExitPath
    }

    /// Under TRVM, the value a guest read of `register` returns (its own last write, else the
    /// hardware's), or nil when the read does not trap.
    public mutating func read(_ register: SystemRegister, hardware: UInt64) -> ReadDecision? {
        guard policy.trvm, tvm, register.isTrappedByTRVM else { return nil }
        return ReadDecision(value: shadow[register] ?? hardware, path: policy.fastPath ? .fastPath : .fullExit)
    }

    public struct SetWayDecision: Sendable, Equatable {
        public let path: ExitPath
        public let stage2Flush: Bool
    }

    /// A data cache operation by set/way (HCR_EL2.TSW), or nil when it does not trap. KVM
    /// emulates it at the host (`kvm_set_way_flush`): the first one while TVM is clear cleans
    /// the whole VM to PoC and sets TVM again, to catch the caches being turned off.
    public mutating func setWay() -> SetWayDecision? {
        guard policy.trapSetWay else { return nil }
        guard !tvm else { return SetWayDecision(path: .fullExit, stage2Flush: false) }
        stage2Flushes += 1
        if policy.trap == .untilCachesOn { tvm = true }
        return SetWayDecision(path: .fullExit, stage2Flush: true)
    }

    /// The VM moved to a host with (or without) FWB: the same policy there.
    public mutating func migrate(toFWB: Bool) {
        policy = policy.migrated(toFWB: toFWB)
    }

    /// SCTLR_EL1.M and .C both set: `vcpu_has_cache_enabled`.
    static func cachesOn(_ sctlr: UInt64) -> Bool {
        SCTLR_EL1.M.isSet(in: sctlr) && SCTLR_EL1.C.isSet(in: sctlr)
    }
}
