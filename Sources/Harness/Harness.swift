import AArch64
import Coherency
import Formats
import Foundation

/// The entry points the CLI and the tests use.
public enum Harness {
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

extension RunReport {
    /// The report for a person at a terminal.
    public var text: String {
        var lines = ["\(snippet) under \(policy.name): \(outcome.status.rawValue)", "  \(outcome.message)"]
        if let fault = outcome.fault {
            lines.append("  fault: \(fault.kind.rawValue) at \(fault.site) (pc \(fault.pc))"
                         + (fault.instruction.map { ": \($0)" } ?? ""))
        }
        lines.append("  guest instructions: \(guestInstructions)")
        let paths = ["fast-path", "full-exit"].map { "\($0) \(traps.byPath[$0] ?? 0)" }.joined(separator: ", ")
        lines.append("  traps: \(traps.total) (\(paths)); exits \(traps.exits), stage-2 flushes \(traps.stage2Flushes)")
        for (register, count) in traps.byRegister.sorted(by: { $0.key < $1.key }) {
            lines.append("    \(register.padding(toLength: 15, withPad: " ", startingAt: 0)) \(count)")
        }
        for event in traps.events.prefix(Self.eventsShown) {
            let arrow = event.direction == "read" ? "->" : "<-"
            let rewritten = event.direction == "write" && event.loaded != event.value ? " (loaded \(event.loaded))" : ""
            lines.append("    \(event.site): \(event.register) \(arrow) \(event.value)\(rewritten) [\(event.path)]")
        }
        if traps.events.count > Self.eventsShown {
            lines.append("    ... \(traps.events.count - Self.eventsShown) more (--json has them all)")
        }
        for rewrite in rewrites {
            lines.append("  MAIR_EL1 rewrite at \(rewrite.site): \(rewrite.requested) -> \(rewrite.loaded)")
            for index in rewrite.indices {
                let effects = index.effects.isEmpty ? "unchanged" : index.effects.joined(separator: ", ")
                lines.append("    [\(index.attrIndx)] \(index.requested) -> \(index.loaded): \(effects)")
            }
        }
        if !syncPoints.isEmpty {
            lines.append("  sync points: " + syncPoints.map { "#\($0.id) at \($0.site)" }.joined(separator: ", "))
        }
        if !outcome.states.isEmpty {
            lines.append("  schedules: \(outcome.schedules.explored) explored\(outcome.schedules.cutShort ? " (cut short at the cap of \(outcome.schedules.cap))" : ""), \(outcome.states.count) final state(s)")
            if outcome.failures.isEmpty { lines.append("  coherent in every schedule") }
            for failure in outcome.failures {
                lines.append("  \(failure.kind) by \(failure.observer) at \(failure.address) (\(failure.region)) in \(failure.schedules) schedule(s): \(failure.detail)")
            }
            for verdict in outcome.conditions {
                lines.append("  Observation \(verdict.condition) \(verdict.observation) \(verdict.positive) \(verdict.negative): \(verdict.holds ? "as expected" : "NOT as expected")")
            }
            for migration in outcome.migrations { lines.append("  migrated \(migration)") }
            for site in outcome.unpredictable {
                lines.append("  UNPREDICTABLE effective attribute for an access at \(site) (served past the cache)")
            }
        }
        lines.append(String(format: "  modeled: %.0f guest cycles + %.0f trap cycles = %.2f%% overhead",
                            cost.guestCycles, cost.trapCycles, cost.modeledOverheadPct))
        return lines.joined(separator: "\n")
    }

    /// Trap events listed in the text report (a storm has thousands).
    static let eventsShown = 24
}
