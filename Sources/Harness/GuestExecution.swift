import AArch64
import Coherency
import Formats
import FoundationEssentials
import Hypervisor
import Unicorn

/// One execution of a guest program (a snippet, or an image on the board): the machine built,
/// the image loaded, the hypervisor's hooks installed, run within the budget. Events flow one
/// way: a hook asks a part (the trap controller, shared memory, the board's devices) for a
/// decision and applies the answer; the parts never call back into the run.
final class GuestExecution {
    let program: any GuestProgram
    /// The snippet run (nil on the board).
    var loaded: LoadedSnippet? { program as? LoadedSnippet }
    /// The board and its devices (nil for a snippet).
    let board: BoardGuest?
    let options: RunOptions
    let machine: Machine
    /// The hypervisor's side: traps set now, the policy in force (its one owner).
    var controller: TrapController
    var traps = TrapRecorder()
    /// The memory more than one observer touches (nil when the snippet observes none).
    let shared: SharedMemory?
    /// The budget and the wall-clock safety net.
    let limits: RunLimits
    /// The C hooks: counting, the budget, the last access, the timer, filtered system
    /// instructions (installed by `run`).
    private(set) var fast: FastPath!
    var invalidAccess: InvalidMemoryAccess?
    var sync = SyncLog()
    var ending: RunEnding?
    /// An exception entry to the guest's vector in progress, and those completed by class.
    var pendingEntry: PendingEntry?
    var exceptionsTaken: [String: Int] = [:]
    /// The last abort delivered for a refused access, and the count then (a repeat with no
    /// instruction run in between would loop forever).
    var lastAbort: (pc: UInt64, instructions: UInt64)?
    /// Placeholder pages mapped at VAs the guest's tables send to existing memory.
    var virtualAliases = 0
    /// HCR_EL2.VI as last driven from the board's GIC, and the WFIs the count skipped.
    var interruptSignalled = false
    var wfiSkips = 0
    var sites: [UInt64: String] = [:]
    /// TVM and TRVM as the C filters were last set for (-1: not yet).
    private var filtersKey = -1
    /// What the C side was last told about trivial trapped writes (nil: none taken there).
    var trivialWrites: TrapController.TrivialWrites?
    /// The guest's stage 1, page by page (for shared memory and cache maintenance by VA).
    let translator: Translator

    /// Guest instructions begun (each once, including one that faults and the final `hvc #0`).
    var instructions: UInt64 { fast?.instructions ?? 0 }

    /// The VM registers the guest has written since reset.
    var registersWritten: Set<SystemRegister> {
        let written = fast?.writtenVMRegisters ?? 0
        return Set(Self.vmRegisterBits.enumerated().filter { written & (1 << $0.offset) != 0 }.map(\.element))
    }

    /// The VM registers in the order of the C side's `mairlab_vm_register_index`.
    static let vmRegisterBits: [SystemRegister] = [.sctlrEL1, .ttbr0EL1, .ttbr1EL1, .tcrEL1, .mairEL1, .afsr0EL1,
                                                   .afsr1EL1, .esrEL1, .farEL1, .amairEL1, .contextidrEL1]

    /// One execution; `chooser` picks the value of each read of shared memory that can differ,
    /// `replay` makes shared memory follow one schedule's witness instead of exploring.
    convenience init(_ loaded: LoadedSnippet, options: RunOptions, chooser: ValueChooser = FirstValues(),
                     replay: [UInt64: [WitnessStep]]? = nil) throws {
        let observed = loaded.manifest.observed, policy = options.policy
        let shared = observed.isEmpty ? nil
            : SharedMemory(regions: observed, hostCacheable: { policy.hostMapsCacheable($0) }, chooser: chooser, replay: replay,
                           plainLines: options.plainLines)
        try self.init(program: loaded, options: options, shared: shared)
    }

