import Coherency
import FoundationEssentials
import Hypervisor

/// Runs a snippet and explores what its shared memory can do. Each execution follows one
/// guest path; shared memory explores every cache behaviour of each line along it. Where a
/// guest read can return different values, the guest may behave differently: the explorer
/// runs the guest again for each value (depth first, up to the manifest's `schedule_cap`
/// executions). The first execution's counts are the report's.
public enum Runner {
    /// Assembles (or takes from the cache), loads and runs one snippet.
    public static func run(_ snippet: Snippet, options: RunOptions = RunOptions(),
                           cache: ImageCache = .standard()) throws -> RunReport {
        try run(LoadedSnippet.load(snippet, cache: cache), options: options)
    }

    public static func run(_ loaded: LoadedSnippet, options: RunOptions) throws -> RunReport {
        let cap = loaded.manifest.scheduleCap
        var exploration = Exploration()
        var report: RunReport?
        var pending: [[Int]] = [[]]
        while let prefix = pending.popLast() {
            guard exploration.executions < cap else {
                exploration.cutShort = true
                break
            }
            let chooser = BranchChooser(prefix: prefix)
            let execution = try GuestExecution(loaded, options: options, chooser: chooser)
            try execution.run()
            if report == nil { report = try execution.report() }
            guard let result = execution.result(choices: chooser.made) else { break }
            exploration.add(result)
            // Each value not taken at a read past the prefix is another execution, last first
            // so that executions run in the order of their choices.
            for (position, count) in chooser.branches.enumerated().reversed() where position >= prefix.count {
                for value in (1..<count).reversed() {
                    pending.append(Array(chooser.made[..<position]) + [value])
                }
            }
        }
        guard var report else { throw HarnessError.io("no execution ran") }
        guard !loaded.manifest.observed.isEmpty else { return report }
        let expectations = loaded.manifest.expectations.filter { $0.policies.contains(options.policy.name) }
            .map { (condition: $0.condition, reason: $0.reason) }
        report.outcome.record(ExplorationOutcome(exploration, cap: cap, expectations: expectations, policy: options.policy.name))
        return report
    }

    /// One execution along `schedule`: its report, and the trace of what happened to shared
    /// memory (each guest and host access, each cache move, each line before and after).
    public static func replay(_ loaded: LoadedSnippet, options: RunOptions, schedule: ScheduleID) throws
        -> (report: RunReport, trace: [TraceEntry]) {
        let chooser = BranchChooser(prefix: schedule.choices)
        let execution = try GuestExecution(loaded, options: options, chooser: chooser, replay: schedule.lines)
        try execution.run()
        let report = try execution.report()
        return (report, execution.shared?.model.trace ?? [])
    }
}

/// Picks the values of one execution: those of its prefix, then the first of each further
/// read; remembers how many values each read could have had.
final class BranchChooser: ValueChooser {
    private let prefix: [Int]
    private(set) var made: [Int] = []
    private(set) var branches: [Int] = []

    init(prefix: [Int]) { self.prefix = prefix }

    func choose(among count: Int) -> Int {
        let choice = made.count < prefix.count ? min(prefix[made.count], count - 1) : 0
        made.append(choice)
        branches.append(count)
        return choice
    }
}
