import Formats
import FoundationEssentials
import Harness

/// One boot under several policies: what trapping the VM registers costs a real OS
/// (`mairlab compare --boot`). A context switch is counted from the kernel's own evidence:
/// with CONFIG_PID_IN_CONTEXTIDR, `contextidr_thread_switch` writes CONTEXTIDR_EL1 on every
/// switch, whether or not it traps (the trapped count equals it only under a policy that traps
/// for the whole run). System calls come from the guest's own count, when its console prints
/// a line `mairlab-init: ... syscalls=N ...` (guest-images/linux-init: the parent's own calls).
public struct BootComparison: Sendable {
    public struct Row: Sendable, Equatable {
        public var policy: String
        public var status: String
        public var traps: Int
        /// Trapped writes by register.
        public var writes: [String: Int]
        public var fullExits: Int
        public var modeledOverheadPct: Double
        public var guestInstructions: UInt64
    }

    public let rows: [Row]
    /// The guest's own counts (`key=value` on its `mairlab-init:` line), from the first boot.
    public let guestCounts: [String: Int]

    public init(reports: [BootReport]) {
        rows = reports.map { report in
            var writes: [String: Int] = [:]
            for row in report.profile.trapped where row.direction == .write { writes[row.target, default: 0] += row.count }
            return Row(policy: report.policy.name, status: report.outcome.status.rawValue, traps: report.profile.trapsTotal,
                       writes: writes, fullExits: report.profile.exits["trap full-exit"] ?? 0,
                       modeledOverheadPct: report.profile.cost.modeledOverheadPct, guestInstructions: report.guestInstructions)
        }
        guestCounts = reports.first.map { Self.counts(in: $0.console) } ?? [:]
    }

    /// `key=value` pairs of the last console line that starts with `mairlab-init:` (the
    /// parent's summary, printed after its children's).
    static func counts(in console: String) -> [String: Int] {
        guard let line = console.split(whereSeparator: \.isNewline).last(where: { $0.hasPrefix("mairlab-init:") }) else { return [:] }
        var counts: [String: Int] = [:]
        for token in line.split(separator: " ") {
            let pair = token.split(separator: "=", maxSplits: 1)
            if pair.count == 2, let value = Int(pair[1]) { counts[String(pair[0])] = value }
        }
        return counts
    }

    /// The registers Linux writes after boot, then the total and the rates.
    public var table: String {
        let registers = ["TTBR0_EL1", "TTBR1_EL1", "CONTEXTIDR_EL1"]
        let syscalls = guestCounts["syscalls"]
        var header = ["policy", "end", "traps"] + registers + ["full exits", "modeled overhead", "traps/CONTEXTIDR write"]
        if syscalls != nil { header.append("traps/init syscall") }
        let body = rows.map { row -> [String] in
            let switches = row.writes["CONTEXTIDR_EL1"] ?? 0
            var cells = [row.policy, row.status, "\(row.traps)"] + registers.map { "\(row.writes[$0] ?? 0)" }
            cells += ["\(row.fullExits)", cFormat("%.3f%%", row.modeledOverheadPct),
                      switches > 0 ? cFormat("%.2f", Double(row.traps) / Double(switches)) : "-"]
            if let syscalls { cells.append(syscalls > 0 ? cFormat("%.2f", Double(row.traps) / Double(syscalls)) : "-") }
            return cells
        }
        return Comparison.render(header: header, body: body)
    }
}
