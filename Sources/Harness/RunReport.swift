import AArch64
import Coherency
import Formats
import FoundationEssentials
import Hypervisor

/// How one execution of the guest ended. A guest's misbehaviour (a fault, never ending) is an
/// outcome, not an error.
public struct RunEnding: Sendable, Equatable {
    public var status: Outcome.Status
    public var exitStatus: UInt64?
    public var fault: GuestFault?
    public var message: String
}

/// What a run record says of a run: how it ended, and what the exploration of its eviction
/// schedules found.
public struct Outcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// The guest signalled the end of its run (`hvc #0`).
        case completed
        /// The guest used its whole instruction budget without ending.
        case budgetExhausted = "budget-exhausted"
        /// The wall-clock safety net fired (never expected: the budget comes first).
        case timedOut = "timed-out"
        /// The guest took an exception the harness does not emulate, or touched unmapped memory.
        case guestFault = "guest-fault"
        /// On the board: the guest asked PSCI SYSTEM_OFF.
        case systemOff = "system-off"
        /// On the board: the guest asked PSCI SYSTEM_RESET.
        case systemReset = "system-reset"
        /// On the board: the only CPU called PSCI CPU_OFF; nothing can run any more.
        case cpuOff = "cpu-off"
        /// On the board: the guest polls the UART for input and none is queued.
        case waitingForInput = "waiting-for-input"
        /// WFI with no interrupt that could ever wake it (none is delivered), snippet or board.
        case waitingForInterrupt = "waiting-for-interrupt"
    }

    public var status: Status
    /// x0 at `hvc #0` (completed runs).
    public var exitStatus: UInt64?
    /// The fault that ended the run (guest-fault runs).
    public var fault: GuestFault?
    /// One line for a person.
    public var message: String
    /// How much the exploration ran, and whether it was complete (nil without shared memory).
    public var schedules: ScheduleSummary?
    /// Each distinct final state with a schedule that reaches it.
    public var states: [StateSummary] = []
    /// Each failure with a schedule that shows it (empty: coherent).
    public var failures: [FailureSummary] = []
    /// The snippet's conditions for this policy, with herdtools7-style verdicts.
    public var conditions: [ConditionVerdict] = []
    /// Why Always and Never could not be claimed (UNPREDICTABLE or UNKNOWN attributes, the
    /// model and the emulator disagreeing, an exploration cut short); empty when decided.
    public var undecided: [String] = []
    /// Live migrations done during the run.
    public var migrations: [String] = []

    public init(ending: RunEnding) {
        status = ending.status
        exitStatus = ending.exitStatus
        fault = ending.fault
        message = ending.message
    }

    /// The exploration's findings, recorded.
    public mutating func record(_ exploration: ExplorationOutcome) {
        schedules = exploration.schedules
        states = exploration.states
        failures = exploration.failures
        conditions = exploration.conditions
        undecided = exploration.undecided
    }

    enum CodingKeys: String, CodingKey {
        case status, exitStatus = "exit_status", fault, message, schedules, states, failures, conditions, undecided,
             migrations
    }
}

/// A guest exception or bad access that ended the run, named by kind and guest site.
public struct GuestFault: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case undefinedInstruction = "undefined-instruction"
        case dataAbort = "data-abort"
        case prefetchAbort = "prefetch-abort"
        case unmappedAccess = "unmapped-access"
        case supervisorCall = "svc"
        case secureMonitorCall = "smc"
        case breakpoint = "brk"
        case otherException = "exception"
        /// The hypervisor refused the stage-2 mapping of memory the guest touched.
        case stage2Refused = "stage2-refused"
        /// The VMM refused to migrate the VM to the target host.
        case migrationRefused = "migration-refused"
        /// An unaligned data access the architecture faults (found by the harness: Unicorn
        /// 2.0.1 performs most of them).
        case alignmentFault = "alignment-fault"
        /// A fetch from a PC that is not a multiple of 4 (Unicorn decodes there regardless).
        case pcAlignmentFault = "pc-alignment-fault"
        /// An ERET the architecture makes illegal (Unicorn sets PSTATE.IL and runs on).
        case illegalExceptionReturn = "illegal-exception-return"
    }

    public var kind: Kind
    public var pc: String
    public var site: String
    /// The instruction at the site, disassembled, when it lies in the image.
    public var instruction: String?
    /// The virtual address accessed, where known.
    public var address: String?
    /// What the harness knows beyond the kind (e.g. the stage-1 walk's verdict).
    public var detail: String
}

