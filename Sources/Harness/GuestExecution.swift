import AArch64
import Coherency
import Formats
import Foundation
import Hypervisor
import Unicorn

/// One execution of a snippet's guest: the machine built from the manifest, the image loaded,
/// the hypervisor's hooks installed, run within the budget. Events flow one way: a hook asks a
/// part (the trap controller, shared memory) for a decision and applies the answer; the parts
/// never call back into the run.
final class GuestExecution {
    let loaded: LoadedSnippet
    let options: RunOptions
    let machine: Machine
    /// The hypervisor's side: traps set now, the policy in force (its one owner).
    private var controller: TrapController
    private var traps = TrapRecorder()
    /// The memory more than one observer touches (nil when the snippet observes none).
    let shared: SharedMemory?
    private var counter: InstructionCounter
    private var accesses = AccessTracker()
    private(set) var sync = SyncLog()
    private(set) var ending: RunEnding?

    init(_ loaded: LoadedSnippet, options: RunOptions, chooser: EvictionChooser = EvictionChooser(),
         candidates: Set<UInt64> = []) throws {
        self.loaded = loaded
        self.options = options
        let manifest = loaded.manifest
        counter = InstructionCounter(budget: options.budget ?? manifest.budget,
                                     timeout: .milliseconds(options.timeoutMilliseconds ?? manifest.timeoutMilliseconds))
        shared = manifest.observed.isEmpty ? nil
            : SharedMemory(regions: manifest.observed, candidates: candidates, chooser: chooser)
        do {
            machine = try Machine(model: options.cpu)
            let sctlr = try machine.readSystemRegister(SystemRegisterAddress(SystemRegister.sctlrEL1.encoding))
            controller = TrapController(policy: options.policy, resetSCTLR: sctlr)
        } catch {
            throw HarnessError.unicorn(error)
        }
    }

    /// Builds, runs and reports.
    func run() throws -> RunReport {
        do {
            try Platform.build(machine, for: loaded)
            try mapSharedMemory()
            try installHooks()
            try execute()
            return try report()
        } catch let error as UnicornError {
            throw HarnessError.unicorn(error)
        }
    }

    /// How the run ended, as conditions name it: `completed` or the fault kind.
    var endKind: String {
        guard let ending else { return "running" }
        return ending.fault?.kind.rawValue ?? ending.status.rawValue
    }

    func site(_ pc: UInt64) -> String { loaded.image.symbolize(pc) }

    // MARK: hooks (all installed before the first run: Unicorn compiles them into blocks)

    private func installHooks() throws {
        // Guest instructions begun: a code hook is exact where block sizes are not (a block
        // left early by an exception would be over-counted). Re-executions of the final HVC
        // after the end is signalled are not counted.
        try machine.onCode { [unowned self] _, _ in
            guard ending == nil else { return }
            if counter.count() { machine.stop() }
        }
        try machine.onSystemInstruction(.msr) { [unowned self] insn in timed { systemRegisterWrite(insn) } }
        try machine.onSystemInstruction(.mrs) { [unowned self] insn in timed { systemRegisterRead(insn) } }
        try machine.onSystemInstruction(.sys) { [unowned self] insn in timed { systemInstruction(insn) } }
        try machine.onInterrupt { [unowned self] intno in exception(intno) }
        // Remember the last data access: Unicorn reports aborts without FAR, and this hook sees
        // the access's VA before the abort is raised.
        let tracksSites = shared != nil
        try machine.onMemoryAccess([.read, .write], range: 0...UInt64.max) { [unowned self] access in
            accesses.last = access
            if tracksSites { accesses.assembler.begin(virtualAddress: access.virtualAddress, size: access.size) }
        }
        try machine.onInvalidMemory { [unowned self] access in
            accesses.invalid = access
            return false
        }
    }

    private func timed(_ body: () -> SystemInstructionAction) -> SystemInstructionAction {
        let start = traps.now
        let action = body()
        traps.addHostTime(since: start)
        return action
    }

