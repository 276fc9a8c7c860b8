import Dispatch
import Formats
import FoundationEssentials
import Harness
import Hypervisor

/// Every snippet under every policy: independent runs, spread over the machine's cores.
public enum SuiteRun {
    /// One run of the suite: a report, or why there is none (a broken snippet).
    public struct Entry: Sendable {
        public var snippet: String
        public var policy: String
        public var report: RunReport?
        public var error: String?

        public init(snippet: String, policy: String, report: RunReport? = nil, error: String? = nil) {
            self.snippet = snippet
            self.policy = policy
            self.report = report
            self.error = error
        }

        /// `snippet policy`: how records are matched across suite files.
        public var key: String { "\(snippet) \(policy)" }
    }

    /// Loads each snippet once (a broken one yields an error entry per policy), then runs every
    /// (snippet, policy) pair concurrently on `jobs` threads (nil: one per core). Entries come
    /// back in snippet-then-policy order.
    public static func run(_ snippets: [Snippet], policies: [Policy], costModel: CostModel = .defaults,
                           cache: ImageCache = .standard(), shard: Shard? = nil, jobs threads: Int? = nil,
                           events: Bool = false,
                           progress: @escaping @Sendable (_ done: Int, _ total: Int, _ entry: Entry) -> Void = { _, _, _ in }) -> [Entry] {
        let plan = SuitePlan(snippets, policies: policies, cache: cache, shard: shard, jobs: threads)
        return run(plan, costModel: costModel, jobs: threads, events: events, progress: progress)
    }

