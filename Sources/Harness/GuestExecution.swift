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
    var controller: TrapController
    var traps = TrapRecorder()
    /// The memory more than one observer touches (nil when the snippet observes none).
    let shared: SharedMemory?
    var counter: InstructionCounter
    private var accesses = AccessTracker()
    private(set) var sync = SyncLog()
    private(set) var ending: RunEnding?
    /// The guest's stage 1, page by page (for shared memory and cache maintenance by VA).
    let translator: Translator
    /// The VM registers the guest has written since reset.
    var registersWritten: Set<SystemRegister> = []

    /// One execution; `chooser` picks the value of each read of shared memory that can differ,
    /// `replay` makes shared memory follow one schedule's witness instead of exploring.
    init(_ loaded: LoadedSnippet, options: RunOptions, chooser: ValueChooser = FirstValues(),
         replay: [UInt64: [WitnessStep]]? = nil) throws {
        self.loaded = loaded
        self.options = options
        let manifest = loaded.manifest
        counter = InstructionCounter(budget: options.budget ?? manifest.budget,
                                     timeout: .milliseconds(options.timeoutMilliseconds ?? manifest.timeoutMilliseconds))
        let policy = options.policy
        shared = manifest.observed.isEmpty ? nil
            : SharedMemory(regions: manifest.observed, hostCacheable: { policy.hostMapsCacheable($0) }, chooser: chooser,
                           replay: replay)
        do {
            machine = try Machine(model: options.cpu)
            translator = Translator(machine: machine)
            if policy.reset == .kvm {
                for (register, value) in ResetValues.kvmValues {
                    try machine.writeSystemRegister(SystemRegisterAddress(register.encoding), value)
                }
            }
            let sctlr = try machine.readSystemRegister(SystemRegisterAddress(SystemRegister.sctlrEL1.encoding))
            controller = TrapController(policy: policy, resetSCTLR: sctlr)
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
        try machine.onMemoryAccess([.read, .write], range: 0...UInt64.max) { [unowned self] access in
            accesses.last = access
            shared?.accessBegins(MemoryAccessEvent(virtualAddress: access.virtualAddress, size: access.size,
                                                   value: access.value, isWrite: access.kind == .write))
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
                sharedAccess(pa: region.base + offset, size: size, isWrite: false).enumerated()
                    .reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            }, write: { [unowned self] offset, size, _ in
                _ = sharedAccess(pa: region.base + offset, size: size, isWrite: true)
            })
        }
    }

    /// One MMIO callback of a guest access to shared memory; a refusal ends the run.
    private func sharedAccess(pa: UInt64, size: Int, isWrite: Bool) -> [UInt8] {
        guard let shared else { return [] }
        // Unicorn syncs PC before a memory hook runs (the hook over every address guarantees it
        // for the MMIO callbacks too), so it names this access's instruction.
        let pc = machine.pc
        let (bytes, answer) = shared.callback(pa: pa, size: size, isWrite: isWrite, context: context(pc: pc))
        if case .refused(let name, let reason) = answer {
            end(fault: .stage2Refused, pc: pc, detail: "the policy refuses to map region '\(name)' at stage 2: \(reason)")
        }
        return bytes
    }

    /// What shared memory needs to know of the guest and the hypervisor now.
    func context(pc: UInt64) -> GuestContext {
        let sctlr = (try? machine.readSystemRegister(SystemRegisterAddress(SystemRegister.sctlrEL1.encoding))) ?? 0
        return GuestContext(policy: controller.policy, site: site(pc),
                            cachesOn: SCTLR_EL1.M.isSet(in: sctlr) && SCTLR_EL1.C.isSet(in: sctlr),
                            registersWritten: registersWritten, translator: translator)
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
            shared?.finish()
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

    /// At a sync point: the host's actions and migrations.
    private func syncPoint(_ id: Int) {
        guard let shared else { return }
        let manifest = loaded.manifest
        for action in manifest.host where action.at == id {
            shared.perform(action, dma: manifest.dma)
        }
        for migration in manifest.migrations where migration.at == id {
            migrate(migration)
        }
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

    func endRun(_ ending: RunEnding) {
        self.ending = ending
        machine.stop()
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
        outcome.migrations = sync.migrations
        return RunReport(snippet: loaded.snippet.name, snippetHash: loaded.hash, policy: PolicySummary(options.policy),
                         outcome: outcome, guestInstructions: counter.instructions, traps: TrapSummary(log),
                         rewrites: log.accesses.filter { !$0.mairChanges.isEmpty }.map(MAIRRewriteReport.init),
                         syncPoints: sync.points, finalRegisters: registers,
                         cost: CostSummary(model: options.costModel, counts: counts, hostTrapTime: traps.hostTime,
                                           traps: log.total))
    }

    /// What this execution ended with, for the explorer.
    func result(choices: [Int]) -> ExecutionResult? {
        guard let shared else { return nil }
        var undecided = shared.attributes.undecided
        for address in translator.disagreements.prefix(1) {
            undecided.append(UndecidedReason(.everything, "the emulator reached VA \(hex(address)) where the model's stage-1 walk faults: the two disagree"))
        }
        return ExecutionResult(choices: choices, memory: shared.model, end: endKind, guestTypes: shared.attributes.types,
                               undecided: undecided)
    }
}
