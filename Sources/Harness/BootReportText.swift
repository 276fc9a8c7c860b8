import Formats
import FoundationEssentials

extension BootReport {
    /// The report for a person: the outcome (with the console's tail when the console was not
    /// shown as it came), then the profile.
    public func text(consoleShown: Bool) -> String {
        var lines: [String] = []
        lines.append("")
        lines.append("== \(image.path) (\(image.format), \(image.size) bytes in \(image.placement) at \(image.base), entry \(image.entry)); \(board.ramMiB) MiB RAM, devicetree at \(board.deviceTree)")
        lines.append("outcome: \(outcome.status.rawValue): \(outcome.message)")
        if let test = outcome.test { lines.append("test result: \(test.line)") }
        if !consoleShown {
            lines.append("console tail:")
            lines += outcome.consoleTail.split(separator: "\n", omittingEmptySubsequences: false).map { "  | " + $0 }
        }
        lines.append("guest instructions: \(guestInstructions.grouped)")
        if let taken = exceptionsTaken {
            lines.append("exceptions taken at the guest's vectors: "
                         + taken.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if let acknowledged = interruptsAcknowledged {
            lines.append("interrupts acknowledged at the GIC (INTID x count): "
                         + acknowledged.sorted { Int($0.key)! < Int($1.key)! }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
                         + (wfiSkips > 0 ? "; WFI skipped the count ahead \(wfiSkips) time(s)" : ""))
        }
        if let relocation { lines.append("relocated by \(relocation.offset) (\(relocation.source)); sites are image+offset") }
        lines += profile.textLines(policy: policy.name)
        return lines.joined(separator: "\n")
    }
}

extension BootProfile {
    func textLines(policy: String) -> [String] {
        var lines = ["", "trapped accesses under \(policy): \(trapsTotal.grouped), stage-2 flushes: \(stage2Flushes)"]
        let header = ["target", "dir", "value", "loaded", "path", "count", "first site", "last site"]
        let rows = trapped.map {
            [$0.target, $0.direction.rawValue, $0.value ?? "-", $0.loaded ?? "-", $0.path.rawValue, $0.count.grouped,
             $0.firstSite, $0.lastSite]
        }
        lines += Self.table([header] + rows)
        if !mair.isEmpty {
            lines.append("")
            for value in mair {
                lines.append("MAIR_EL1 \(value.requested) -> \(value.loaded) (\(value.count)x)")
                lines += Self.table([["index", "requested", "loaded"]]
                    + value.indices.map { ["Attr\($0.attrIndx)", $0.requested, $0.loaded] })
            }
        }
        lines.append("")
        lines.append("cache and TLB maintenance (issued, trapped):")
        lines += Self.table(maintenance.map { [$0.operation, $0.issued.grouped, $0.trapped.grouped] })
        lines.append("")
        lines.append("exits by cause: " + exits.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.grouped)" }.joined(separator: ", "))
        if !psci.isEmpty {
            lines.append("PSCI calls:")
            lines += Self.table(psci.map { [$0.function, $0.result, "\($0.conduit) at \($0.site)"] })
        }
        let host = cost.hostNsPerTrap.map { ", host \(Int($0)) ns per trap handled (this emulator, not modeled)" } ?? ""
        lines.append(cFormat("modeled cost: %.0f trap cycles over %.0f guest cycles = %.3f%% overhead", cost.trapCycles,
                            cost.guestCycles, cost.modeledOverheadPct) + host)
        if let events {
            lines.append("")
            lines.append("trap events (\(events.count)):")
            lines += events.map { "  \($0.register) \($0.direction.rawValue) \($0.value) -> \($0.loaded) \($0.path.rawValue) at \($0.site)" }
        }
        return lines
    }

    /// Left-aligned columns, two spaces apart, indented by two.
    public static func table(_ rows: [[String]]) -> [String] {
        guard let width = rows.map(\.count).max() else { return [] }
        let widths = (0..<width).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            "  " + row.enumerated().map { $0.element.padded(to: widths[$0.offset]) }
                .joined(separator: "  ").trimmingBlanks()
        }
    }
}

extension BinaryInteger {
    /// 33280 as "33,280".
    public var grouped: String {
        let digits = String(self)
        var out = ""
        for (n, c) in digits.reversed().enumerated() {
            if n > 0, n % 3 == 0, c != "-" { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}
