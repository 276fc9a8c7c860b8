import Formats
import FoundationEssentials

extension BenchFigures {
    /// The readable table: each figure with its target and whether it held here.
    public var table: String {
        var rows: [(String, String, String)] = []
        func verdict(_ held: Bool) -> String { held ? "met" : "NOT MET" }
        if let c = compute {
            rows.append(("compute_ratio (raw / harness, \(c.instructions) insns)",
                         cFormat("%.2f  (%.2f ns/insn; raw %.2f, raw+block hook %.2f)", c.computeRatio,
                                c.harnessNanosecondsPerInstruction, Double(c.rawNanoseconds) / Double(max(c.instructions, 1)),
                                Double(c.rawBlockHookNanoseconds) / Double(max(c.instructions, 1))),
                         ">= 0.5: " + verdict(c.computeRatio >= 0.5)))
        }
        if let t = traps {
            rows.append(("host_ns_per_trap (over raw + MSR hook)", cFormat("%.0f ns", t.hostNanosecondsPerTrap)
                                                                           + "  (run's own: "
                                                                           + (t.reportedHostNanosecondsPerTrap.map { cFormat("%.0f ns", $0) } ?? "-") + ")",
                         "< 200: " + verdict(t.hostNanosecondsPerTrap < 200)))
            rows.append(("untrapped MSR over raw + hook", cFormat("%.1f ns", t.untrappedNanosecondsPerMSROverUnicorn), "~0"))
            if let mib = t.residentMiB {
                rows.append(("resident, \(t.residentTraps) traps (run --json)", cFormat("%.0f MiB", mib),
                             "< 1024: " + verdict(mib < 1024)))
            }
        }
        if let m = memory {
            rows.append(("observed_access_ratio (harness / raw MMIO)", cFormat("%.2f  (%.0f vs %.0f ns/access)",
                                                                              m.observedAccessRatio,
                                                                              Double(m.harnessObservedNanoseconds) / Double(m.accesses),
                                                                              Double(m.rawMMIONanoseconds) / Double(m.accesses)),
                         "< 3: " + verdict(m.observedAccessRatio < 3)))
            rows.append(("ram_access_ratio (harness / raw)", cFormat("%.2f", m.ramAccessRatio), "-"))
        }
        for p in exploration ?? [] {
            let held = p.complete && (p.lines < 64 || p.syncs < 8 || p.seconds < 1)
            rows.append(("exploration \(p.lines) lines x \(p.syncs) syncs",
                         cFormat("%.3f s, ", p.seconds) + (p.complete ? "complete" : "CUT SHORT")
                             + ", \(p.executions) execution(s), \(p.finalStates) final state(s)",
                         p.lines == 64 && p.syncs == 8 ? "complete, < 1 s: " + verdict(held) : "complete: " + verdict(p.complete)))
        }
        if let s = suite {
            rows.append(("suite_speedup_two_cores (\(s.runs) runs)", cFormat("%.2f  (1 core %.2f s, 2 cores %.2f s)",
                                                                          s.suiteSpeedupTwoCores, s.oneCoreSeconds, s.twoCoresSeconds), "-"))
            rows.append(("parallel efficiency vs control", cFormat("%.2f  (control speedup %.2f)", s.parallelEfficiency,
                                                                  s.controlSpeedup),
                         ">= 0.85: " + verdict(s.parallelEfficiency >= 0.85)))
        }
        if let p = processStart {
            rows.append(("process start (mairlab run / raw C)", cFormat("%.2f  (%.1f ms vs %.1f ms)", p.ratio,
                                                                      p.mairlabMilliseconds, p.rawMilliseconds),
                         "< 2: " + verdict(p.ratio < 2)))
        }
        rows += bootRows
        rows += linuxRows
        for (kind, reason) in unavailable.sorted(by: { $0.key < $1.key }) {
            rows.append(("\(kind)", "unavailable: \(reason)", "-"))
        }
        let width = rows.map(\.0.count).max() ?? 0, valueWidth = rows.map(\.1.count).max() ?? 0
        let header = "figure".padded(to: width) + "  "
            + "measured".padded(to: valueWidth) + "  target"
        return ([header] + rows.map {
            $0.0.padded(to: width) + "  "
                + $0.1.padded(to: valueWidth) + "  " + $0.2
        }).joined(separator: "\n") + "\n\(rounds) round(s), medians; \(build) build"
    }
}
