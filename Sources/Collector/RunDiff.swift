import Formats
import FoundationEssentials
import Harness

/// What changed between two sets of run records (suite JSON lines), matched by snippet and
/// policy. Records whose `snippet_hash` differs are reported as not comparable, never compared.
public enum RunDiff {
    /// The run records of a complete suite file (or of a merge of its shards), by `snippet
    /// policy`; a partial, damaged or foreign file is refused.
    public static func load(_ url: URL, display: String) throws -> [String: RunReport] {
        try SuiteFile(url, display: display).reports
    }

    public static func key(_ report: RunReport) -> String { "\(report.snippet) \(report.policy.name)" }

    /// The outcome and counts a regression is about, each as a comparable string.
    static func fields(_ report: RunReport) -> [(String, String)] {
        let outcome = report.outcome, traps = report.traps
        let failures = outcome.failures.map { "\($0.kind.rawValue) \($0.observer) \($0.address) in \($0.states)" }
            .sorted().joined(separator: "; ")
        let conditions = outcome.conditions.map { "\($0.condition): \($0.observation) \($0.positive) \($0.negative) holds \($0.holds.map { "\($0)" } ?? "undecided")" }
            .sorted().joined(separator: "; ")
        let byRegister = traps.byRegister.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return [
            ("outcome.status", outcome.status.rawValue), ("outcome.exit_status", outcome.exitStatus.map { "\($0)" } ?? "null"),
            ("guest_instructions", "\(report.guestInstructions)"), ("traps.total", "\(traps.total)"),
            ("traps.by_register", byRegister), ("traps.exits", "\(traps.exits)"),
            ("outcome.schedules.explored", outcome.schedules.map { "\($0.explored)" } ?? "-"),
            ("outcome.undecided", outcome.undecided.joined(separator: "; ")),
            ("outcome.failures", failures), ("outcome.conditions", conditions),
            ("cost.modeled_overhead_pct", cFormat("%.2f", report.cost.modeledOverheadPct)),
        ]
    }

    /// One line per change, in key order; empty when nothing changed.
    public static func changes(from old: [String: RunReport], to new: [String: RunReport]) -> [String] {
        var lines: [String] = []
        for key in Set(old.keys).union(new.keys).sorted() {
            switch (old[key], new[key]) {
            case (nil, _?): lines.append("ADDED \(key)")
            case (_?, nil): lines.append("REMOVED \(key)")
            case (let a?, let b?):
                guard a.snippetHash == b.snippetHash else {
                    lines.append("NOT COMPARABLE \(key): the snippet changed (hash \(a.snippetHash.prefix(12)) -> \(b.snippetHash.prefix(12)))")
                    continue
                }
                for ((name, before), (_, after)) in zip(fields(a), fields(b)) where before != after {
                    lines.append("CHANGED \(key): \(name): \(before) -> \(after)")
                }
            case (nil, nil): break
            }
        }
        return lines
    }
}
