import Foundation
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

    public init(entries: [SuiteRun.Entry], command: [String], date: Date = Date()) {
        self.init(entries: entries, context: .current(command: command, date: date))
    }

    /// The records in file order: the context, then each run (or its error).
    public var records: [SuiteRecord] {
        [.context(context)] + entries.map { entry in
            entry.report.map(SuiteRecord.run)
                ?? .error(SuiteRunError(snippet: entry.snippet, policy: entry.policy, error: entry.error ?? ""))
        }
    }

    public var jsonLines: String { records.map(\.jsonLine).joined(separator: "\n") + "\n" }

    static let header = ["snippet", "policy", "end", "verdict", "traps", "exits", "modeled overhead %"]

    var rows: [[String]] {
        entries.map { entry in
            guard let report = entry.report else { return [entry.snippet, entry.policy, "error", "error", "", "", ""] }
            return [entry.snippet, entry.policy, report.outcome.status.rawValue, SuiteRun.verdict(entry),
                    "\(report.traps.total)", "\(report.traps.exits)", String(format: "%.2f", report.cost.modeledOverheadPct)]
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
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
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

    /// Writes `STEM.jsonl`, `STEM.md`, `STEM.csv` and `STEM.svg` under `directory`, each through
    /// a temporary file renamed into place, so an interrupted run never leaves half a record.
    public func write(to directory: URL, stem: String) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try [("jsonl", jsonLines), ("md", markdown), ("csv", csv), ("svg", chart.svg)].map { ext, text in
            let url = directory.appendingPathComponent("\(stem).\(ext)")
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url
        }
    }

    static func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}

extension SuiteRecords {
    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The records of a suite file, each line checked (a line that is not a record names its
    /// line number).
    public static func read(_ url: URL, display: String) throws -> [SuiteRecord] {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ReadError(description: "\(display): cannot read: \(error.localizedDescription)")
        }
        var records: [SuiteRecord] = []
        for (number, line) in text.split(separator: "\n").enumerated() {
            do {
                records.append(try SuiteRecord(jsonLine: line))
            } catch {
                throw ReadError(description: "\(display):\(number + 1): not a suite record of this version")
            }
        }
        return records
    }

    /// The runs (and error entries) of a suite file.
    public static func entries(in records: [SuiteRecord]) -> [SuiteRun.Entry] {
        records.compactMap { record in
            switch record {
            case .context: nil
            case .run(let report): SuiteRun.Entry(snippet: report.snippet, policy: report.policy.name, report: report)
            case .error(let error): SuiteRun.Entry(snippet: error.snippet, policy: error.policy, error: error.error)
            }
        }
    }

    /// The runs of several shards' JSON lines, in snippet then policy-name order; a run present
    /// in two shards is an error (the shards overlap).
    public static func entries(fromShards files: [(URL, String)]) throws -> [SuiteRun.Entry] {
        var entries: [String: SuiteRun.Entry] = [:]
        for (url, display) in files {
            for entry in Self.entries(in: try read(url, display: display)) {
                if entries[entry.key] != nil { throw ReadError(description: "\(display): \(entry.key) is in two shards") }
                entries[entry.key] = entry
            }
        }
        return entries.values.sorted { ($0.snippet, $0.policy) < ($1.snippet, $1.policy) }
    }
}