/// A sync point the guest signalled with `hvc #n` (n > 0).
public struct SyncPoint: Codable, Sendable, Equatable {
    public var id: Int
    public var site: String
    /// Guest instructions executed up to and including its HVC.
    public var instructions: UInt64
}

/// The trap counts of a run, as the CLI and the collector show them.
public struct TrapSummary: Codable, Sendable, Equatable {
    public struct Event: Codable, Sendable, Equatable {
        public var register: String
        public var direction: TrappedAccess.Direction
        public var value: String
        public var loaded: String
        public var path: ExitPath
        public var stage2Flush: Bool
        public var site: String
        public var pc: String

        enum CodingKeys: String, CodingKey {
            case register, direction, value, loaded, path, stage2Flush = "stage2_flush", site, pc
        }
    }

    public var total: Int
    public var byRegister: [String: Int]
    public var bySite: [String: Int]
    /// `fast-path` and `full-exit` counts.
    public var byPath: [String: Int]
    /// Full world switches to the host.
    public var exits: Int
    /// Stage-2 cleans to PoC the hypervisor did (each inside one of the exits).
    public var stage2Flushes: Int
    /// The trapped accesses in order, when asked for (`--events`): the first `limit` of them.
    /// Absent otherwise; the counts above always cover every trap.
    public var events: [Event]?

    enum CodingKeys: String, CodingKey {
        case total, byRegister = "by_register", bySite = "by_site", byPath = "by_path", exits,
             stage2Flushes = "stage2_flushes", events
    }

    /// The counts of `log`, sites named by `site`; `events` lists the first `events` accesses
    /// (nil: all, 0: none, and the key is left out).
    public init(_ log: TrapLog, site: (UInt64) -> String, events limit: Int? = nil) {
        total = log.total
        byRegister = log.byRegister
        bySite = log.bySite(site)
        byPath = log.byPath
        exits = log.fullExits
        stage2Flushes = log.stage2Flushes
        guard limit != 0 else { return }
        events = log.accesses.prefix(limit ?? log.total).map {
            Event(register: $0.name, direction: $0.direction, value: hex64($0.value),
                  loaded: hex64($0.loaded), path: $0.path, stage2Flush: $0.stage2Flush,
                  site: site($0.pc), pc: hex($0.pc))
        }
    }
}

/// The hypervisor a run was made under.
public struct PolicySummary: Codable, Sendable, Equatable {
    public var name: String
    public var trap: String
    public var rewrite: String
    public var rewriteScope: String
    public var fastPath: Bool
    public var trvm: Bool
    public var trapSetWay: Bool
    public var fwb: Bool
    public var deviceMapping: String
    public var cacheablePFNMAP: Bool

    enum CodingKeys: String, CodingKey {
        case name, trap, rewrite, rewriteScope = "rewrite_scope", fastPath = "fast_path", trvm,
             trapSetWay = "trap_set_way", fwb, deviceMapping = "device_mapping", cacheablePFNMAP = "cacheable_pfnmap"
    }

    public init(_ policy: Policy) {
        name = policy.name
        trap = policy.trap.rawValue
        rewrite = policy.rewrite.rawValue
        rewriteScope = policy.rewriteScope.rawValue
        fastPath = policy.fastPath
        trvm = policy.trvm
        trapSetWay = policy.trapSetWay
        fwb = policy.fwb
        deviceMapping = policy.deviceMapping.rawValue
        cacheablePFNMAP = policy.cacheablePFNMAP
    }
}

/// A MAIR_EL1 write the hypervisor rewrote: the guest asked for X, the hardware holds Y.
public struct MAIRRewriteReport: Codable, Sendable, Equatable {
    public struct Index: Codable, Sendable, Equatable {
        public var attrIndx: Int
        public var requested: String
        public var loaded: String
        public var effects: [String]

        enum CodingKeys: String, CodingKey { case attrIndx = "attr_indx", requested, loaded, effects }
    }

    public var site: String
    public var requested: String
    public var loaded: String
    public var indices: [Index]
    /// How many trapped writes at this site requested this value and were given this one.
    public var count: Int

    init(site: String, requested: UInt64, loaded: UInt64, count: Int) {
        self.site = site
        self.requested = hex64(requested)
        self.loaded = hex64(loaded)
        self.count = count
        indices = MAIRRewrite.changes(from: requested, to: loaded).map { change in
            Index(attrIndx: change.attrIndx, requested: Self.describe(change.requested),
                  loaded: Self.describe(change.loaded), effects: change.effects.map(\.rawValue))
        }
    }

