import Formats
import FoundationEssentials
import Harness

/// One snippet under several policies: the rows of `mairlab compare`.
public struct Comparison: Sendable {
    public struct Row: Sendable, Equatable {
        public var policy: String
        public var status: String
        public var exitStatus: UInt64?
        public var traps: Int
        public var exits: Int
        public var fastPathShare: Double?
        public var stage2Flushes: Int
        public var modeledOverheadPct: Double
        /// Emulator cost, measured on this host (never part of the model).
        public var hostNsPerTrap: Double?
    }

    public let snippet: String
    public let rows: [Row]

    public init(snippet: String, reports: [RunReport]) {
        self.snippet = snippet
        rows = reports.map { report in
            Row(policy: report.policy.name, status: report.outcome.status.rawValue,
                exitStatus: report.outcome.exitStatus, traps: report.traps.total, exits: report.traps.exits,
                fastPathShare: report.traps.total > 0
                    ? Double(report.traps.byPath["fast-path"] ?? 0) / Double(report.traps.total) : nil,
                stage2Flushes: report.traps.stage2Flushes, modeledOverheadPct: report.cost.modeledOverheadPct,
                hostNsPerTrap: report.cost.hostNsPerTrap)
        }
    }

    /// A fixed-width table for a terminal.
    public var table: String {
        let header = ["policy", "end", "traps", "exits", "fast-path", "s2 flush", "modeled overhead", "host ns/trap"]
        let body = rows.map { row in
            [row.policy, row.status + (row.exitStatus.map { " (\($0))" } ?? ""), "\(row.traps)", "\(row.exits)",
             row.fastPathShare.map { cFormat("%.2f%%", 100 * $0) } ?? "-", "\(row.stage2Flushes)",
             cFormat("%.2f%%", row.modeledOverheadPct),
             row.hostNsPerTrap.map { cFormat("%.0f", $0) } ?? "-"]
        }
        return Self.render(header: header, body: body)
    }

    /// Columns padded to their widest cell: the first left-aligned, the rest right-aligned,
    /// a rule under the header.
    static func render(header: [String], body: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + body).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == 0 ? cell.padded(to: widths[index])
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: "  ")
        }
        return ([line(header), String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))]
            + body.map(line)).joined(separator: "\n")
    }
}
