import Coherency
import Foundation

/// Runs a snippet: one execution with no spontaneous eviction (its counts are the report's),
/// then, where lines were touched with mismatched attributes, every schedule of evictions of
/// those lines at the decision points (each sync point, before and after the host acts, and
/// the end), each a new execution with the explorer's chooser.
public enum Runner {
    /// Assembles (or takes from the cache), loads and runs one snippet.
    public static func run(_ snippet: Snippet, options: RunOptions = RunOptions(),
                           cache: ImageCache = .standard()) throws -> RunReport {
        try run(LoadedSnippet.load(snippet, cache: cache), options: options)
    }

    public static func run(_ loaded: LoadedSnippet, options: RunOptions) throws -> RunReport {
        let baseline = try GuestExecution(loaded, options: options)
        var report = try baseline.run()
        guard let shared = baseline.shared else { return report }
        let candidates = shared.system.candidateLines
        var details: [FinalState.Failure: String] = [:]
        func collect(_ execution: GuestExecution) -> FinalState {
            for failure in execution.shared?.system.failures ?? [] {
                let key = FinalState.Failure(kind: failure.kind, observer: failure.observer, region: failure.region,
                                             address: failure.address)
                details[key] = details[key] ?? failure.detail
            }
            return execution.finalState
        }
        let cap = loaded.manifest.scheduleCap
        let result: ScheduleExplorer.Result<FinalState>
        if candidates.isEmpty {
            result = .init(states: [(collect(baseline), 1)], explored: 1, cutShort: false)
        } else {
            result = try ScheduleExplorer.explore(cap: cap) { chooser in
                let execution = try GuestExecution(loaded, options: options, chooser: chooser, candidates: candidates)
                _ = try execution.run()
                return collect(execution)
            }
        }
        let expectations = loaded.manifest.expectations.filter { $0.policies.contains(options.policy.name) }
            .map { (condition: $0.condition, reason: $0.reason) }
        report.outcome.record(ExplorationOutcome(result: result, cap: cap, candidateLines: candidates, details: details,
                                                 expectations: expectations, policy: options.policy.name))
        return report
    }
}
