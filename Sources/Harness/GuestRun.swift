import AArch64
import Coherency
import Formats
import Foundation
import Hypervisor
import Unicorn

/// Knobs of one run that are not part of the snippet.
public struct RunOptions: Sendable {
    /// Overrides the manifest's instruction budget.
    public var budget: Int?
    /// Overrides the manifest's wall-clock safety net.
    public var timeoutMilliseconds: Int?
    public var cpu: CPUModel
    /// The hypervisor: traps, rewrite, fast path.
    public var policy: Policy
    public var costModel: CostModel

    public init(budget: Int? = nil, timeoutMilliseconds: Int? = nil, cpu: CPUModel = .max,
                policy: Policy = .kvm2015, costModel: CostModel = .defaults) {
        self.budget = budget
        self.timeoutMilliseconds = timeoutMilliseconds
        self.cpu = cpu
        self.policy = policy
        self.costModel = costModel
    }
}

/// The generic timer as the guest sees it: virtual, counting guest instructions, so that a run
/// is the same on every host (Unicorn's own counter follows host time).
enum VirtualTimer {
    /// CNTFRQ_EL0 as QEMU's virt machine reports it at reset.
    static let frequency: UInt64 = 62_500_000
    /// One tick per guest instruction: a 62.5 MHz counter on a 62.5 M instructions/s guest.
    static func count(afterInstructions n: UInt64) -> UInt64 { n }
}

/// One run of one snippet: builds the machine from the manifest, loads the image, installs the
/// hypervisor's hooks, runs within the budget and turns whatever happened into a report.
final class GuestRun {
    let loaded: LoadedSnippet
    let options: RunOptions
    let machine: Machine
    private var controller: TrapController
    /// The memory more than one observer touches, and this run's eviction choices.
    let observed: ObservedMemory

    private(set) var instructions: UInt64 = 0
    private var ending: Outcome?
    private var traps = TrapLog()
    private var syncPoints: [SyncPoint] = []
    private var lastDataAccess: MemoryAccess?
    private var invalidAccess: InvalidMemoryAccess?
    /// Host time spent handling traps (emulator cost, never part of the model).
    private var hostTrapTime: Duration = .zero
    private var deadline: ContinuousClock.Instant?
    private var timedOut = false
    private let clock = ContinuousClock()

    var budget: Int { options.budget ?? loaded.manifest.budget }

    init(_ loaded: LoadedSnippet, options: RunOptions, schedule: EvictionSchedule = EvictionSchedule(),
         candidates: Set<UInt64> = []) throws {
        self.loaded = loaded
        self.options = options
        do {
            let machine = try Machine(model: options.cpu)
            self.machine = machine
            observed = ObservedMemory(manifest: loaded.manifest, policy: options.policy, machine: machine,
                                      schedule: schedule, candidates: candidates,
                                      site: { [image = loaded.image] in image.symbolize($0) })
            controller = TrapController(policy: options.policy,
                                        resetSCTLR: try machine.readSystemRegister(SystemRegisterAddress(SystemRegister.sctlrEL1.encoding)))
        } catch {
            throw HarnessError.unicorn(error)
        }
    }

    func run() throws -> RunReport {
        do {
            try buildPlatform()
            try installHooks()
            try execute()
            return try report()
        } catch let error as UnicornError {
            throw HarnessError.unicorn(error)
        }
    }

    // MARK: platform

