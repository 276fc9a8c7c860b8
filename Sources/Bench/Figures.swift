import FoundationEssentials

/// What `mairlab bench` measured: medians over interleaved rounds, each harness figure beside
/// raw Unicorn's on the same guest ELF in the same process. Ratios are comparable across
/// machines; absolute times are not.
public struct BenchFigures: Codable, Sendable {
    public struct Compute: Codable, Sendable {
        public var instructions: UInt64
        public var rawNanoseconds: UInt64
        public var rawBlockHookNanoseconds: UInt64
        public var harnessNanoseconds: UInt64
        /// Raw time over harness time: 1 is raw Unicorn's speed (target: at least 0.5).
        public var computeRatio: Double
        public var harnessNanosecondsPerInstruction: Double

        enum CodingKeys: String, CodingKey {
            case instructions, rawNanoseconds = "raw_ns", rawBlockHookNanoseconds = "raw_block_hook_ns",
                 harnessNanoseconds = "harness_ns", computeRatio = "compute_ratio",
                 harnessNanosecondsPerInstruction = "harness_ns_per_instruction"
        }
    }

    public struct Traps: Codable, Sendable {
        public var traps: UInt64
        public var rawNanoseconds: UInt64
        public var rawMSRHookNanoseconds: UInt64
        public var harnessNanoseconds: UInt64
        /// (harness - raw with a do-nothing MSR hook) / traps: what the harness adds per trapped
        /// write over the hook any trap needs (target: under 200).
        public var hostNanosecondsPerTrap: Double
        /// The run's own `cost.host_ns_per_trap` (trap handling alone, timed inside the run).
        public var reportedHostNanosecondsPerTrap: Double?
        /// The same loop with nothing trapped (policy fwb): the harness over raw with the hook,
        /// per MSR.
        public var untrappedNanosecondsPerMSROverUnicorn: Double
        /// Peak resident memory of `mairlab run` on a guest making `residentTraps` trapped writes.
        public var residentTraps: UInt64
        public var residentMiB: Double?

        enum CodingKeys: String, CodingKey {
            case traps, rawNanoseconds = "raw_ns", rawMSRHookNanoseconds = "raw_msr_hook_ns",
                 harnessNanoseconds = "harness_ns", hostNanosecondsPerTrap = "host_ns_per_trap",
                 reportedHostNanosecondsPerTrap = "reported_host_ns_per_trap",
                 untrappedNanosecondsPerMSROverUnicorn = "untrapped_ns_per_msr_over_unicorn",
                 residentTraps = "resident_traps", residentMiB = "resident_mib"
        }
    }

    public struct Memory: Codable, Sendable {
        public var accesses: UInt64
        public var rawMMIONanoseconds: UInt64
        public var harnessObservedNanoseconds: UInt64
        /// Harness time per observed access over raw Unicorn's per MMIO access (target: under 3).
        public var observedAccessRatio: Double
        public var rawRAMNanoseconds: UInt64
        public var harnessRAMNanoseconds: UInt64
        public var ramAccessRatio: Double

        enum CodingKeys: String, CodingKey {
            case accesses, rawMMIONanoseconds = "raw_mmio_ns", harnessObservedNanoseconds = "harness_observed_ns",
                 observedAccessRatio = "observed_access_ratio", rawRAMNanoseconds = "raw_ram_ns",
                 harnessRAMNanoseconds = "harness_ram_ns", ramAccessRatio = "ram_access_ratio"
        }
    }

    public struct ExplorationPoint: Codable, Sendable {
        public var lines: Int
        public var syncs: Int
        public var seconds: Double
        /// Every execution explored (not cut short by a cap).
        public var complete: Bool
        public var executions: Int
        public var finalStates: Int
        public var lineStates: Int

        enum CodingKeys: String, CodingKey {
            case lines, syncs, seconds, complete, executions, finalStates = "final_states", lineStates = "line_states"
        }
    }

    public struct Suite: Codable, Sendable {
        public var runs: Int
        public var oneCoreSeconds: Double
        public var twoCoresSeconds: Double
        /// Two independent one-core suite processes started together: what two cores give here.
        public var controlSeconds: Double
        public var suiteSpeedupTwoCores: Double
        public var controlSpeedup: Double
        /// suite speedup / control speedup (target: at least 0.85).
        public var parallelEfficiency: Double

        enum CodingKeys: String, CodingKey {
            case runs, oneCoreSeconds = "one_core_s", twoCoresSeconds = "two_cores_s", controlSeconds = "control_s",
                 suiteSpeedupTwoCores = "suite_speedup_two_cores", controlSpeedup = "control_speedup",
                 parallelEfficiency = "parallel_efficiency"
        }
    }

    public struct ProcessStart: Codable, Sendable {
        public var rawMilliseconds: Double
        public var mairlabMilliseconds: Double
        /// mairlab over the raw C program (target: under 2).
        public var ratio: Double

        enum CodingKeys: String, CodingKey { case rawMilliseconds = "raw_ms", mairlabMilliseconds = "mairlab_ms", ratio }
    }

    public var rounds: Int
    public var build: String
    public var compute: Compute?
    public var traps: Traps?
    public var memory: Memory?
    public var exploration: [ExplorationPoint]?
    public var suite: Suite?
    public var processStart: ProcessStart?
    public var boot: Boot?
    public var linux: Linux?
    /// Workloads that could not be measured here, and why.
    public var unavailable: [String: String] = [:]

    enum CodingKeys: String, CodingKey {
        case rounds, build, compute, traps, memory, exploration, suite, processStart = "process_start", boot, linux, unavailable
    }
}

/// The median of measurements (the lower middle of an even count).
func median(_ values: [UInt64]) -> UInt64 {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[(sorted.count - 1) / 2]
}