    private func mapSharedMemory() throws {
        guard let shared else { return }
        for region in shared.regions {
            try machine.mapMMIO(region.base, size: region.size, read: { [unowned self] offset, size in
                accesses.assembler.read(pa: region.base + offset, size: size) { whole in
                    sharedAccess(region, whole, write: nil)
                }
            }, write: { [unowned self] offset, size, value in
                accesses.assembler.write(pa: region.base + offset, size: size, value: value) { whole, bytes in
                    _ = sharedAccess(region, whole, write: bytes)
                }
            })
        }
    }

    /// One whole guest access to shared memory; a refusal ends the run.
    private func sharedAccess(_ region: Manifest.ObservedRegion, _ whole: AccessAssembler.Whole, write bytes: [UInt8]?) -> [UInt8] {
        guard let shared else { return [] }
        // Unicorn syncs PC before a memory hook runs, so it names this access's instruction here
        // too; reading it only for observed accesses keeps the hook on every access cheap.
        let pc = machine.pc
        let answer = shared.guestAccess(region, pa: whole.pa, count: whole.count, write: bytes,
                                        virtualAddress: whole.virtualAddress,
                                        registers: machine.translationRegisters, tables: PhysicalMemory(machine: machine),
                                        policy: controller.policy, site: site(pc))
        switch answer {
        case .served(let bytes):
            return bytes
        case .refused(let name, let reason):
            end(fault: .stage2Refused, pc: pc, detail: "the policy refuses to map region '\(name)' at stage 2: \(reason)")
            return [UInt8](repeating: 0, count: whole.count)
        }
    }

    // MARK: system instructions

    /// The MSR hook is the TVM trap (Unicorn never enters EL2): the controller decides what
    /// the real register holds; a rewritten value is loaded by the host and the MSR skipped.
    private func systemRegisterWrite(_ insn: SystemInstruction) -> SystemInstructionAction {
        guard ending == nil, let register = SystemRegister(encoding: insn.address.encoding),
              let decision = controller.write(register, value: insn.value) else { return .execute }
        let pc = machine.pc
        traps.record(TrappedAccess(name: register.rawValue, direction: .write, value: insn.value, loaded: decision.loaded,
                                   path: decision.path, stage2Flush: decision.stage2Flush, pc: pc, site: site(pc),
                                   mairChanges: decision.mairChanges))
        if decision.stage2Flush { shared?.stage2Flush() }
        guard decision.loaded != insn.value else { return .execute }
        try? machine.writeSystemRegister(insn.address, decision.loaded)
        return .skip
    }

    /// Reads the host answers itself: the generic timer (so runs do not depend on host time),
    /// and VM registers under TRVM (the guest's own value, not a rewritten one).
    private func systemRegisterRead(_ insn: SystemInstruction) -> SystemInstructionAction {
        guard ending == nil, let register = SystemRegister(encoding: insn.address.encoding) else { return .execute }
        let value: UInt64
        switch register {
        case .cntfrqEL0: value = VirtualTimer.frequency
        case .cntpctEL0, .cntvctEL0: value = VirtualTimer.count(afterInstructions: counter.instructions)
        default:
            guard register.isTrappedByTRVM,
                  let hardware = try? machine.readSystemRegister(insn.address),
                  let decision = controller.read(register, hardware: hardware) else { return .execute }
            let pc = machine.pc
            traps.record(TrappedAccess(name: register.rawValue, direction: .read, value: decision.value, loaded: hardware,
                                       path: decision.path, pc: pc, site: site(pc)))
            value = decision.value
        }
        if insn.rt != 31 { try? machine.write(.x(insn.rt), value) }
        return .skip
    }

    /// Cache maintenance: by set/way it traps under HCR_EL2.TSW and the host emulates it (a
    /// stage-2 flush when KVM's rules call for one); by VA it acts on the model when the line is
    /// observed memory.
    private func systemInstruction(_ insn: SystemInstruction) -> SystemInstructionAction {
        guard ending == nil, let operation = CacheMaintenanceOperation(encoding: insn.address.encoding) else {
            return .execute
        }
        if operation.operand == .setWay {
            guard let decision = controller.setWay() else {
                shared?.setWay(operation, operand: insn.value)
                return .execute
            }
            let pc = machine.pc
            traps.record(TrappedAccess(name: operation.rawValue, direction: .operation, value: insn.value,
                                       loaded: insn.value, path: decision.path, stage2Flush: decision.stage2Flush,
                                       pc: pc, site: site(pc)))
            if decision.stage2Flush { shared?.stage2Flush() }
            return .skip
        }
        guard operation.operand == .virtualAddress, let shared else { return .execute }
        let registers = machine.translationRegisters, tables = PhysicalMemory(machine: machine)
        let walker = registers.stage1
        let pa = walker.isTranslationEnabled
            ? (try? walker.translate(insn.value, reader: tables))?.outputAddress : insn.value
        guard let pa, let region = shared.region(containing: pa) else { return .execute }
        let performed = shared.cacheMaintenance(operation, region: region, pa: pa, virtualAddress: insn.value,
                                                registers: registers, tables: tables, policy: controller.policy,
                                                site: site(machine.pc))
        return performed ? .skip : .execute
    }