    private func buildPlatform() throws {
        let manifest = loaded.manifest
        for region in manifest.memory {
            try machine.map(region.base, size: region.size)
        }
        for window in manifest.virtualWindows {
            try machine.reserveVirtualWindow(window.base, size: window.size)
        }
        try observed.map()
        observed.onMigrationRefused = { [unowned self] reason in
            end(fault: .migrationRefused, pc: pc, address: nil, detail: "migration refused: \(reason)")
        }
        observed.onRefusal = { [unowned self] region, reason, pc in
            end(fault: .stage2Refused, pc: pc, address: nil,
                detail: "the policy refuses to map region '\(region)' at stage 2: \(reason)")
        }
        for segment in loaded.image.segments {
            var bytes = segment.bytes
            if UInt64(bytes.count) < segment.memorySize {
                bytes += [UInt8](repeating: 0, count: Int(segment.memorySize) - bytes.count)
            }
            try machine.write(bytes, at: segment.physicalAddress)
        }
        let text = manifest.memory.first { $0.contains(manifest.textAddress) }
        try machine.write(.sp, manifest.stack ?? text?.end ?? 0)
    }

    // MARK: hooks (all installed before the first run: Unicorn compiles them into blocks)

    private func installHooks() throws {
        // Guest instructions begun: a code hook is exact where block sizes are not (a block
        // left early by an exception would be over-counted). Re-executions of the final HVC
        // after the end is signalled are not counted.
        try machine.onCode { [unowned self] _, _ in
            guard ending == nil else { return }
            instructions += 1
            // The wall-clock safety net, checked every 64 Ki instructions. Unicorn's own timeout
            // (a timer thread per uc_emu_start) is not used: with several engines running at
            // once it was seen to end runs early, far from any limit.
            if instructions & 0xFFFF == 0, let deadline, clock.now > deadline {
                timedOut = true
                machine.stop()
            }
        }
        try machine.onSystemInstruction(.msr) { [unowned self] insn in timed { systemRegisterWrite(insn) } }
        try machine.onSystemInstruction(.mrs) { [unowned self] insn in timed { systemRegisterRead(insn) } }
        try machine.onSystemInstruction(.sys) { [unowned self] insn in timed { systemInstruction(insn) } }
        try machine.onInterrupt { [unowned self] intno in exception(intno) }
        // Remember the last data access: Unicorn reports aborts without FAR, and this hook sees
        // the access's VA before the abort is raised.
        let tracksSites = !observed.isEmpty
        try machine.onMemoryAccess([.read, .write], range: 0...UInt64.max) { [unowned self] access in
            lastDataAccess = access
            if tracksSites { observed.guestAccessBegins(virtualAddress: access.virtualAddress, size: access.size) }
        }
        try machine.onInvalidMemory { [unowned self] access in
            invalidAccess = access
            return false
        }
    }

    private var pc: UInt64 { (try? machine.read(.pc)) ?? 0 }

    private func timed(_ body: () -> SystemInstructionAction) -> SystemInstructionAction {
        let start = clock.now
        defer { hostTrapTime += clock.now - start }
        return body()
    }

    private func record(_ name: String, _ direction: TrappedAccess.Direction, value: UInt64, loaded: UInt64,
                        path: ExitPath, stage2Flush: Bool = false, mairChanges: [MAIRIndexChange] = []) {
        let pc = self.pc
        traps.record(TrappedAccess(name: name, direction: direction, value: value, loaded: loaded, path: path,
                                   stage2Flush: stage2Flush, pc: pc, site: site(pc), mairChanges: mairChanges))
    }

    private func site(_ pc: UInt64) -> String { loaded.image.symbolize(pc) }

