import AArch64
import Unicorn

/// An exception entry to EL1 the harness has asked QEMU to make, finished in the vector's
/// first block.
struct PendingEntry {
    let syndrome: UInt32
    let faultAddress: UInt64
    let vbar: UInt64
    let hcr: UInt64
    /// Where the architecture says the entry lands (VBAR_EL1 + the vector's offset).
    let vector: UInt64
    /// PSTATE.I was set and was cleared so that the virtual IRQ carrying the entry is taken.
    let clearedI: Bool
}

/// Synchronous exceptions taken to the guest's own vectors (Arm ARM D1.x, "Exception entry"):
/// Unicorn 2.0.1 stops in a host hook instead (unicorn-2.0.1.md). The harness makes QEMU
/// perform a real entry - a virtual IRQ (HCR_EL2.IMO and VI) with VBAR_EL1 moved back by 0x80,
/// so that the IRQ lands on the synchronous vector of the same group - which sets ELR_EL1 to
/// the preferred return address, SPSR_EL1 from PSTATE, PSTATE to EL1h with DAIF masked, swaps
/// the stack pointers and changes the emulator's own idea of the EL (from EL0 too); then, in
/// the vector's first block, it restores VBAR_EL1 and HCR_EL2 and writes the syndrome and fault
/// address QEMU computed for the real exception into ESR_EL1 and FAR_EL1
/// (unicorn-exceptions.md Q3, "VIRQ entry"). Only once the guest has written VBAR_EL1: before
/// that the vector is UNKNOWN, and the exception ends the run as a fault.
extension GuestExecution {
    /// SPSR_EL1 by CP_REG (no named Unicorn id in 2.0.1).
    private static let spsrAddress = SystemRegisterAddress(op0: 3, op1: 0, crn: 4, crm: 0, op2: 0)
    private static let imo: UInt64 = 1 << 4, vi: UInt64 = 1 << 7
    private static let irqMask: UInt64 = 1 << 7

    /// Takes exception `intno` (Unicorn's number) at the guest's vector, or returns false when
    /// it stays the harness's: HVC and SMC (the hypervisor's and firmware's conduits), and any
    /// exception before the guest installed its vectors.
    func deliversToGuest(_ intno: UInt32, pc: UInt64) -> Bool {
        guard fast.vectorsInstalled, pendingEntry == nil, intno != 13, [1, 2, 3, 4, 7].contains(intno) else { return false }
        if intno == 1, let word = instructionWord(at: pc), ExceptionGeneratingInstruction(word: word)?.kind == .hvc {
            return false
        }
        guard let (syndrome, faultAddress) = machine.exceptionSyndrome() else { return false }
        return beginEntry(syndrome: syndrome, faultAddress: faultAddress)
    }

    /// Asks QEMU for the entry that will carry a synchronous exception with this syndrome.
    private func beginEntry(syndrome: UInt32, faultAddress: UInt64) -> Bool {
        guard let pstate = try? machine.read(.pstate), let vbar = try? machine.read(.VBAR_EL1),
              let hcr = try? machine.readSystemRegister(Machine.hcrEL2) else { return false }
        let el = (pstate >> 2) & 3
        guard el <= 1 else { return false }
        // Arm ARM D1.x, vector offsets: current EL with SP_EL0 0x000, with SP_ELx 0x200, lower EL
        // using AArch64 0x400 (synchronous: +0).
        let offset: UInt64 = el == 0 ? 0x400 : (pstate & 1 != 0 ? 0x200 : 0)
        let clearI = pstate & Self.irqMask != 0
        do {
            if clearI { try machine.write(.pstate, pstate & ~Self.irqMask) }
            try machine.write(.VBAR_EL1, vbar &- 0x80)
            try machine.writeSystemRegister(Machine.hcrEL2, hcr | Self.imo | Self.vi)
        } catch {
            return false
        }
        pendingEntry = PendingEntry(syndrome: syndrome, faultAddress: faultAddress, vbar: vbar, hcr: hcr,
                                    vector: vbar &+ offset, clearedI: clearI)
        fast.entryPending = true
        return true
    }