    /// The rewritten MAIR_EL1 writes of `log`, one entry per distinct (site, requested, loaded)
    /// in order of first occurrence: a guest that writes MAIR a million times gets one line.
    static func rewrites(in log: TrapLog, site: (UInt64) -> String) -> [MAIRRewriteReport] {
        struct Key: Hashable { let pc, requested, loaded: UInt64 }
        var tally = Tally<Key>()
        for run in log.runs where run.access.rewritten {
            tally.add(Key(pc: run.access.pc, requested: run.access.value, loaded: run.access.loaded), count: run.count,
                      slot: Int(truncatingIfNeeded: run.access.pc >> 2))
        }
        return zip(tally.keys, tally.counts).map {
            MAIRRewriteReport(site: site($0.pc), requested: $0.requested, loaded: $0.loaded, count: $1)
        }
    }

    static func describe(_ byte: UInt8) -> String {
        "0x" + hexBytes([byte]) + " \(MemoryAttribute(mairByte: byte))"
    }
}

/// The cost model's figures for a run, and, apart, what trapping cost this emulator.
public struct CostSummary: Codable, Sendable, Equatable {
    public var guestCycles: Double
    public var trapCycles: Double
    public var modeledCycles: Double
    public var modeledOverheadPct: Double
    /// Host nanoseconds per trap spent in the harness's trap handling: emulator cost, measured,
    /// not deterministic, never part of the model. Null when nothing trapped.
    public var hostNsPerTrap: Double?
    /// The per-event costs used, with their sources.
    public var parameters: [String: Double]

    enum CodingKeys: String, CodingKey {
        case guestCycles = "guest_cycles", trapCycles = "trap_cycles", modeledCycles = "modeled_cycles",
             modeledOverheadPct = "modeled_overhead_pct", hostNsPerTrap = "host_ns_per_trap", parameters
    }

    init(model: CostModel, counts: CostModel.Counts, hostTrapTime: Duration, traps: Int) {
        let result = model.evaluate(counts)
        guestCycles = result.guestCycles
        trapCycles = result.trapCycles
        modeledCycles = result.modeledCycles
        modeledOverheadPct = result.overheadPercent
        let (seconds, attoseconds) = hostTrapTime.components
        let nanoseconds = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        hostNsPerTrap = traps > 0 ? (nanoseconds / Double(traps)).rounded() : nil
        parameters = [
            "trap_round_trip": model.trapRoundTrip.cycles, "fast_path_handling": model.fastPathHandling.cycles,
            "world_switch": model.worldSwitch.cycles, "stage2_flush_per_mib": model.stage2FlushPerMiB.cycles,
            "cycles_per_instruction": model.cyclesPerInstruction.cycles,
        ]
    }
}

/// Everything one run of one snippet produced.
public struct RunReport: Codable, Sendable, Equatable {
    public var snippet: String
    public var snippetHash: String
    public var policy: PolicySummary
    public var outcome: Outcome
    /// Guest instructions begun, counted by a code hook (see `GuestRun`).
    public var guestInstructions: UInt64
    public var traps: TrapSummary
    /// MAIR_EL1 writes the policy rewrote.
    public var rewrites: [MAIRRewriteReport]
    public var syncPoints: [SyncPoint]
    /// The VM control registers as the guest left them (hardware values, after any rewrite).
    public var finalRegisters: [String: String]
    public var cost: CostSummary
    /// Exceptions the guest took at its own vectors, by class (absent when none).
    public var exceptionsTaken: [String: Int]? = nil

    enum CodingKeys: String, CodingKey {
        case snippet, snippetHash = "snippet_hash", policy, outcome, guestInstructions = "guest_instructions",
             traps, rewrites, syncPoints = "sync_points", finalRegisters = "final_registers", cost,
             exceptionsTaken = "exceptions_taken"
    }

    /// Every stated condition held, and the run completed, or ended the way a condition about
    /// its end (`end(KIND)`) expected.
    public var meetsExpectations: Bool {
        let conditions = outcome.conditions
        guard conditions.allSatisfy({ $0.holds == true }) else { return false }
        return outcome.status == .completed || conditions.contains { $0.condition.contains(" end(") }
    }

    /// One JSON object, keys sorted. Everything in it is the same on every host for the same
    /// snippet, policy and inputs, except `cost.host_ns_per_trap` (a measurement of this
    /// emulator), which `includingHostTiming: false` leaves null.
    public func json(includingHostTiming: Bool = true) -> String {
        var report = self
        if !includingHostTiming { report.cost.hostNsPerTrap = nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain Codable structs of strings and numbers cannot fail.
        return String(decoding: try! encoder.encode(report), as: UTF8.self)
    }
}