    // MARK: exceptions

    /// Unicorn numbers (unicorn-2.0.1.md): 1 UNDEF (also HVC with EL2 absent), 2 SVC,
    /// 3 prefetch abort, 4 data abort, 7 BRK, 13 SMC.
    private func exception(_ intno: UInt32) {
        guard ending == nil else { return }
        let pc = machine.pc
        switch intno {
        case 1:
            if let pa = try? translate(pc), let word = try? machine.read32(at: pa),
               let instruction = ExceptionGeneratingInstruction(word: word), instruction.kind == .hvc {
                hypercall(Int(instruction.immediate), pc: pc)
            } else {
                end(fault: .undefinedInstruction, pc: pc, detail: "UNDEFINED at EL1 (or trapped by EL2/EL3)")
            }
        case 2: end(fault: .supervisorCall, pc: pc &- 4, detail: "SVC: no EL1 vectors are emulated")
        case 3: end(fault: .prefetchAbort, pc: pc, detail: "instruction fetch aborted")
        case 4: dataAbort(pc: pc)
        case 7: end(fault: .breakpoint, pc: pc, detail: "BRK")
        case 13: end(fault: .secureMonitorCall, pc: pc, detail: "SMC: no EL3 firmware is emulated")
        default: end(fault: .otherException, pc: pc, detail: "exception \(intno)")
        }
    }

    /// `hvc #0` ends the run with x0 as the exit status; `hvc #N` is sync point N.
    private func hypercall(_ imm: Int, pc: UInt64) {
        if imm == 0 {
            shared?.decide()
            let status = (try? machine.read(.x(0))) ?? 0
            ending = RunEnding(status: .completed, exitStatus: status, fault: nil,
                               message: "completed at \(site(pc)) with exit status \(status)")
            machine.stop()
        } else {
            sync.points.append(SyncPoint(id: imm, site: site(pc), instructions: counter.instructions))
            syncPoint(imm)
            try? machine.write(.pc, pc + 4)
        }
    }

    /// At a sync point: an eviction choice, the host's actions and migrations, another choice.
    private func syncPoint(_ id: Int) {
        guard let shared else { return }
        let manifest = loaded.manifest
        shared.decide()
        for action in manifest.host where action.at == id {
            if let read = shared.perform(action, dma: manifest.dma) { sync.hostReads.append(read) }
        }
        for migration in manifest.migrations where migration.at == id {
            migrate(migration)
        }
        shared.decide()
    }

    /// Live migration at a sync point (seed 001): refused for a cacheable stage-2 device
    /// mapping to a non-FWB host; otherwise the source cleans the VM and the target maps anew.
    private func migrate(_ migration: Manifest.Migration) {
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
        sync.migrations.append("at sync \(migration.at) to \(migration.toFWB ? "an FWB host" : "a non-FWB host")")
    }

    // MARK: faults

    private func dataAbort(pc: UInt64) {
        guard let access = accesses.last else { return end(fault: .dataAbort, pc: pc, detail: "data abort") }
        let verb = access.kind == .write ? "write" : "read"
        end(fault: .dataAbort, pc: pc, address: access.virtualAddress,
            detail: "\(access.size)-byte \(verb) of VA \(hex(access.virtualAddress)): \(describeWalk(of: access.virtualAddress))")
    }

