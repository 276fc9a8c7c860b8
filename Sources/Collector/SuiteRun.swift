import Foundation
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
        let loaded: [(Snippet, Result<LoadedSnippet, HarnessError>)] = snippets.map { snippet in
            do {
                return (snippet, .success(try LoadedSnippet.load(snippet, cache: cache)))
            } catch let error as HarnessError {
                return (snippet, .failure(error))
            } catch {
                return (snippet, .failure(.io("\(error)")))
            }
        }
        let jobs = loaded.flatMap { snippet, result in policies.map { (snippet, result, $0) } }
            .enumerated().filter { shard?.contains($0.offset) ?? true }.map(\.element)
        let results = Results(count: jobs.count)
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, jobs.count))
        results.perform(workers: workers) { index in
            let (snippet, load, policy) = jobs[index]
            var entry = Entry(snippet: snippet.name, policy: policy.name)
            switch load {
            case .failure(let error):
                entry.error = error.description
            case .success(let snippet):
                do {
                    entry.report = try Runner.run(snippet, options: RunOptions(policy: policy, costModel: costModel,
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

        /// Parses `I/N` with 1 <= I <= N.
        public init(parsing text: String) throws(ShardError) {
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

        public var description: String { "\(index)/\(count)" }
    }

    public struct ShardError: Error, CustomStringConvertible, Equatable {
        public let text: String
        public var description: String { "'\(text)' is not a shard: give I/N with 1 <= I <= N, e.g. 2/4" }
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
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [SuiteRun.Entry?]
    private var done = 0
    private var next = 0

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    /// Runs `body` for every slot index on `workers` threads, each taking the next index when
    /// it is free (runs differ a thousandfold in length: no static split).
    func perform(workers: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                while let index = take() { body(index) }
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
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

    func store(_ entry: SuiteRun.Entry, at index: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = entry
        done += 1
        return done
    }

    var entries: [SuiteRun.Entry] {
        lock.lock()
        defer { lock.unlock() }
        return slots.compactMap { $0 }
    }
}
