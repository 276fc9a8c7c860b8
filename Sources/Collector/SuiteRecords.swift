import Formats
import Foundation
import Harness
import Unicorn

/// What a suite run leaves in `results/`: JSON lines (a context record, then one record a
/// run), a summary table as Markdown and CSV, and the overhead chart as SVG.
public struct SuiteRecords {
    public static let toolVersion = "0.1.0"

    public let entries: [Suite.Entry]
    public let context: [String: String]

    public init(entries: [Suite.Entry], command: [String], date: Date = Date()) {
        self.entries = entries
        let unicorn = unicornVersion()
        let formatter = ISO8601DateFormatter()
        context = [
            "record": "context", "tool_version": Self.toolVersion, "git_commit": Self.git(["rev-parse", "HEAD"]) ?? "unknown",
            "git_dirty": (Self.git(["status", "--porcelain"]).map { $0.isEmpty ? "false" : "true" }) ?? "unknown",
            "unicorn_version": "\(unicorn.major).\(unicorn.minor)", "host": ProcessInfo.processInfo.hostName,
            "date": formatter.string(from: date), "command": command.joined(separator: " "),
        ]
    }

    /// The JSON lines: the context record first, then each run (`record: run`) or error.
    public var jsonLines: String {
        var lines = [Self.object(context)]
        for entry in entries {
            if let report = entry.report {
                // The report's own JSON with the record type added in front of its keys.
                lines.append(#"{"record":"run","# + report.json().dropFirst())
            } else {
                lines.append(Self.object(["record": "error", "snippet": entry.snippet, "policy": entry.policy,
                                          "error": entry.error ?? ""]))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static let header = ["snippet", "policy", "end", "verdict", "traps", "exits", "modeled overhead %"]

    var rows: [[String]] {
        entries.map { entry in
            guard let report = entry.report else { return [entry.snippet, entry.policy, "error", "error", "", "", ""] }
            return [entry.snippet, entry.policy, report.outcome.status.rawValue, Suite.verdict(entry),
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

    static func object(_ fields: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func git(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? text.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }
}

extension SuiteRecords {
    public struct MergeError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The runs of several shards' JSON lines, in snippet then policy-name order; a run present
    /// in two shards is an error (the shards overlap).
    public static func entries(fromShards files: [(URL, String)]) throws -> [Suite.Entry] {
        var entries: [String: Suite.Entry] = [:]
        for (url, display) in files {
            let text: String
            do {
                text = try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw MergeError(description: "\(display): cannot read: \(error.localizedDescription)")
            }
            for (number, line) in text.split(separator: "\n").enumerated() {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw MergeError(description: "\(display):\(number + 1): not a JSON object")
                }
                let entry: Suite.Entry
                switch object["record"] as? String {
                case "run":
                    guard let report = try? JSONDecoder().decode(RunReport.self, from: Data(line.utf8)) else {
                        throw MergeError(description: "\(display):\(number + 1): not a run record of this version")
                    }
                    entry = Suite.Entry(snippet: report.snippet, policy: report.policy.name, report: report)
                case "error":
                    entry = Suite.Entry(snippet: object["snippet"] as? String ?? "?", policy: object["policy"] as? String ?? "?",
                                        error: object["error"] as? String)
                default:
                    continue
                }
                let key = "\(entry.snippet) \(entry.policy)"
                if entries[key] != nil { throw MergeError(description: "\(display):\(number + 1): \(key) is in two shards") }
                entries[key] = entry
            }
        }
        return entries.values.sorted { ($0.snippet, $0.policy) < ($1.snippet, $1.policy) }
    }
}
