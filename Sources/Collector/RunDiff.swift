import Formats
import Foundation
import Harness

/// What changed between two sets of run records (suite JSON lines), matched by snippet and
/// policy. Records whose `snippet_hash` differs are reported as not comparable, never compared.
public enum RunDiff {
    public typealias Record = [String: Any]

    public struct LoadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The run records of a JSON-lines file, by `snippet policy`.
    public static func load(_ url: URL, display: String) throws -> [String: Record] {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw LoadError(description: "\(display): cannot read: \(error.localizedDescription)")
        }
        var records: [String: Record] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? Record else {
                throw LoadError(description: "\(display):\(index + 1): not a JSON object")
            }
            guard object["record"] as? String == "run" else { continue }
            records[key(object)] = object
        }
        return records
    }

    public static func record(_ report: RunReport) -> Record {
        (try? JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? Record) ?? [:]
    }

    public static func key(_ record: Record) -> String {
        "\(record["snippet"] as? String ?? "?") \((record["policy"] as? Record)?["name"] as? String ?? "?")"
    }

    /// The outcome and counts a regression is about, each as a comparable string.
    static func fields(_ record: Record) -> [(String, String)] {
        let outcome = record["outcome"] as? Record ?? [:]
        let traps = record["traps"] as? Record ?? [:]
        let failures = (outcome["failures"] as? [Record] ?? []).map {
            "\($0["kind"] ?? "") \($0["observer"] ?? "") \($0["address"] ?? "") in \($0["schedules"] ?? "")"
        }.sorted().joined(separator: "; ")
        let conditions = (outcome["conditions"] as? [Record] ?? []).map {
            "\($0["condition"] ?? ""): \($0["observation"] ?? "") \($0["positive"] ?? "") \($0["negative"] ?? "")"
        }.sorted().joined(separator: "; ")
        let byRegister = (traps["by_register"] as? [String: Int] ?? [:]).sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        let overhead = ((record["cost"] as? Record)?["modeled_overhead_pct"] as? Double).map { String(format: "%.2f", $0) } ?? ""
        return [
            ("outcome.status", "\(outcome["status"] ?? "")"), ("outcome.exit_status", "\(outcome["exit_status"] ?? "null")"),
            ("guest_instructions", "\(record["guest_instructions"] ?? "")"), ("traps.total", "\(traps["total"] ?? "")"),
            ("traps.by_register", byRegister), ("traps.exits", "\(traps["exits"] ?? "")"),
            ("outcome.schedules.explored", "\((outcome["schedules"] as? Record)?["explored"] ?? "")"),
            ("outcome.failures", failures), ("outcome.conditions", conditions),
            ("cost.modeled_overhead_pct", overhead),
        ]
    }

    /// One line per change, in key order; empty when nothing changed.
    public static func changes(from old: [String: Record], to new: [String: Record]) -> [String] {
        var lines: [String] = []
        for key in Set(old.keys).union(new.keys).sorted() {
            switch (old[key], new[key]) {
            case (nil, _?): lines.append("ADDED \(key)")
            case (_?, nil): lines.append("REMOVED \(key)")
            case (let a?, let b?):
                let hashA = a["snippet_hash"] as? String ?? "", hashB = b["snippet_hash"] as? String ?? ""
                guard hashA == hashB else {
                    lines.append("NOT COMPARABLE \(key): the snippet changed (hash \(hashA.prefix(12)) -> \(hashB.prefix(12)))")
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
