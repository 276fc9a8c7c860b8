import AArch64
import Coherency

/// The trace of a replayed execution, for a person: each event on shared memory with the cache
/// moves made before it and the line before and after (I the inner level, O the outer, M the
/// memory at the PoC; runs of equal bytes as VALUE×COUNT).
public enum TraceReport {
    public static func text(_ trace: [TraceEntry], schedule: ScheduleID) -> String {
        var lines = ["trace of schedule \(schedule) (\(trace.count) event(s) on shared memory):"]
        for (index, entry) in trace.enumerated() {
            lines.append("  [\(index)] line \(hex(entry.line)): \(entry.what)")
            if !entry.steps.isEmpty { lines.append("      cache moves first: \(entry.steps.joined(separator: ", "))") }
            lines.append("      before: \(entry.before)")
            lines.append("      after:  \(entry.after)")
            if !entry.failures.isEmpty { lines.append("      failures so far: \(entry.failures.joined(separator: ", "))") }
        }
        return lines.joined(separator: "\n")
    }
}