    /// The MSR hook is the TVM trap (Unicorn never enters EL2): the controller decides what
    /// the real register holds; a rewritten value is loaded by the host and the MSR skipped.
    private func systemRegisterWrite(_ insn: SystemInstruction) -> SystemInstructionAction {
        guard ending == nil, let register = SystemRegister(encoding: insn.address.encoding),
              let decision = controller.write(register, value: insn.value) else { return .execute }
        record(register.rawValue, .write, value: insn.value, loaded: decision.loaded, path: decision.path,
               stage2Flush: decision.stage2Flush, mairChanges: decision.mairChanges)
        if decision.stage2Flush { observed.stage2Flush() }
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
        case .cntpctEL0, .cntvctEL0: value = VirtualTimer.count(afterInstructions: instructions)
        default:
            guard register.isTrappedByTRVM,
                  let hardware = try? machine.readSystemRegister(insn.address),
                  let decision = controller.read(register, hardware: hardware) else { return .execute }
            record(register.rawValue, .read, value: decision.value, loaded: hardware, path: decision.path)
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
                observed.setWay(operation, operand: insn.value)
                return .execute
            }
            record(operation.rawValue, .operation, value: insn.value, loaded: insn.value, path: decision.path,
                   stage2Flush: decision.stage2Flush)
            if decision.stage2Flush { observed.stage2Flush() }
            return .skip
        }
        guard operation.operand == .virtualAddress, !observed.isEmpty else { return .execute }
        return observed.cacheMaintenance(operation, virtualAddress: insn.value, pc: pc) ? .skip : .execute
    }

    // MARK: exceptions

    /// Unicorn numbers (unicorn-2.0.1.md): 1 UNDEF (also HVC with EL2 absent), 2 SVC,
    /// 3 prefetch abort, 4 data abort, 7 BRK, 13 SMC.
    private func exception(_ intno: UInt32) {
        guard ending == nil else { return }
        let pc = self.pc
        switch intno {
        case 1:
            if let word = instructionWord(at: pc), let imm = Self.hvcImmediate(word) {
                hypercall(imm, pc: pc)
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

    /// HVC #imm16 is 0xD4000002 | imm16 << 5 (Arm ARM C6.2, HVC).
    static func hvcImmediate(_ word: UInt32) -> Int? {
        word & 0xFFE0_001F == 0xD400_0002 ? Int((word >> 5) & 0xFFFF) : nil
    }

    private func hypercall(_ imm: Int, pc: UInt64) {
        if imm == 0 {
            observed.finish()
            let status = (try? machine.read(.x(0))) ?? 0
            ending = Outcome(status: .completed, exitStatus: status, fault: nil,
                             message: "completed at \(site(pc)) with exit status \(status)")
            machine.stop()
        } else {
            syncPoints.append(SyncPoint(id: imm, site: site(pc), instructions: instructions))
            observed.syncPoint(imm)
            try? machine.write(.pc, pc + 4)
        }
    }

    /// How the run ended, as conditions name it: `completed` or the fault kind.
    var endKind: String {
        guard let ending else { return "running" }
        return ending.fault?.kind.rawValue ?? ending.status.rawValue
    }

    private func dataAbort(pc: UInt64) {
        guard let access = lastDataAccess else {
            return end(fault: .dataAbort, pc: pc, detail: "data abort")
        }
        let verb = access.kind == .write ? "write" : "read"
        let walk = describeWalk(of: access.virtualAddress)
        end(fault: .dataAbort, pc: pc, address: access.virtualAddress,
            detail: "\(access.size)-byte \(verb) of VA \(hex(access.virtualAddress)): \(walk)")
    }

    private func end(fault kind: GuestFault.Kind, pc: UInt64, address: UInt64? = nil, detail: String) {
        let site = self.site(pc)
        let fault = GuestFault(kind: kind, pc: hex(pc), site: site, instruction: loaded.disassemble(at: pc),
                               address: address.map(hex), detail: detail)
        let at = fault.instruction.map { "\(site) (\($0))" } ?? site
        ending = Outcome(status: .guestFault, exitStatus: nil, fault: fault,
                         message: "\(kind.rawValue) at \(at): \(detail)")
        machine.stop()
    }

    // MARK: the guest's view of memory

    /// The instruction word at a guest VA: through the guest's stage 1 when its MMU is on.
    private func instructionWord(at va: UInt64) -> UInt32? {
        guard let pa = try? translate(va) else { return nil }
        return try? machine.read32(at: pa)
    }

    /// The guest's stage 1 as the registers stand now.
    private var stage1: Stage1Walker { GuestRegisters(machine).stage1 }

    private func translate(_ va: UInt64) throws -> UInt64 {
        try stage1.translate(va, access: .instructionFetch, reader: PhysicalMemory(machine: machine)).outputAddress
    }

    /// Why an access aborted, in the words of the harness's own stage-1 walk.
    private func describeWalk(of va: UInt64) -> String {
        let walker = stage1
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
        let timeout = Duration.milliseconds(options.timeoutMilliseconds ?? manifest.timeoutMilliseconds)
        deadline = clock.now + timeout
        // `until` is never reached: the guest ends with `hvc #0`.
        let result = Result { () throws(UnicornError) -> StopReason in
            try machine.start(at: entry, until: UInt64.max, count: budget)
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
        if timedOut {
            ending = Outcome(status: .timedOut, exitStatus: nil, fault: nil,
                             message: "wall-clock limit of \(timeout) passed at \(site(pc)) before the budget did")
            return
        }
        switch reason {
        case .countExhausted where instructions < UInt64(budget):
            // Never expected; said plainly rather than passed off as the budget.
            ending = Outcome(status: .guestFault, exitStatus: nil, fault: nil,
                             message: "the emulator stopped the run at \(site(pc)) after \(instructions) of \(budget) instructions, for no reason it reported")
        case .countExhausted:
            ending = Outcome(status: .budgetExhausted, exitStatus: nil, fault: nil,
                             message: "did not end within its budget of \(budget) instructions (stopped at \(site(pc)))")
        case .timedOut, .reachedUntil, .stopped:
            ending = Outcome(status: .guestFault, exitStatus: nil, fault: nil,
                             message: "stopped at \(site(pc)) without signalling an end")
        }
    }

    private func unmapped(_ error: UnicornError) {
        let pc = self.pc
        let kind = invalidAccess.map { "\($0.kind)" } ?? error.name
        let va = invalidAccess?.virtualAddress
        let detail = va.map { "\(kind) of VA \(hex($0)): no memory region of the platform covers it" } ?? error.description
        end(fault: .unmappedAccess, pc: pc, address: va, detail: detail)
    }

    private func report() throws -> RunReport {
        var registers: [String: String] = [:]
        for register in SystemRegister.virtualMemoryControlRegisters {
            registers[register.rawValue] = hex64(try machine.readSystemRegister(SystemRegisterAddress(register.encoding)))
        }
        let memoryMiB = Double(loaded.manifest.memory.reduce(0) { $0 + $1.size }) / Double(1 << 20)
        let counts = CostModel.Counts(guestInstructions: instructions, fastPathTraps: traps.fastPath,
                                      fullExits: traps.fullExits, stage2Flushes: traps.stage2Flushes,
                                      guestMemoryMiB: memoryMiB)
        let cost = CostSummary(model: options.costModel, counts: counts, hostTrapTime: hostTrapTime, traps: traps.total)
        return RunReport(snippet: loaded.snippet.name, snippetHash: loaded.hash, policy: PolicySummary(options.policy),
                         outcome: ending!, guestInstructions: instructions, traps: TrapSummary(traps),
                         rewrites: traps.accesses.filter { !$0.mairChanges.isEmpty }.map(MAIRRewriteReport.init),
                         syncPoints: syncPoints, finalRegisters: registers, cost: cost)
    }
}

/// Guest physical memory as the stage-1 walker reads it.
struct PhysicalMemory: TranslationTableReader {
    let machine: Machine
    func readDescriptor(at physicalAddress: UInt64) throws -> UInt64 {
        try machine.read64(at: physicalAddress)
    }
}

/// The one place where the emulator's spelling of an encoding meets the architecture's.
extension SystemRegisterAddress {
    init(_ encoding: SystemRegisterEncoding) {
        self.init(op0: encoding.op0, op1: encoding.op1, crn: encoding.crn, crm: encoding.crm, op2: encoding.op2)
    }

    var encoding: SystemRegisterEncoding {
        SystemRegisterEncoding(op0: op0, op1: op1, crn: crn, crm: crm, op2: op2)
    }
}
