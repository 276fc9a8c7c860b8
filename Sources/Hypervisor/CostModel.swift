/// Modeled cycles for a run: per-event costs (parameters, each with its source) times the
/// run's exact counts. It models the hardware the policy would run on, never this emulator.
public struct CostModel: Sendable, Equatable {
    public struct Parameter: Sendable, Equatable {
        public var cycles: Double
        public var source: String

        public init(_ cycles: Double, source: String) {
            self.cycles = cycles
            self.source = source
        }
    }

    /// A trap to EL2 and the ERET back, with no work done (the fast path's fixed cost).
    public var trapRoundTrip: Parameter
    /// The work of the EL2 fast path for one trivial access: read the syndrome and Xt, write
    /// one register (rewriting MAIR_EL1 on the way), step ELR_EL2.
    public var fastPathHandling: Parameter
    /// A full exit: world switch to the host, handling there, and back.
    public var worldSwitch: Parameter
    /// Cleaning one MiB of the VM's memory to PoC (`stage2_flush_vm`), per flush.
    public var stage2FlushPerMiB: Parameter
    /// Guest cycles per guest instruction.
    public var cyclesPerInstruction: Parameter

    public init(trapRoundTrip: Parameter, fastPathHandling: Parameter, worldSwitch: Parameter,
                stage2FlushPerMiB: Parameter, cyclesPerInstruction: Parameter) {
        self.trapRoundTrip = trapRoundTrip
        self.fastPathHandling = fastPathHandling
        self.worldSwitch = worldSwitch
        self.stage2FlushPerMiB = stage2FlushPerMiB
        self.cyclesPerInstruction = cyclesPerInstruction
    }

    /// Starting points, to be replaced by numbers measured on the user's hardware with
    /// kvm-unit-tests `arm/micro-bench` (its `hvc` test is a full exit).
    public static let defaults = CostModel(
        trapRoundTrip: Parameter(27, source: "Dall et al., ARM Virtualization: Performance and Architectural Implications, ISCA 2016, Table 3 'Trap' on ARMv8 (tens of cycles); re-check against the paper"),
        fastPathHandling: Parameter(100, source: "unverified estimate: a few dozen EL2 instructions (cf. handle_tx2_tvm); measure on your hardware"),
        worldSwitch: Parameter(6_500, source: "Dall et al., ISCA 2016, Table 3 'Hypercall' for KVM ARM (several thousand cycles); kvm-unit-tests micro-bench 'hvc' measures it"),
        stage2FlushPerMiB: Parameter(160_000, source: "unverified estimate: 16384 lines of 64 bytes cleaned by VA at ~10 cycles each"),
        cyclesPerInstruction: Parameter(1, source: "unverified: a guest that retires one instruction per cycle"))

    /// The counts a cost is computed from (all exact, from one run).
    public struct Counts: Sendable, Equatable {
        public var guestInstructions: UInt64
        public var fastPathTraps: Int
        public var fullExits: Int
        public var stage2Flushes: Int
        public var guestMemoryMiB: Double

        public init(guestInstructions: UInt64, fastPathTraps: Int, fullExits: Int, stage2Flushes: Int, guestMemoryMiB: Double) {
            self.guestInstructions = guestInstructions
            self.fastPathTraps = fastPathTraps
            self.fullExits = fullExits
            self.stage2Flushes = stage2Flushes
            self.guestMemoryMiB = guestMemoryMiB
        }
    }

    public struct Result: Sendable, Equatable {
        public var guestCycles: Double
        public var trapCycles: Double
        public var modeledCycles: Double { guestCycles + trapCycles }
        /// Trap cycles as a percentage of the guest's own cycles.
        public var overheadPercent: Double { guestCycles > 0 ? 100 * trapCycles / guestCycles : 0 }
    }

    public var fastPathCost: Double { trapRoundTrip.cycles + fastPathHandling.cycles }

    public func evaluate(_ counts: Counts) -> Result {
        let guest = Double(counts.guestInstructions) * cyclesPerInstruction.cycles
        let traps = Double(counts.fastPathTraps) * fastPathCost
            + Double(counts.fullExits) * worldSwitch.cycles
            + Double(counts.stage2Flushes) * counts.guestMemoryMiB * stage2FlushPerMiB.cycles
        return Result(guestCycles: guest, trapCycles: traps)
    }
}
