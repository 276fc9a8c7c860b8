import Formats
import FoundationEssentials
import Harness
import Hypervisor

/// What a suite sets out to run: every (snippet, policy) pair, numbered in snippet-then-policy
/// order (the numbering shards slice), each snippet loaded once. Its digest names the suite's
/// definition (snippet contents, policy knobs), so that shards and resumed files are checked to
/// belong to the same suite.
public struct SuitePlan: Sendable {
    public struct Job: Sendable {
        public let index: Int
        public let snippet: Snippet
        public let load: Result<LoadedSnippet, HarnessError>
        public let policy: Policy
        /// `snippet policy`, as records are matched.
        public var key: String { "\(snippet.name) \(policy.name)" }
    }

    /// The plan as the context record states it.
    public struct Summary: Codable, Sendable, Equatable {
        /// Runs in the whole suite (every shard).
        public var runs: Int
        /// SHA-256 of every planned run's snippet name and content hash and policy knobs.
        public var digest: String
        /// `I/N` for a shard, absent for the whole suite.
        public var shard: String?
        /// Runs this file is to hold.
        public var selected: Int
        /// The policies in the order runs are listed (after the snippet's name).
        public var policies: [String]

        /// Plan order: by snippet name, then policy in `policies` order.
        public func sorted(_ entries: [SuiteRun.Entry]) -> [SuiteRun.Entry] {
            let rank = Dictionary(policies.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            return entries.sorted { ($0.snippet, rank[$0.policy] ?? Int.max, $0.policy) < ($1.snippet, rank[$1.policy] ?? Int.max, $1.policy) }
        }
    }

    public let jobs: [Job]
    public let shard: SuiteRun.Shard?
    public let policies: [String]

    /// Snippets are loaded on `jobs` threads (nil: one per core), as the suite then runs:
    /// reading, hashing and parsing them would otherwise be its serial start.
    public init(_ snippets: [Snippet], policies: [Policy], cache: ImageCache = .standard(), shard: SuiteRun.Shard? = nil,
                jobs threads: Int? = nil) {
        let loads = Results<Result<LoadedSnippet, HarnessError>>(count: snippets.count)
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, snippets.count))
        loads.perform(workers: workers, shouldStop: { false }) { index in
            let load: Result<LoadedSnippet, HarnessError>
            do {
                load = .success(try LoadedSnippet.load(snippets[index], cache: cache))
            } catch let error as HarnessError {
                load = .failure(error)
            } catch {
                load = .failure(.io("\(error)"))
            }
            _ = loads.store(load, at: index)
        }
        let loaded = Array(zip(snippets, loads.entries))
        jobs = loaded.flatMap { snippet, load in policies.map { (snippet, load, $0) } }.enumerated()
            .map { Job(index: $0.offset, snippet: $0.element.0, load: $0.element.1, policy: $0.element.2) }
        self.shard = shard
        self.policies = policies.map(\.name)
    }

    /// The runs of this shard (all of them without one).
    public var selected: [Job] { jobs.filter { shard?.contains($0.index) ?? true } }

    public var summary: Summary {
        let lines = jobs.map { job -> String in
            let content = switch job.load {
            case .success(let snippet): snippet.hash
            case .failure(let error): "error: \(error)"
            }
            return "\(job.snippet.name) \(content) \(JSONLine.encode(PolicySummary(job.policy)))\n"
        }
        return Summary(runs: jobs.count, digest: SHA256.hexDigest(Array(lines.joined().utf8)),
                       shard: shard?.description, selected: selected.count, policies: policies)
    }
}
