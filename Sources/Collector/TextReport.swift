import AArch64
import Formats
import FoundationEssentials
import Harness

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
            lines.append("    \(register.padded(to: 15)) \(count)")
        }
        let events = traps.events ?? []
        for event in events.prefix(Self.eventsShown) {
            let arrow = event.direction == .read ? "->" : "<-"
            let rewritten = event.direction == .write && event.loaded != event.value ? " (loaded \(event.loaded))" : ""
            lines.append("    \(event.site): \(event.register) \(arrow) \(event.value)\(rewritten) [\(event.path.rawValue)]")
        }
        if traps.total > min(events.count, Self.eventsShown) && !events.isEmpty {
            lines.append("    ... \(traps.total - min(events.count, Self.eventsShown)) more (--events --json lists them all)")
        }
        for rewrite in rewrites {
            let times = rewrite.count > 1 ? " (\(rewrite.count) times)" : ""
            lines.append("  MAIR_EL1 rewrite at \(rewrite.site)\(times): \(rewrite.requested) -> \(rewrite.loaded)")
            for index in rewrite.indices {
                let effects = index.effects.isEmpty ? "unchanged" : index.effects.joined(separator: ", ")
                lines.append("    [\(index.attrIndx)] \(index.requested) -> \(index.loaded): \(effects)")
            }
        }
        if let taken = exceptionsTaken {
            lines.append("  exceptions taken at the guest's vectors: "
                         + taken.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !syncPoints.isEmpty {
            lines.append("  sync points: " + syncPoints.map { "#\($0.id) at \($0.site)" }.joined(separator: ", "))
        }
        if let schedules = outcome.schedules {
            lines.append("  executions: \(schedules.explored)\(schedules.cutShort ? " (cut short at the cap of \(schedules.cap))" : ""), \(outcome.states.count) final state(s), at most \(schedules.lineStates) state(s) of one line")
            if outcome.failures.isEmpty { lines.append("  coherent in every execution") }
            for failure in outcome.failures {
                lines.append("  \(failure.kind.rawValue) by \(failure.observer) at \(failure.address) (\(failure.region)) in \(failure.states) final state(s), e.g. --schedule '\(failure.schedule)': \(failure.detail)")
            }
            for verdict in outcome.conditions {
                let judged = switch verdict.holds {
                case true?: "as expected"
                case false?: "NOT as expected"
                case nil: "UNDECIDED"
                }
                lines.append("  Observation \(verdict.condition) \(verdict.observation) \(verdict.positive) \(verdict.negative): \(judged)")
            }
            for migration in outcome.migrations { lines.append("  migrated \(migration)") }
            for reason in outcome.undecided { lines.append("  undecided: \(reason)") }
        }
        lines.append("  modeled: \(fixed(cost.guestCycles, digits: 0)) guest cycles + \(fixed(cost.trapCycles, digits: 0)) trap cycles"
                     + " = \(fixed(cost.modeledOverheadPct, digits: 2))% overhead")
        return lines.joined(separator: "\n")
    }

    /// Trap events listed in the text report (a storm has thousands).
    public static let eventsShown = 24
}
