import AArch64
import Coherency
import Formats
import Hypervisor
import Unicorn

/// Faults the architecture requires and Unicorn 2.0.1 does not raise (unicorn-exceptions.md
/// Q5, unicorn-memory.md): the harness sees the condition and ends the run with the fault.
extension GuestExecution {
    /// SPSR_EL1 and ID_AA64PFR0_EL1 (CP_REG encodings).
    private static let spsrEL1 = SystemRegisterAddress(op0: 3, op1: 0, crn: 4, crm: 0, op2: 0)
    private static let idAA64PFR0 = SystemRegisterAddress(op0: 3, op1: 0, crn: 0, crm: 4, op2: 0)
    static let wfi: UInt32 = 0xD503_207F

    /// Code hooks on the image's exception returns (the PSTATE.IL check at each HVC covers
    /// returns in code the image did not load).
    func installExceptionReturnHooks() throws(UnicornError) {
        for segment in loaded?.image.segments ?? [] where segment.permissions.contains(.execute) {
            let words = segment.bytes.count / 4
            for index in 0..<words {
                let offset = index * 4
                let word = UInt32(segment.bytes[offset]) | UInt32(segment.bytes[offset + 1]) << 8
                    | UInt32(segment.bytes[offset + 2]) << 16 | UInt32(segment.bytes[offset + 3]) << 24
                guard ExceptionReturn.encodings.contains(word) else { continue }
                let address = segment.virtualAddress + UInt64(offset)
                try machine.onCode(range: address...address) { [unowned self] pc, _ in exceptionReturn(at: pc) }
            }
        }
    }

    /// An ERET about to run from EL1: an illegal one ends the run.
    private func exceptionReturn(at pc: UInt64) {
        guard ending == nil, (try? machine.currentEL()) == 1,
              let spsr = try? machine.readSystemRegister(Self.spsrEL1) else { return }
        let pfr0 = (try? machine.readSystemRegister(Self.idAA64PFR0)) ?? 0
        guard let reason = ExceptionReturn.illegalReason(spsr: spsr, aarch32AtEL0: pfr0 & 0xF == 0b0010) else { return }
        let elr = (try? machine.read(.ELR_EL1)).map(hex) ?? "?"
        fast.correct(at: pc, begun: true)
        end(fault: .illegalExceptionReturn, pc: pc,
            detail: "ERET with SPSR_EL1 \(hex(spsr)): \(reason). PSTATE.IL is set and the instruction at ELR_EL1 \(elr) takes an Illegal Execution state exception, which the harness does not deliver")
    }

    /// At an HVC: an exception return the hooks did not see left PSTATE.IL set.
    func checkIllegalExecutionState(pc: UInt64) {
        guard ending == nil, let pstate = try? machine.read(.pstate),
              pstate & ExceptionReturn.illegalExecutionState != 0 else { return }
        end(fault: .illegalExceptionReturn, pc: pc,
            detail: "PSTATE.IL is set: an exception return outside the image's ERET instructions was illegal, and the instructions since should have taken an Illegal Execution state exception")
    }

    /// A data access not aligned to its size, before it is performed.
    func misalignedAccess(_ access: MemoryAccess, pc: UInt64) {
        guard ending == nil, let reason = alignmentFaultReason(access, pc: pc) else { return }
        fast.correct(at: pc, begun: true)
        end(fault: .alignmentFault, pc: pc, address: access.virtualAddress,
            detail: "\(access.size)-byte \(access.kind == .write ? "write" : "read") of VA \(hex(access.virtualAddress)): \(reason)")
    }

    /// Arm ARM B2.5.2 (Alignment of data accesses, ARMv8.0 without FEAT_LSE2): exclusive,
    /// ordered and atomic accesses always; every access while SCTLR_EL1.A = 1; every access to
    /// Device memory (B2.7.2), which includes all data accesses with stage 1 disabled.
    private func alignmentFaultReason(_ access: MemoryAccess, pc: UInt64) -> String? {
        if let word = instructionWord(at: pc), AlignmentRequirement.alwaysChecked(word) != nil {
            return "load/store-exclusive, load-acquire/store-release and atomic accesses must be aligned (Arm ARM B2.5.2)"
        }
        let sctlr = (try? machine.readSystemRegister(SystemRegisterAddress(SystemRegister.sctlrEL1.encoding))) ?? 0
        if sctlr & 0b10 != 0 { return "SCTLR_EL1.A = 1 checks the alignment of every EL1 and EL0 data access (Arm ARM B2.5.2)" }
        guard let type = dataAccessType(at: access.virtualAddress) else { return nil }
        return "\(type) is Device memory, where an unaligned access faults (Arm ARM B2.7.2)"
    }

    /// The Device type a data access to `va` gets now (stage 1 as the registers stand, the
    /// policy's stage 2 for the memory it reaches), or nil when it is Normal or unknown.
    private func dataAccessType(at va: UInt64) -> String? {
        translator.validate(generation: fast.translationGeneration)
        guard let part = translator.parts(va, count: 1).first else { return nil }
        let policy = controller.policy
        let kind = shared?.region(containing: part.physicalAddress)?.kind ?? .ram
        var attribute = part.stage1.attribute
        if case .mapped(let memAttr) = policy.stage2Mapping(for: kind) {
            let stage2 = Stage2Attributes(memAttr: memAttr, fwb: policy.fwb, shareability: .innerShareable)
            guard case .defined(let combined, _) = AttributeCombiner.combine(stage1: part.stage1, stage2: stage2).effective
            else { return nil }
            attribute = combined
        }
        guard case .device = attribute else { return nil }
        return EffectiveType(attribute).rawValue
    }

    /// An exclusive, ordered or atomic access that Unicorn aborted: its address is the base
    /// register (these have no offset), so an unaligned one is named an alignment fault.
    func alignmentAbort(pc: UInt64) -> Bool {
        guard let word = instructionWord(at: pc), let rule = AlignmentRequirement.alwaysChecked(word),
              let va = try? machine.read(rule.base == 31 ? .sp : .x(rule.base)),
              va % UInt64(rule.size) != 0 else { return false }
        end(fault: .alignmentFault, pc: pc, address: va,
            detail: "\(rule.size)-byte access of VA \(hex(va)): load/store-exclusive, load-acquire/store-release and atomic accesses must be aligned (Arm ARM B2.5.2)")
        return true
    }

    /// The run stopped with nothing pending: a WFI (Unicorn returns after it, PC past it).
    func waitForInterrupt(pc: UInt64) -> Bool {
        guard instructionWord(at: pc &- 4) == Self.wfi else { return false }
        ending = RunEnding(status: .waitingForInterrupt, exitStatus: nil, fault: nil,
                           message: "WFI at \(site(pc &- 4)): the guest waits for an interrupt, and the harness delivers none")
        return true
    }

    /// The fetch at `address` is not a multiple of 4.
    func pcAlignmentFault(at address: UInt64) {
        end(fault: .pcAlignmentFault, pc: address, address: address,
            detail: "the PC \(hex(address)) is not a multiple of 4: the fetch takes a PC alignment fault (Arm ARM D1, PC alignment checking)")
    }

    func instructionWord(at pc: UInt64) -> UInt32? {
        guard let pa = try? translate(pc) else { return nil }
        return try? machine.read32(at: pa)
    }
}