    /// Runs the plan's runs (those of its shard) not in `skip` (keys of runs already recorded),
    /// calling `progress` as each finishes, from the thread that ran it. Workers stop taking runs
    /// once `shouldStop` says so; the runs made are returned in plan order.
    public static func run(_ plan: SuitePlan, costModel: CostModel = .defaults, jobs threads: Int? = nil,
                           events: Bool = false, skip: Set<String> = [],
                           shouldStop: @escaping @Sendable () -> Bool = { false },
                           progress: @escaping @Sendable (_ done: Int, _ total: Int, _ entry: Entry) -> Void = { _, _, _ in }) -> [Entry] {
        let jobs = plan.selected.filter { !skip.contains($0.key) }
        let results = Results<Entry>(count: jobs.count)
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, jobs.count))
        results.perform(workers: workers, shouldStop: shouldStop) { index in
            let job = jobs[index]
            var entry = Entry(snippet: job.snippet.name, policy: job.policy.name)
            switch job.load {
            case .failure(let error):
                entry.error = error.description
            case .success(let snippet):
                do {
                    entry.report = try Runner.run(snippet, options: RunOptions(policy: job.policy, costModel: costModel,
                                                                                eventLimit: events ? nil : 0))
                } catch {
                    entry.error = "\(error)"
                }
            }
            let done = results.store(entry, at: index)
            progress(done, jobs.count, entry)
        }
        return results.entries
    }

    /// A deterministic slice of the suite, so that a CI matrix can spread it over machines:
    /// shard I of N takes the (snippet, policy) pairs whose index modulo N is I - 1.
    public struct Shard: Sendable, Equatable, CustomStringConvertible {
        public let index: Int
        public let count: Int

        public init(index: Int, count: Int) throws(ShardError) {
            guard count >= 1, (1...count).contains(index) else { throw ShardError(text: "\(index)/\(count)") }
            self.index = index
            self.count = count
        }

        /// Parses `I/N` with 1 <= I <= N, or `auto` (see `auto(environment:)`).
        public init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ShardError) {
            if text == "auto" {
                self = try Self.auto(environment: environment)
                return
            }
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
                throw ShardError(text: text)
            }
            do {
                try self.init(index: index, count: count)
            } catch {
                throw ShardError(text: text)
            }
        }

        public func contains(_ job: Int) -> Bool { job % count == index - 1 }

        /// The shard a fan-out engine gave this process, from its environment, first match:
        /// `MAIRLAB_SHARD_INDEX` (1-based) and `MAIRLAB_SHARD_COUNT` (any CI matrix);
        /// Kubernetes Indexed Jobs' `JOB_COMPLETION_INDEX` (0-based) with `MAIRLAB_SHARD_COUNT`
        /// (the Job's `completions`, which Kubernetes does not put in the environment); Slurm job
        /// arrays' `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT` (IDs from
        /// `SLURM_ARRAY_TASK_MIN` in steps of `SLURM_ARRAY_TASK_STEP`); GitLab's `CI_NODE_INDEX`
        /// (1-based) and `CI_NODE_TOTAL`.
        public static func auto(environment env: [String: String]) throws(ShardError) -> Shard {
            func number(_ name: String) throws(ShardError) -> Int? {
                guard let text = env[name] else { return nil }
                guard let value = Int(text.trimmingBlanks()) else {
                    throw ShardError(text: "auto", detail: "\(name)=\(text) is not a number")
                }
                return value
            }
            let count = try number("MAIRLAB_SHARD_COUNT")
            let found: (index: Int, count: Int?, from: String)?
            if let index = try number("MAIRLAB_SHARD_INDEX") {
                found = (index, count, "MAIRLAB_SHARD_INDEX")
            } else if let index = try number("JOB_COMPLETION_INDEX") {
                found = (index + 1, count, "JOB_COMPLETION_INDEX")
            } else if let id = try number("SLURM_ARRAY_TASK_ID") {
                let first = try number("SLURM_ARRAY_TASK_MIN") ?? 0, step = max(1, try number("SLURM_ARRAY_TASK_STEP") ?? 1)
                found = ((id - first) / step + 1, try number("SLURM_ARRAY_TASK_COUNT") ?? count, "SLURM_ARRAY_TASK_ID")
            } else if let index = try number("CI_NODE_INDEX") {
                found = (index, try number("CI_NODE_TOTAL") ?? count, "CI_NODE_INDEX")
            } else {
                found = nil
            }
            guard let found else {
                throw ShardError(text: "auto", detail: "no shard index in the environment (MAIRLAB_SHARD_INDEX, JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or CI_NODE_INDEX)")
            }
            guard let total = found.count else {
                throw ShardError(text: "auto", detail: "\(found.from) gives the index but no shard count: set MAIRLAB_SHARD_COUNT")
            }
            do {
                return try Shard(index: found.index, count: total)
            } catch {
                throw ShardError(text: "auto", detail: "\(found.from) makes shard \(found.index)/\(total), outside 1...\(total)")
            }
        }

        public var description: String { "\(index)/\(count)" }
    }

    public struct ShardError: Error, CustomStringConvertible, Equatable {
        public let text: String
        public var detail: String?

        public init(text: String, detail: String? = nil) {
            self.text = text
            self.detail = detail
        }

        public var description: String {
            detail.map { "--shard \(text): \($0)" } ?? "'\(text)' is not a shard: give I/N with 1 <= I <= N, e.g. 2/4, or auto"
        }
    }

    /// The verdict of one entry for the summary: the snippet's stated conditions when it has
    /// some for this policy, else what the coherency model saw.
    public static func verdict(_ entry: Entry) -> String {
        guard let report = entry.report else { return "error" }
        if report.outcome.status != .completed {
            return report.outcome.status.rawValue + (report.outcome.fault.map { ": \($0.kind.rawValue)" } ?? "")
        }
        let conditions = report.outcome.conditions
        if !conditions.isEmpty {
            let failed = conditions.filter { $0.holds == false }.count, open = conditions.filter { $0.holds == nil }.count
            if failed > 0 { return "FAIL (\(failed) of \(conditions.count))" }
            return open > 0 ? "UNDECIDED (\(open) of \(conditions.count))" : "PASS (\(conditions.count))"
        }
        if report.outcome.states.isEmpty { return "-" }
        if report.outcome.failures.isEmpty { return report.outcome.undecided.isEmpty ? "coherent" : "undecided" }
        let total = report.outcome.states.count
        return Set(report.outcome.failures.map { "\($0.kind.rawValue) \($0.states == total ? "Always" : "Sometimes")" })
            .sorted().joined(separator: ", ")
    }
}

/// Results of concurrent runs, each slot written once.
final class Results<Slot>: @unchecked Sendable {
    private let lock = Lock()
    private var slots: [Slot?]
    private var done = 0
    private var next = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// Runs `body` for every slot index on `workers` threads, each taking the next index when
    /// it is free (runs differ a thousandfold in length: no static split), until `shouldStop`.
    func perform(workers: Int, shouldStop: @escaping @Sendable () -> Bool, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            startThread { [self] in
                while !shouldStop(), let index = take() { body(index) }
                group.leave()
            }
        }
        group.wait()
    }

    private func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < slots.count else { return nil }
        next += 1
        return next - 1
    }

    func store(_ entry: Slot, at index: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = entry
        done += 1
        return done
    }

    var entries: [Slot] {
        lock.lock()
        defer { lock.unlock() }
        return slots.compactMap { $0 }
    }
}
