import AArch64
import Coherency
import Hypervisor
import Unicorn

extension GuestExecution {
    /// The MSR hook is the TVM trap (Unicorn never enters EL2): the controller decides what
    /// the real register holds; a rewritten value is loaded by the host and the MSR skipped.
    func systemRegisterWrite(_ insn: SystemInstruction) -> SystemInstructionAction {
        guard ending == nil, let register = SystemRegister(encoding: insn.address.encoding) else { return .execute }
        guard let decision = controller.write(register, value: insn.value, usedIndices: usedIndices(after: register, insn.value))
        else { return .execute }
        let pc = machine.pc
        traps.record(TrappedAccess(.register(register), direction: .write, value: insn.value, loaded: decision.loaded,
                                   path: decision.path, stage2Flush: decision.stage2Flush, rewritten: decision.rewritten, pc: pc))
        if decision.stage2Flush { shared?.stage2Flush("KVM flushes stage 2: the guest toggled its caches (kvm_toggle_cache)") }
        let action: SystemInstructionAction
        if decision.loaded != insn.value {
            try? machine.writeSystemRegister(insn.address, decision.loaded)
            action = .skip
        } else {
            action = .execute
        }
        reloadMAIRIfUsedIndicesChanged(after: register, value: insn.value)
        return action
    }

    /// The AttrIndx values the guest's tables use, as they will stand after this write (only
    /// for the `used` rewrite scope, which needs them).
    private func usedIndices(after register: SystemRegister, _ value: UInt64) -> Set<Int> {
        guard controller.policy.rewriteScope == .used, controller.policy.rewrite != .none else { return [] }
        var registers = machine.translationRegisters
        switch register {
        case .sctlrEL1: registers.sctlr = value
        case .tcrEL1: registers.tcr = value
        case .ttbr0EL1: registers.ttbr0 = value
        case .ttbr1EL1: registers.ttbr1 = value
        default: break
        }
        return registers.stage1.attributeIndicesInUse(reader: PhysicalMemory(machine: machine)) ?? []
    }

    /// Under the `used` scope, a trapped write of the translation registers makes the
    /// hypervisor load MAIR_EL1 again for the indices now in use.
    private func reloadMAIRIfUsedIndicesChanged(after register: SystemRegister, value: UInt64) {
        guard [.sctlrEL1, .tcrEL1, .ttbr0EL1, .ttbr1EL1].contains(register), controller.policy.rewriteScope == .used,
              let current = try? machine.read(.MAIR_EL1), let guest = controller.shadow[.mairEL1],
              let reload = controller.reloadedMAIR(usedIndices: usedIndices(after: register, value), loaded: current)
        else { return }
        try? machine.write(.MAIR_EL1, reload)
        translator.invalidate()
        // Recorded as the guest's value loaded anew (the hypervisor's own write, at EL2).
        traps.record(TrappedAccess(.register(.mairEL1), direction: .write, value: guest, loaded: reload, path: .fastPath,
                                   rewritten: true, pc: machine.pc))
    }

    /// Reads the host answers itself: the generic timer (so runs do not depend on host time),
    /// and VM registers under TRVM (the guest's own value, not a rewritten one).
    func systemRegisterRead(_ insn: SystemInstruction) -> SystemInstructionAction {
        guard ending == nil, let register = SystemRegister(encoding: insn.address.encoding) else { return .execute }
        let value: UInt64
        switch register {
        case .cntfrqEL0: value = VirtualTimer.frequency
        case .cntpctEL0, .cntvctEL0: value = timerCount(at: machine.pc)
        default:
            guard register.isTrappedByTRVM,
                  let hardware = try? machine.readSystemRegister(insn.address),
                  let decision = controller.read(register, hardware: hardware) else { return .execute }
            let pc = machine.pc
            traps.record(TrappedAccess(.register(register), direction: .read, value: decision.value, loaded: hardware,
                                       path: decision.path, pc: pc))
            value = decision.value
        }
        if insn.rt != 31 { try? machine.write(.x(insn.rt), value) }
        return .skip
    }

    /// Cache and TLB maintenance: by set/way a data cache operation traps under HCR_EL2.TSW and
    /// the host emulates it (a stage-2 flush when KVM's rules call for one); by VA it acts on
    /// the model when the line is shared memory; a TLBI drops the translation cache.
    func systemInstruction(_ insn: SystemInstruction) -> SystemInstructionAction {
        guard ending == nil else { return .execute }
        guard let operation = CacheMaintenanceOperation(encoding: insn.address.encoding) else { return .execute }
        if operation.operand == .setWay {
            let pc = machine.pc
            guard let decision = controller.setWay() else {
                shared?.setWay(operation, operand: insn.value, site: site(pc))
                return .execute
            }
            traps.record(TrappedAccess(.operation(operation), direction: .operation, value: insn.value,
                                       loaded: insn.value, path: decision.path, stage2Flush: decision.stage2Flush, pc: pc))
            if decision.stage2Flush { shared?.stage2Flush("KVM flushes stage 2 for a trapped set/way operation (kvm_set_way_flush)") }
            return .skip
        }
        translator.validate(generation: fast.translationGeneration)
        guard operation.operand == .virtualAddress, let shared,
              let part = translator.parts(insn.value, count: 1).first,
              shared.region(containing: part.physicalAddress) != nil else { return .execute }
        return shared.cacheMaintenance(operation, part: part, context: context(pc: machine.pc)) ? .skip : .execute
    }

    /// The virtual count the guest reads at `pc` (CNTVCT_EL0 = CNTPCT_EL0 here), with the time
    /// a WFI skipped: what the C side answers, for the reads it hands over.
    func timerCount(at pc: UInt64) -> UInt64 {
        VirtualTimer.count(afterInstructions: fast.instructions(at: pc)) &+ UInt64(bitPattern: fast.timerOffset)
    }
}
