import Formats
import FoundationEssentials
import Harness

/// What a suite run leaves in `results/`: JSON lines (a context record, then one record a
/// run), a summary table as Markdown and CSV, and the overhead chart as SVG.
public struct SuiteRecords {
    public let entries: [SuiteRun.Entry]
    public let context: SuiteContext

    public init(entries: [SuiteRun.Entry], context: SuiteContext) {
        self.entries = entries
        self.context = context
    }

    /// The records in file order: the context, each run (or its error), the closing record.
    public var records: [SuiteRecord] {
        let end = SuiteEnd(complete: true, runs: entries.count, errors: entries.filter { $0.error != nil }.count, interrupted: nil)
        return [.context(context)] + SuiteWriter.records(entries) + [.end(end)]
    }

    public var jsonLines: String { records.map(\.jsonLine).joined(separator: "\n") + "\n" }

    static let header = ["snippet", "policy", "end", "verdict", "traps", "exits", "modeled overhead %"]

    var rows: [[String]] {
        entries.map { entry in
            guard let report = entry.report else { return [entry.snippet, entry.policy, "error", "error", "", "", ""] }
            return [entry.snippet, entry.policy, report.outcome.status.rawValue, SuiteRun.verdict(entry),
                    "\(report.traps.total)", "\(report.traps.exits)", cFormat("%.2f", report.cost.modeledOverheadPct)]
        }
    }

    public var markdown: String {
        ([Self.header, Self.header.map { _ in "---" }] + rows)
            .map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n") + "\n"
    }

    public var csv: String {
        ([Self.header] + rows).map { $0.map(Self.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// Fixed-width for a terminal.
    public var table: String {
        let all = [Self.header] + rows
        let widths = Self.header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { $1.padded(to: widths[$0]) }
                .joined(separator: "  ").trimmingBlanks()
        }.joined(separator: "\n")
    }

    /// Suite-wide modeled overhead per policy: trap cycles over guest cycles of all its runs.
    public var chart: BarChart {
        var order: [String] = []
        var totals: [String: (trap: Double, guest: Double)] = [:]
        for entry in entries {
            guard let report = entry.report else { continue }
            if totals[entry.policy] == nil { order.append(entry.policy) }
            totals[entry.policy, default: (0, 0)].trap += report.cost.trapCycles
            totals[entry.policy, default: (0, 0)].guest += report.cost.guestCycles
        }
        return BarChart(title: "Modeled trap overhead by policy, whole suite",
                        subtitle: "sum of trap cycles / sum of guest cycles over every snippet",
                        unit: "%", bars: order.map { ($0, totals[$0]!.guest > 0 ? 100 * totals[$0]!.trap / totals[$0]!.guest : 0) })
    }

    static func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"" + text.replacing("\"", with: "\"\"") + "\"" : text
    }
}

extension SuiteRecords {
    /// The runs (and error entries) of a suite file's records.
    public static func entries(in records: [SuiteRecord]) -> [SuiteRun.Entry] {
        records.compactMap { record in
            switch record {
            case .context, .end: nil
            case .run(let report): SuiteRun.Entry(snippet: report.snippet, policy: report.policy.name, report: report)
            case .error(let error): SuiteRun.Entry(snippet: error.snippet, policy: error.policy, error: error.error)
            }
        }
    }
}