    /// An execution of `program`; `shared` serves the memory more than one observer touches.
    init(program: any GuestProgram, options: RunOptions, shared: SharedMemory? = nil) throws {
        self.program = program
        board = program as? BoardGuest
        self.options = options
        limits = RunLimits(budget: options.budget ?? program.budget,
                           timeoutMilliseconds: options.timeoutMilliseconds ?? program.timeoutMilliseconds)
        let policy = options.policy
        self.shared = shared
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
    /// Runs the guest to its end; `report()` then says what happened (only the executions whose
    /// report is shown pay for one).
    func run() throws {
        if let loaded { try Self.refuseUntranslatable(loaded) }
        do {
            try program.build(machine)
            // The hooks first: the plain path's MMIO (mapSharedMemory) reads the fast path's state.
            try installHooks()
            try mapSharedMemory()
            try mapBoardDevices()
            try execute()
        } catch let error as UnicornError {
            throw HarnessError.unicorn(error)
        }
    }

    /// A snippet holding a word that aborts Unicorn's translator (TranslatorAborts) is refused
    /// before it runs: the alternative is the whole process dying when the word is reached.
    static func refuseUntranslatable(_ loaded: LoadedSnippet) throws {
        for segment in loaded.image.segments where segment.permissions.contains(.execute) {
            for offset in stride(from: 0, to: segment.bytes.count - 3, by: 4) {
                let word = segment.bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                guard TranslatorAborts.contains(word) else { continue }
                let address = segment.virtualAddress + UInt64(offset)
                throw HarnessError.image(file: loaded.snippet.displayPath, message: "the word \(hex(UInt64(word))) at \(loaded.image.symbolize(address)) is an unallocated AdvSIMD FP16 encoding (UNDEFINED), whose translation aborts Unicorn 2.0.1: not run (if it is data, move it out of the executable section)")
            }
        }
    }

    /// How the run ended, as conditions name it: `completed` or the fault kind.
    var endKind: String {
        guard let ending else { return "running" }
        return ending.fault?.kind.rawValue ?? ending.status.rawValue
    }

    /// `symbol+offset` of a guest PC (each PC symbolized once: an access loop asks every time).
    func site(_ pc: UInt64) -> String {
        if let known = sites[pc] { return known }
        let site = program.symbolize(pc)
        sites[pc] = site
        return site
    }

    // MARK: hooks (all installed before the first run: Unicorn compiles them into blocks)

    private func installHooks() throws {
        fast = try machine.installFastPath { [unowned self] insn in handle(insn) }
        fast.virtualTimer(frequency: VirtualTimer.frequency)
        fast.budget = UInt64(limits.budget)
        fast.setDeadline(afterNanoseconds: UInt64(limits.timeoutMilliseconds) * 1_000_000)
        updateFilters()
        fast.onMisalignedAccess { [unowned self] access, pc in misalignedAccess(access, pc: pc) }
        fast.onEntryBlock { [unowned self] address in entryBlock(at: address) }
        if board != nil {
            for address in GenericTimers.encodings {
                fast.filter(.msr, address, true)
                fast.filter(.mrs, address, true)
            }
            updateInterrupts(now: 0)
        }
        try installExceptionReturnHooks()
        try machine.onInterrupt { [unowned self] intno in exception(intno) }
        try machine.onInvalidMemory { [unowned self] access in
            invalidAccess = access
            return false
        }
    }

    /// Which system instructions the C hooks hand to Swift: the VM registers while TVM traps
    /// them (reads too under TRVM), set/way maintenance (TSW, or the model when untrapped), and
    /// maintenance by VA when there is shared memory. Everything else runs natively.
    func updateFilters() {
        updateTrivialTraps()
        let key = (controller.tvm ? 1 : 0) | (controller.policy.trvm ? 2 : 0)
        guard key != filtersKey else { return }
        filtersKey = key
        let trapping = controller.tvm
        for register in SystemRegister.virtualMemoryControlRegisters {
            fast.filter(.msr, SystemRegisterAddress(register.encoding), trapping)
            fast.filter(.mrs, SystemRegisterAddress(register.encoding), trapping && controller.policy.trvm)
        }
        for operation in CacheMaintenanceOperation.allCases {
            let wanted = operation.operand == .setWay || (shared != nil && operation.operand == .virtualAddress)
            fast.filter(.sys, SystemRegisterAddress(operation.encoding), wanted)
        }
    }

    /// A system instruction the filters handed over; host time counts only when it trapped.
    private func handle(_ insn: SystemInstruction) -> SystemInstructionAction {
        enterFromEmulator()
        let trapsBefore = traps.log.total, start = traps.now
        if board != nil, insn.kind != .sys, let action = timerRegisterAccess(insn) { return action }
        let action: SystemInstructionAction = switch insn.kind {
        case .msr: systemRegisterWrite(insn)
        case .mrs: systemRegisterRead(insn)
        case .sys: systemInstruction(insn)
        }
        if traps.log.total > trapsBefore {
            traps.addHostTime(since: start)
            updateFilters()
        }
        return action
    }

    private func mapSharedMemory() throws {
        guard let shared else { return }
        // The plain path in C (plain.h) when exploring with plain lines; a replay traces every
        // access, so it goes through Swift alone.
        let plain = options.plainLines && !shared.model.isReplay ? PlainPath() : nil
        shared.plain = plain
        // unowned(unsafe): the callbacks run only inside this execution's own uc_emu_start (the
        // machine is this object's), and a checked unowned reference costs a retain per access.
        for region in shared.regions {
            let read = { [unowned(unsafe) self] (offset: UInt64, size: Int) -> UInt64 in
                enterFromEmulator()
                if let value = plainCallback(pa: region.base + offset, size: size, isWrite: false) { return value }
                var value: UInt64 = 0
                for (index, byte) in sharedAccess(pa: region.base + offset, size: size, isWrite: false).enumerated() {
                    value |= UInt64(byte) << (8 * UInt64(index))
                }
                return value
            }
            let write = { [unowned(unsafe) self] (offset: UInt64, size: Int, _: UInt64) in
                enterFromEmulator()
                if plainCallback(pa: region.base + offset, size: size, isWrite: true) != nil { return }
                _ = sharedAccess(pa: region.base + offset, size: size, isWrite: true)
            }
            if let plain {
                try machine.mapPlainMMIO(region.base, size: region.size, plain: plain, fast: fast, read: read, write: write)
            } else {
                try machine.mapMMIO(region.base, size: region.size, read: read, write: write)
            }
        }
    }

    /// An MMIO callback of a guest access to shared memory that no cache can hold, served
    /// without resolving or exploring (`SharedMemory.plainAccess`): the value read (a write: 0);
    /// nil when the access is not one.
    private func plainCallback(pa: UInt64, size: Int, isWrite: Bool) -> UInt64? {
        guard let shared else { return nil }
        let sequence = fast.accessSequence
        if sequence == shared.pendingSequence { return shared.plainCallback(pa: pa, size: size, isWrite: isWrite, sequence: sequence) }
        guard let last = fast.lastAccess, (last.kind == .write) == isWrite else { return nil }
        // Unicorn syncs PC before a memory hook runs (see sharedAccess).
        let event = MemoryAccessEvent(virtualAddress: last.virtualAddress, size: last.size, value: last.value, isWrite: isWrite)
        guard shared.plainAccess(event, sequence: sequence, pa: pa, pc: machine.pc, generation: fast.translationGeneration,
                                 written: fast.writtenVMRegisters) else { return nil }
        return shared.plainCallback(pa: pa, size: size, isWrite: isWrite, sequence: sequence)
    }

    /// One MMIO callback of a guest access to shared memory; a refusal ends the run.
    private func sharedAccess(pa: UInt64, size: Int, isWrite: Bool) -> [UInt8] {
        guard let shared else { return [] }
        // Unicorn syncs PC before a memory hook runs (the hook over every address guarantees it
        // for the MMIO callbacks too), so it names this access's instruction.
        let pc = machine.pc
        let access = fast.lastAccess.map {
            MemoryAccessEvent(virtualAddress: $0.virtualAddress, size: $0.size, value: $0.value, isWrite: $0.kind == .write)
        }
        let sequence = fast.accessSequence, generation = fast.translationGeneration, written = fast.writtenVMRegisters
        let (bytes, answer) = shared.callback(pa: pa, size: size, isWrite: isWrite, access: access,
                                              sequence: sequence, context: context(pc: pc))
        if case .refused(let name, let reason) = answer {
            fast.correct(at: pc, begun: true)
            end(fault: .stage2Refused, pc: pc, detail: "the policy refuses to map region '\(name)' at stage 2: \(reason)")
        } else {
            shared.remember(pc: pc, site: site(pc), generation: generation, written: written)
        }
        return bytes
    }

    /// What shared memory needs to know of the guest and the hypervisor now.
    func context(pc: UInt64) -> GuestContext {
        let sctlr = (try? machine.readSystemRegister(SystemRegisterAddress(SystemRegister.sctlrEL1.encoding))) ?? 0
        translator.validate(generation: fast.translationGeneration)
        return GuestContext(policy: controller.policy, site: site(pc),
                            cachesOn: SCTLR_EL1.M.isSet(in: sctlr) && SCTLR_EL1.C.isSet(in: sctlr),
                            registersWritten: registersWritten, translator: translator)
    }

    func report() throws -> RunReport {
        guard let loaded else { throw HarnessError.io("a board run reports with bootReport()") }
        var registers: [String: String] = [:]
        for register in SystemRegister.virtualMemoryControlRegisters {
            do {
                registers[register.rawValue] = hex64(try machine.readSystemRegister(SystemRegisterAddress(register.encoding)))
            } catch {
                throw HarnessError.unicorn(error)
            }
        }
        let log = traps.log
        let counts = costCounts
        var outcome = Outcome(ending: ending!)
        outcome.migrations = sync.migrations
        var report = RunReport(snippet: loaded.snippet.name, snippetHash: loaded.hash, policy: PolicySummary(options.policy),
                         outcome: outcome, guestInstructions: instructions,
                         traps: TrapSummary(log, site: site, events: options.eventLimit),
                         rewrites: MAIRRewriteReport.rewrites(in: log, site: site),
                         syncPoints: sync.points, finalRegisters: registers,
                         cost: CostSummary(model: options.costModel, counts: counts, hostTrapTime: traps.hostTime,
                                           traps: log.total))
        report.exceptionsTaken = exceptionsTaken.isEmpty ? nil : exceptionsTaken
        return report
    }

    /// The exact counts the cost model prices; a stage-2 flush is charged on the VM's RAM.
    var costCounts: CostModel.Counts {
        let log = traps.log
        return CostModel.Counts(guestInstructions: instructions, fastPathTraps: log.fastPath, fullExits: log.fullExits,
                                stage2Flushes: log.stage2Flushes, guestMemoryMiB: program.memoryMiB)
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
