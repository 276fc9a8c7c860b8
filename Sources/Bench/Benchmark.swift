import Dispatch
import Formats
import FoundationEssentials
import Harness
import Hypervisor

/// `mairlab bench`: each workload run both ways in one process, round after round (the order
/// alternating), medians kept; the suite and process start measured as child processes.
public struct Benchmark {
    public struct Options: Sendable {
        public var rounds = 5
        /// The snippets folder (its `include/` builds the workloads; the suite workload runs it).
        public var images = URL(fileURLWithPath: "guest-images")
        /// This program, for the suite and process-start workloads.
        public var executable: String
        /// The raw C program's source (Benchmarks/raw-run.c) and the header it includes.
        public var rawSource = URL(fileURLWithPath: "Benchmarks/raw-run.c")
        public var workloads: Set<Kind> = Set(Kind.allCases)
        /// Divides the heavy workloads' sizes (a quick look; figures are noisier).
        public var scaleDown = 1
        public var build = "unknown"

        public init(executable: String) { self.executable = executable }
    }

    public enum Kind: String, CaseIterable, Sendable {
        case compute, traps, memory, exploration, suite, start, boot, linux
    }

    let options: Options
    let folder: WorkloadFolder
    let progress: (String) -> Void

    public init(options: Options, progress: @escaping (String) -> Void) throws {
        self.options = options
        self.progress = progress
        folder = try WorkloadFolder(includeFrom: options.images)
    }

    public func run() throws -> BenchFigures {
        defer { folder.remove() }
        var figures = BenchFigures(rounds: options.rounds, build: options.build)
        let kinds = Kind.allCases.filter(options.workloads.contains)
        for kind in kinds {
            progress("bench: \(kind.rawValue)")
            do {
                switch kind {
                case .compute: figures.compute = try compute()
                case .traps: figures.traps = try traps()
                case .memory: figures.memory = try memory()
                case .exploration: figures.exploration = try exploration()
                case .suite: figures.suite = try suite()
                case .start: figures.processStart = try processStart()
                case .boot: figures.boot = try boot()
                case .linux: figures.linux = try linux()
                }
            } catch let error as BenchError {
                figures.unavailable[kind.rawValue] = error.description
            }
        }
        return figures
    }

    // MARK: in-process workloads

    func load(_ name: String, _ workload: (source: String, manifest: String)) throws -> LoadedSnippet {
        try LoadedSnippet.load(try folder.write(name, workload))
    }

    /// Runs `loaded` under `policy` through the whole harness: its time and report, checked to
    /// have completed (a broken workload must not pass for a fast one).
    func harness(_ loaded: LoadedSnippet, policy: Policy) throws -> (nanoseconds: UInt64, report: RunReport) {
        let start = DispatchTime.now().uptimeNanoseconds
        let report = try Runner.run(loaded, options: RunOptions(policy: policy, eventLimit: 0))
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        guard report.outcome.status == .completed else {
            throw BenchError("workload \(loaded.snippet.name) did not complete: \(report.outcome.message)")
        }
        return (elapsed, report)
    }

    /// `rounds` rounds of `measures`, in alternating order; the median of each.
    func interleaved(_ measures: [() throws -> UInt64]) throws -> [UInt64] {
        var samples = Array(repeating: [UInt64](), count: measures.count)
        // On one core, both sides: moved between cores they drift apart (`onOneCPU`).
        try onOneCPU {
            for round in 0..<options.rounds {
                let order = round % 2 == 0 ? Array(measures.indices) : measures.indices.reversed()
                for index in order { samples[index].append(try measures[index]()) }
            }
        }
        return samples.map(median)
    }

    func compute() throws -> BenchFigures.Compute {
        let iterations = 25_000_000 / options.scaleDown
        let loaded = try load("compute", Workload.compute(iterations: iterations))
        let raw = try RawRun(loaded)
        var instructions: UInt64 = 0
        let times = try interleaved([
            { try raw.run().nanoseconds },
            { try raw.run(hook: .block).nanoseconds },
            {
                let (time, report) = try harness(loaded, policy: .fwbHost)
                instructions = report.guestInstructions
                return time
            },
        ])
        return BenchFigures.Compute(instructions: instructions, rawNanoseconds: times[0], rawBlockHookNanoseconds: times[1],
                                    harnessNanoseconds: times[2], computeRatio: Double(times[0]) / Double(times[2]),
                                    harnessNanosecondsPerInstruction: Double(times[2]) / Double(max(instructions, 1)))
    }

