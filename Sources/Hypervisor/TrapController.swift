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
    public private(set) var shadow = ShadowRegisters()
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
        /// MAIR_EL1 under a rewrite rule (`loaded` is the rewritten value; reports recompute what
        /// changed index by index with `MAIRRewrite.changes`).
        public let rewritten: Bool
    }

    /// The decision for a guest write of `register`, or nil when the write does not trap.
    /// `usedIndices` are the AttrIndx values the guest's live descriptors use (only read by the
    /// `used` rewrite scope).
    public mutating func write(_ register: SystemRegister, value: UInt64, usedIndices: Set<Int> = []) -> WriteDecision? {
        guard tvm, register.isTrappedByTVM else { return nil }
        shadow[register] = value
        var loaded = value
        let rewritten = register == .mairEL1 && policy.rewrite != .none
        if rewritten {
            loaded = MAIRRewrite.loaded(policy.rewrite, scope: policy.rewriteScope, to: value, usedIndices: usedIndices)
        }
        var toggles = false
        if register == .sctlrEL1 {
            toggles = Self.cachesOn(sctlr) != Self.cachesOn(value)
            sctlr = value
        }
        // access_vm_reg calls kvm_toggle_cache after every trapped VM register write: a toggle
        // of the caches flushes stage 2 (a no-op with FWB: kvm_pgtable_stage2_flush returns at
        // once), and with the caches on TVM is cleared until a set/way operation sets it again.
        // The RFC (patch 3) keeps TVM for the guest's life.
        let flush = toggles && !policy.fwb
        if flush { stage2Flushes += 1 }
        if Self.cachesOn(sctlr) && policy.trap != .always { tvm = false }
        let path: ExitPath = policy.handledAtEL2(register, togglesCaches: toggles) ? .fastPath : .fullExit
        return WriteDecision(loaded: loaded, path: path, stage2Flush: flush, rewritten: rewritten)
    }

    /// Under the `used` rewrite scope, the MAIR_EL1 value to load now that the guest's tables
    /// use `usedIndices` (re-evaluated on every trapped write of the translation registers),
    /// or nil when it does not change.
    public func reloadedMAIR(usedIndices: Set<Int>, loaded current: UInt64) -> UInt64? {
        guard policy.rewriteScope == .used, policy.rewrite != .none, let guest = shadow[.mairEL1] else { return nil }
        let result = MAIRRewrite.loaded(policy.rewrite, scope: .used, to: guest, usedIndices: usedIndices)
        return result == current ? nil : result
    }

    /// The trapped writes whose decision depends on their value alone, as things stand: TVM
    /// stays set after them (the guest's caches are off, or the policy traps always: see
    /// `write`), so not SCTLR_EL1 (a write may turn the caches on); under the `used` rewrite
    /// scope not MAIR_EL1, TCR_EL1 or TTBR0/1_EL1 (their writes scan the guest's tables). The
    /// harness then takes such writes in C (an EL2 fast path of its own) and hands them back
    /// with `noteTrivialWrite`.
    public struct TrivialWrites: Sendable, Equatable {
        public let registers: [SystemRegister]
        /// MAIR_EL1: the loaded byte for each guest attribute byte (the identity with no rewrite).
        public let mairTable: [UInt8]
        /// MAIR_EL1: rewrite only the indices up to the highest non-zero byte (`defined`).
        public let definedIndicesOnly: Bool
        public let path: ExitPath
        /// MAIR_EL1 writes are under a rewrite rule.
        public let mairRewritten: Bool
    }

    /// The trivial writes as things stand, or nil when there are none.
    public var trivialWrites: TrivialWrites? {
        guard tvm, policy.trap == .always || !Self.cachesOn(sctlr) else { return nil }
        let scans = policy.rewrite != .none && policy.rewriteScope == .used
        let registers = SystemRegister.allCases.filter {
            $0.isTrappedByTVM && $0 != .sctlrEL1 && !(scans && [.mairEL1, .tcrEL1, .ttbr0EL1, .ttbr1EL1].contains($0))
        }
        return TrivialWrites(registers: registers, mairTable: MAIRRewrite.table(policy.rewrite),
                             definedIndicesOnly: policy.rewriteScope == .defined,
                             path: policy.handledAtEL2(.mairEL1, togglesCaches: false) ? .fastPath : .fullExit,
                             mairRewritten: policy.rewrite != .none)
    }

    /// Trivial writes of `register` were taken elsewhere, the last of them writing `value`:
    /// the guest's own value is now that one (nothing else of the controller changes).
    public mutating func noteTrivialWrite(_ register: SystemRegister, _ value: UInt64) {
        assert(trivialWrites?.registers.contains(register) == true, "a write taken as trivial while it is not")
        shadow[register] = value
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
    /// emulates it at the host (`kvm_set_way_flush`): one made while TVM is clear cleans the
    /// whole VM to PoC (nothing to clean with FWB) and sets TVM, whatever the policy, to catch
    /// the caches being turned off; `kvm_toggle_cache` clears it again once they are on.
    public mutating func setWay() -> SetWayDecision? {
        guard policy.trapSetWay else { return nil }
        guard !tvm else { return SetWayDecision(path: .fullExit, stage2Flush: false) }
        tvm = true
        guard !policy.fwb else { return SetWayDecision(path: .fullExit, stage2Flush: false) }
        stage2Flushes += 1
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

/// The guest's own values of the registers it wrote, by register ordinal (written on every
/// trapped access: an array, not a dictionary).
public struct ShadowRegisters: Sendable, Equatable {
    private var values = [UInt64?](repeating: nil, count: SystemRegister.allCases.count)

    public subscript(register: SystemRegister) -> UInt64? {
        get { values[register.ordinal] }
        set { values[register.ordinal] = newValue }
    }
}
