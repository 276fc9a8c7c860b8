import AArch64
import Coherency
import Formats
import Hypervisor
import Unicorn

extension GuestExecution {
    // MARK: exceptions

    /// Unicorn numbers (unicorn-2.0.1.md): 1 UNDEF (also HVC with EL2 absent), 2 SVC,
    /// 3 prefetch abort, 4 data abort, 7 BRK, 13 SMC.
    func exception(_ intno: UInt32) {
        enterFromEmulator()
        guard ending == nil else { return }
        let pc = machine.pc
        // The block was left at pc: SVC and SMC report the PC after themselves, everything
        // else the instruction that trapped or faulted (unicorn-2.0.1.md).
        fast.correct(at: pc, begun: intno != 2 && intno != 13)
        if deliversToGuest(intno, pc: pc) { return }
        switch intno {
        case 1:
            if let pa = try? translate(pc), let word = try? machine.read32(at: pa),
               let instruction = ExceptionGeneratingInstruction(word: word), instruction.kind == .hvc {
                // On the board HVC is the PSCI conduit; `hvc #0` ends only a snippet.
                if board != nil { return firmwareCall(.hvc, pc: pc) }
                hypercall(Int(instruction.immediate), pc: pc)
            } else {
                end(fault: .undefinedInstruction, pc: pc, detail: "UNDEFINED at EL1 (or trapped by EL2/EL3)")
            }
        case 2: end(fault: .supervisorCall, pc: pc &- 4, detail: "SVC: no EL1 vectors are emulated")
        case 3: end(fault: .prefetchAbort, pc: pc, detail: "instruction fetch aborted")
        case 4: dataAbort(pc: pc)
        case 7: end(fault: .breakpoint, pc: pc, detail: "BRK")
        case 13 where board != nil: firmwareCall(.smc, pc: pc &- 4)
        case 13: end(fault: .secureMonitorCall, pc: pc, detail: "SMC: no EL3 firmware is emulated")
        default: end(fault: .otherException, pc: pc, detail: "exception \(intno)")
        }
    }

    /// `hvc #0` ends the run with x0 as the exit status; `hvc #N` is sync point N.
    func hypercall(_ imm: Int, pc: UInt64) {
        checkIllegalExecutionState(pc: pc)
        guard ending == nil else { return }
        if imm == 0 {
            shared?.finish()
            let status = (try? machine.read(.x(0))) ?? 0
            ending = RunEnding(status: .completed, exitStatus: status, fault: nil,
                               message: "completed at \(site(pc)) with exit status \(status)")
            fast.end()
            machine.stop()
        } else {
            sync.points.append(SyncPoint(id: imm, site: site(pc), instructions: instructions))
            syncPoint(imm)
            // A PC write would restart emulation and lose the stop of a refused migration.
            if ending == nil { try? machine.write(.pc, pc + 4) }
        }
    }

    /// At a sync point: the host's actions and migrations.
    func syncPoint(_ id: Int) {
        guard let shared, let manifest = loaded?.manifest else { return }
        for action in manifest.host where action.at == id {
            // The wall-clock limit covers the host's side too (a large region read or written).
            guard shared.perform(action, dma: manifest.dma, expired: { fast.deadlinePassed }) else {
                ending = limits.timedOut(at: site(machine.pc))
                fast.end()
                machine.stop()
                return
            }
        }
        for migration in manifest.migrations where migration.at == id {
            migrate(migration)
        }
    }

    /// Live migration at a sync point (seed 001): refused for a cacheable stage-2 device
    /// mapping to a non-FWB host; otherwise the source cleans the VM and the target maps anew.
    func migrate(_ migration: Manifest.Migration) {
        guard let shared else { return }
        let policy = controller.policy
        for region in shared.regions where shared.attributes.types[region.name] != nil {
            if let reason = policy.migrationRefusal(toFWB: migration.toFWB, touched: region.kind) {
                return end(fault: .migrationRefused, pc: machine.pc,
                           detail: "migration refused: region '\(region.name)' \(reason)")
            }
        }
        shared.migrated()
        controller.migrate(toFWB: migration.toFWB)
        updateFilters()
        sync.migrations.append("at sync \(migration.at) to \(migration.toFWB ? "an FWB host" : "a non-FWB host")")
    }

    // MARK: faults

    func dataAbort(pc: UInt64) {
        if alignmentAbort(pc: pc) { return }
        guard let access = fast.lastAccess else { return end(fault: .dataAbort, pc: pc, detail: "data abort") }
        let verb = access.kind == .write ? "write" : "read"
        end(fault: .dataAbort, pc: pc, address: access.virtualAddress,
            detail: "\(access.size)-byte \(verb) of VA \(hex(access.virtualAddress)): \(describeWalk(of: access.virtualAddress))")
    }

    func end(fault kind: GuestFault.Kind, pc: UInt64, address: UInt64? = nil, detail: String) {
        nameSitesAfterRelocation()
        let site = self.site(pc)
        // A misaligned PC names no instruction (its bytes straddle two).
        let fault = GuestFault(kind: kind, pc: hex(pc), site: site, instruction: pc & 3 == 0 ? program.disassemble(at: pc) : nil,
                               address: address.map(hex), detail: detail)
        let at = fault.instruction.map { "\(site) (\($0))" } ?? site
        ending = RunEnding(status: .guestFault, exitStatus: nil, fault: fault, message: "\(kind.rawValue) at \(at): \(detail)")
        fast.end()
        machine.stop()
    }

    /// A guest VA through the guest's stage 1 as the registers stand now.
    func translate(_ va: UInt64) throws -> UInt64 {
        try machine.translationRegisters.stage1.translate(va, access: .instructionFetch,
                                                          reader: PhysicalMemory(machine: machine)).outputAddress
    }

    /// Why an access aborted, in the words of the harness's own stage-1 walk.
    func describeWalk(of va: UInt64) -> String {
        let walker = machine.translationRegisters.stage1
        guard walker.isTranslationEnabled else { return "MMU off: the access was to physical \(hex(va))" }
        do {
            let translation = try walker.translate(va, reader: PhysicalMemory(machine: machine))
            return "stage 1 maps it to PA \(hex(translation.outputAddress)), which no memory region covers"
        } catch {
            return "\(error)"
        }
    }
}