    func traps() throws -> BenchFigures.Traps {
        let count = 1_000_000 / options.scaleDown
        let loaded = try load("traps", Workload.traps(count))
        let raw = try RawRun(loaded)
        var reported: Double?
        var trapped = 0
        let times = try interleaved([
            { try raw.run().nanoseconds },
            { try raw.run(hook: .msr).nanoseconds },
            {
                let (time, report) = try harness(loaded, policy: .rfc2015)
                reported = report.cost.hostNsPerTrap
                trapped = report.traps.total
                return time
            },
            { try harness(loaded, policy: .fwbHost).nanoseconds },
        ])
        guard trapped == count else { throw BenchError("the trap workload trapped \(trapped) times, not \(count)") }
        let perTrap = (Double(times[2]) - Double(times[1])) / Double(count)
        let untrapped = (Double(times[3]) - Double(times[1])) / Double(count)
        let resident = try residentMemory()
        return BenchFigures.Traps(traps: UInt64(count), rawNanoseconds: times[0], rawMSRHookNanoseconds: times[1],
                                  harnessNanoseconds: times[2], hostNanosecondsPerTrap: perTrap,
                                  reportedHostNanosecondsPerTrap: reported, untrappedNanosecondsPerMSROverUnicorn: untrapped,
                                  residentTraps: resident.traps, residentMiB: resident.mib)
    }

    /// Peak resident memory of `mairlab run --json` on a guest that traps 10 M times.
    func residentMemory() throws -> (traps: UInt64, mib: Double?) {
        let traps = 10_000_000 / options.scaleDown
        let snippet = try folder.write("traps-resident", Workload.traps(traps))
        let result = try Spawn.run([options.executable, "run", "--images", folder.directory.path, "--policy", "rfc-2015",
                                    "--json", snippet.name])
        guard result.status == 0 else { throw BenchError("mairlab run of \(traps) traps exited with \(result.status)") }
        return (UInt64(traps), Double(result.maxResidentKiB) / 1024)
    }

    func memory() throws -> BenchFigures.Memory {
        let iterations = 100_000 / options.scaleDown
        let observed = try load("observed", Workload.memory(iterations: iterations, address: Workload.window, observed: true))
        let plain = try load("ram", Workload.memory(iterations: iterations, address: Workload.plainRAM, observed: false))
        let rawObserved = try RawRun(observed, mmio: (Workload.window, 0x1000))
        let rawPlain = try RawRun(plain)
        let times = try interleaved([
            { try rawObserved.run().nanoseconds },
            { try harness(observed, policy: .kvm2015).nanoseconds },
            { try rawPlain.run().nanoseconds },
            { try harness(plain, policy: .kvm2015).nanoseconds },
        ])
        let accesses = UInt64(2 * iterations)
        return BenchFigures.Memory(accesses: accesses, rawMMIONanoseconds: times[0], harnessObservedNanoseconds: times[1],
                                   observedAccessRatio: Double(times[1]) / Double(times[0]), rawRAMNanoseconds: times[2],
                                   harnessRAMNanoseconds: times[3], ramAccessRatio: Double(times[3]) / Double(times[2]))
    }

    /// A framebuffer of L lines filled through Normal-NC before each of S sync points, where the
    /// VMM reads it cacheably (kvm-2015: the stale-display case, the most states per line).
    func exploration() throws -> [BenchFigures.ExplorationPoint] {
        var points: [BenchFigures.ExplorationPoint] = []
        for lines in [1, 8, 64] {
            for syncs in [1, 2, 8] {
                let loaded = try load("fb-\(lines)x\(syncs)", Workload.framebuffer(lines: lines, syncs: syncs))
                var report: RunReport?
                let time = try interleaved([{
                    let (time, run) = try harness(loaded, policy: .kvm2015)
                    report = run
                    return time
                }])[0]
                let schedules = report?.outcome.schedules
                points.append(.init(lines: lines, syncs: syncs, seconds: Double(time) / 1e9,
                                    complete: schedules.map { !$0.cutShort } ?? false, executions: schedules?.explored ?? 0,
                                    finalStates: report?.outcome.states.count ?? 0, lineStates: schedules?.lineStates ?? 0))
            }
        }
        return points
    }
}