    func end(fault kind: GuestFault.Kind, pc: UInt64, address: UInt64? = nil, detail: String) {
        let site = self.site(pc)
        let fault = GuestFault(kind: kind, pc: hex(pc), site: site, instruction: loaded.disassemble(at: pc),
                               address: address.map(hex), detail: detail)
        let at = fault.instruction.map { "\(site) (\($0))" } ?? site
        ending = RunEnding(status: .guestFault, exitStatus: nil, fault: fault, message: "\(kind.rawValue) at \(at): \(detail)")
        machine.stop()
    }

    /// A guest VA through the guest's stage 1 as the registers stand now.
    private func translate(_ va: UInt64) throws -> UInt64 {
        try machine.translationRegisters.stage1.translate(va, access: .instructionFetch,
                                                          reader: PhysicalMemory(machine: machine)).outputAddress
    }

    /// Why an access aborted, in the words of the harness's own stage-1 walk.
    private func describeWalk(of va: UInt64) -> String {
        let walker = machine.translationRegisters.stage1
        guard walker.isTranslationEnabled else { return "MMU off: the access was to physical \(hex(va))" }
        do {
            let translation = try walker.translate(va, reader: PhysicalMemory(machine: machine))
            return "stage 1 maps it to PA \(hex(translation.outputAddress)), which no memory region covers"
        } catch {
            return "\(error)"
        }
    }

    // MARK: running

    private func execute() throws {
        let manifest = loaded.manifest
        guard let entry = loaded.image.symbol(named: manifest.entry)?.value else {
            throw HarnessError.format(manifest.entryField.error("no symbol '\(manifest.entry)' in \(loaded.snippet.displayPath)"))
        }
        counter.start()
        // `until` is never reached: the guest ends with `hvc #0`.
        let result = Result { () throws(UnicornError) -> StopReason in
            try machine.start(at: entry, until: UInt64.max, count: counter.budget)
        }
        let reason: StopReason
        switch result {
        case .success(let stop): reason = stop
        case .failure(let error):
            guard ending == nil else { return }
            guard error.isUnmappedAccess else { throw error }
            return unmapped(error)
        }
        guard ending == nil else { return }
        ending = counter.ending(reason, at: site(machine.pc))
    }

    private func unmapped(_ error: UnicornError) {
        let invalid = accesses.invalid
        let kind = invalid.map { $0.kind.name } ?? error.name
        let detail = invalid.map { "\(kind) of VA \(hex($0.virtualAddress)): no memory region of the platform covers it" }
            ?? error.description
        end(fault: .unmappedAccess, pc: machine.pc, address: invalid?.virtualAddress, detail: detail)
    }

    private func report() throws -> RunReport {
        var registers: [String: String] = [:]
        for register in SystemRegister.virtualMemoryControlRegisters {
            registers[register.rawValue] = hex64(try machine.readSystemRegister(SystemRegisterAddress(register.encoding)))
        }
        let log = traps.log
        let memoryMiB = Double(loaded.manifest.memory.reduce(0) { $0 + $1.size }) / Double(1 << 20)
        let counts = CostModel.Counts(guestInstructions: counter.instructions, fastPathTraps: log.fastPath,
                                      fullExits: log.fullExits, stage2Flushes: log.stage2Flushes, guestMemoryMiB: memoryMiB)
        var outcome = Outcome(ending: ending!)
        outcome.unpredictable = shared?.attributes.unpredictable ?? []
        outcome.migrations = sync.migrations
        return RunReport(snippet: loaded.snippet.name, snippetHash: loaded.hash, policy: PolicySummary(options.policy),
                         outcome: outcome, guestInstructions: counter.instructions, traps: TrapSummary(log),
                         rewrites: log.accesses.filter { !$0.mairChanges.isEmpty }.map(MAIRRewriteReport.init),
                         syncPoints: sync.points, finalRegisters: registers,
                         cost: CostSummary(model: options.costModel, counts: counts, hostTrapTime: traps.hostTime,
                                           traps: log.total))
    }

    /// What one schedule ended with, for the explorer.
    var finalState: FinalState {
        let failures = shared?.system.failures ?? []
        return FinalState(hostReads: sync.hostReads,
                          failures: failures.map { .init(kind: $0.kind, observer: $0.observer, region: $0.region, address: $0.address) },
                          guestTypes: shared?.attributes.types ?? [:], end: endKind)
    }
}