    /// An access Unicorn refused because no region covers its VA (2.0.1 checks VAs before
    /// translating). When the guest's stage 1 maps it to existing memory it is performed after
    /// all (a placeholder page at the VA); otherwise it is the abort the architecture gives, at
    /// the guest's vector: the walk's fault, or a synchronous external abort (FSC 0b010000) when
    /// the walk reaches a PA nothing backs, as QEMU's virt answers (kvm-unit-tests' selftest
    /// relies on it). Returns where to restart, or nil when the run must end: no vectors, or the
    /// same abort again with no progress.
    func retryRefusedAccess() -> UInt64? {
        guard pendingEntry == nil, let access = invalidAccess,
              let pstate = try? machine.read(.pstate), (pstate >> 2) & 3 <= 1 else { return nil }
        let fetch = access.kind == .unmappedFetch, write = access.kind == .unmappedWrite
        let pc = fetch ? access.virtualAddress : machine.pc
        let fsc: UInt32
        var registers = machine.translationRegisters
        registers.features = translator.features
        do {
            let pa = try registers.stage1.translate(access.virtualAddress, access: fetch ? .instructionFetch : .data,
                                                    reader: PhysicalMemory(machine: machine)).outputAddress
            if (try? machine.read(1, at: pa)) != nil { return aliasVirtualPage(access.virtualAddress, restartAt: pc) }
            fsc = 0b01_0000
        } catch .fault(let fault) {
            fsc = UInt32(fault.faultStatusCode)
        } catch {
            return nil
        }
        let progress = (pc: pc, instructions: fast.instructions)
        guard fast.vectorsInstalled, lastAbort.map({ $0 != progress }) ?? true else { return nil }
        lastAbort = progress
        // ESR_EL1: instruction abort 0x20 (lower EL) / 0x21 (same EL), data abort 0x24 / 0x25;
        // IL = 1; WnR (bit 6) for a write; no instruction syndrome (ISV = 0).
        let ec: UInt8 = (fetch ? 0x20 : 0x24) | ((pstate >> 2) & 3 == 1 ? 1 : 0)
        let esr = ExceptionSyndrome.other(exceptionClass: ec, il: true, iss: (write ? 1 << 6 : 0) | fsc).esr
        let syndrome = UInt32(truncatingIfNeeded: esr)
        if !fetch { fast.correct(at: pc, begun: true) }
        return beginEntry(syndrome: syndrome, faultAddress: access.virtualAddress) ? pc : nil
    }

    /// The walk maps the refused VA to memory that exists: only the emulator's VA check stood in
    /// the way. A placeholder at the VA (its contents never used: the access reaches the PA)
    /// lets the instruction run again: the largest of 1 GiB, 2 MiB or 4 KiB around it that
    /// overlaps no region, since QEMU 5.0 aborts past 4096 memory sections (at most
    /// `virtualAliasLimit` placeholders per run).
    private func aliasVirtualPage(_ va: UInt64, restartAt pc: UInt64) -> UInt64? {
        guard virtualAliases < Self.virtualAliasLimit else { return nil }
        let sizes: [UInt64] = [1 << 30, 1 << 21, 1 << 12]
        guard sizes.contains(where: { (try? machine.reserveVirtualWindow(va & ~($0 - 1), size: $0)) != nil }) else { return nil }
        virtualAliases += 1
        lastAbort = nil
        fast.correct(at: pc, begun: false)
        return pc
    }

    static let virtualAliasLimit = 256

    /// The first block after the entry: put back what carried it, and write the real syndrome.
    func entryBlock(at address: UInt64) {
        guard let entry = pendingEntry else { return }
        pendingEntry = nil
        let ec = ExceptionClass(syndrome: entry.syndrome)
        do {
            try machine.write(.VBAR_EL1, entry.vbar)
            // Rewriting HCR_EL2 through CP_REG also drops the pending virtual IRQ.
            try machine.writeSystemRegister(Machine.hcrEL2, entry.hcr)
            try machine.write(.ESR_EL1, UInt64(entry.syndrome))
            // FAR_EL1 is written for aborts and PC alignment faults; UNKNOWN (kept) otherwise.
            if ec.reportsFaultAddress { try machine.write(.FAR_EL1, entry.faultAddress) }
            if entry.clearedI {
                let spsr = try machine.readSystemRegister(Self.spsrAddress)
                try machine.writeSystemRegister(Self.spsrAddress, spsr | Self.irqMask)
            }
        } catch {
            return end(fault: .otherException, pc: address, detail: "the exception entry could not be completed: \(error)")
        }
        guard address == entry.vector else {
            return end(fault: .otherException, pc: address,
                       detail: "the emulator entered \(hex(address)) for an exception, not the vector \(hex(entry.vector)): the two disagree")
        }
        exceptionsTaken[ec.name, default: 0] += 1
    }
}
