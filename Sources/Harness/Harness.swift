import Foundation

/// The entry points the CLI and the tests use.
public enum Harness {
    /// Assembles (or takes from the cache), loads and runs one snippet.
    public static func run(_ snippet: Snippet, options: RunOptions = RunOptions(),
                           cache: ImageCache = .standard()) throws -> RunReport {
        let loaded = try LoadedSnippet.load(snippet, cache: cache)
        return try GuestRun(loaded, options: options).run()
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
        lines.append(String(format: "  modeled: %.0f guest cycles + %.0f trap cycles = %.2f%% overhead",
                            cost.guestCycles, cost.trapCycles, cost.modeledOverheadPct))
        return lines.joined(separator: "\n")
    }

    /// Trap events listed in the text report (a storm has thousands).
    static let eventsShown = 24
}
