import AArch64
import Coherency
import Formats
import Foundation

/// Runs a snippet: one run without spontaneous eviction, then the eviction schedules explored.
public enum Runner {
    /// Assembles (or takes from the cache), loads and runs one snippet.
    public static func run(_ snippet: Snippet, options: RunOptions = RunOptions(),
                           cache: ImageCache = .standard()) throws -> RunReport {
        try run(LoadedSnippet.load(snippet, cache: cache), options: options)
    }

    /// One run with no spontaneous eviction (its counts are the report's), then, where lines
    /// were touched with mismatched attributes, every schedule of evictions of those lines at
    /// the decision points (each sync point, before and after the host acts, and the end).
    public static func run(_ loaded: LoadedSnippet, options: RunOptions) throws -> RunReport {
        let baseline = try GuestRun(loaded, options: options)
        var report = try baseline.run()
        guard !loaded.manifest.observed.isEmpty else { return report }
        let candidates = baseline.observed.system.mismatchedLines
        var details: [FinalState.Failure: String] = [:]
        func collect(_ run: GuestRun) -> FinalState {
            for failure in run.observed.system.failures {
                let key = FinalState.Failure(kind: failure.kind, observer: failure.observer, region: failure.region,
                                             address: failure.address)
                details[key] = details[key] ?? failure.detail
            }
            return run.observed.finalState(end: run.endKind)
        }
        let exploration: ScheduleExplorer.Result<FinalState>
        if candidates.isEmpty {
            exploration = .init(states: [(collect(baseline), 1)], explored: 1, cutShort: false)
        } else {
            exploration = try ScheduleExplorer.explore(cap: loaded.manifest.scheduleCap) { schedule in
                let run = try GuestRun(loaded, options: options, schedule: schedule, candidates: candidates)
                _ = try run.run()
                schedule = run.observed.schedule
                return collect(run)
            }
        }
        report.outcome.schedules = ScheduleSummary(explored: exploration.explored, cutShort: exploration.cutShort,
                                                   cap: loaded.manifest.scheduleCap,
                                                   candidateLines: candidates.sorted().map(hex))
        report.outcome.states = exploration.states.map { state, count in
            StateSummary(schedules: count,
                         observations: Dictionary(state.observations.map { ($0.label, hexBytes($0.bytes)) },
                                                  uniquingKeysWith: { first, _ in first }),
                         failures: state.failures.map { "\($0.kind.rawValue) \($0.observer) \(hex($0.address))" })
        }
        let keys = Set(exploration.states.flatMap(\.state.failures)).sorted()
        report.outcome.failures = keys.map { key in
            FailureSummary(kind: key.kind.rawValue, observer: key.observer, address: hex(key.address), region: key.region,
                           schedules: exploration.states.filter { $0.state.failures.contains(key) }.reduce(0) { $0 + $1.schedules },
                           detail: details[key] ?? "")
        }
        report.outcome.conditions = loaded.manifest.expectations.filter { $0.policies.contains(options.policy.name) }.map {
            let verdict = $0.condition.verdict(over: exploration.states)
            return ConditionVerdict(condition: $0.condition.description, policy: options.policy.name,
                                    observation: verdict.observation.rawValue, positive: verdict.positive,
                                    negative: verdict.negative, holds: verdict.holds, reason: $0.reason)
        }
        report.outcome.unpredictable = baseline.observed.unpredictable
        report.outcome.migrations = baseline.observed.migrations
        return report
    }
}

