import Formats
import FoundationEssentials
import Harness
import Hypervisor

/// `mairlab boot --suite`: the tests of a kvm-unit-tests `unittests.cfg`, each image booted with
/// its bootargs under every policy asked for, decided as run_tests.sh decides them where it can.
public struct BootSuite: Sendable {
    /// One test under one policy: a line of `--json`, a cell of the matrix.
    public struct Run: Codable, Sendable, Equatable {
        public var test: String
        public var policy: String
        /// `PASS`, `FAIL` or `SKIP` as the guest reported it, else how the run ended
        /// (`budget-exhausted`, `guest-fault`, ...), `crashed` when the emulator died, or `error`
        /// when the run could not be made (bad input).
        public var verdict: String
        /// Why the test was not run, or the error that stopped it.
        public var reason: String?
        public var file: String
        public var bootargs: String
        public var groups: [String]
        public var report: BootReport?

        /// PASS and SKIP are what a clean run_tests.sh shows.
        public var passes: Bool { verdict == "PASS" || verdict == "SKIP" }
        public var jsonLine: String { SuiteRecord.jsonLine(kind: "boot", payload: JSONLine.encode(self)) }
    }

    public let config: UnitTestsConfig
    /// Where the cfg file is: images are named relative to it.
    public let folder: URL
    /// `--group`: only tests in it, `nodefault` ones included (run_tests.sh -g).
    public let group: String?

    public init(config: UnitTestsConfig, folder: URL, group: String?) {
        self.config = config
        self.folder = folder
        self.group = group
    }

    public var tests: [UnitTestsConfig.Test] {
        config.tests.filter { test in group.map { test.groups.contains($0) } ?? true }
    }

    /// Why `test` is not run here, in run_tests.sh's words where it has them; nil to run it.
    public func skipReason(_ test: UnitTestsConfig.Test) -> String? {
        if group == nil, test.groups.contains("nodefault") { return "test marked as manual run only" }
        if let arch = test.arch, arch != "arm64" { return "\(arch) only" }
        if let machine = test.machine, machine != "virt" { return "\(machine) only" }
        if let accel = test.accel { return "\(accel) only" }
        if test.smp > 1 { return "smp = \(test.smp): this board has one CPU" }
        if test.groups.contains("migration") { return "migration: a guest is never migrated here" }
        if let condition = test.disabledIf { return "disabled_if is not evaluated here: \(condition)" }
        if let check = test.check { return "check is not evaluated here: \(check)" }
        let image = folder.appendingPathComponent(test.file).path
        if !FileManager.default.fileExists(atPath: image) { return "Test file '\(Snippet.relative(image))' not found" }
        return nil
    }

    /// A run whose emulator died (a host signal): that test's outcome, not the suite's end.
    public struct Crash: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Runs every selected test under every policy on `jobs` threads (nil: one per core),
    /// `boot` making each run (its image's path given); skipped tests get their SKIP without
    /// running. Runs come back test by test, policies in the order given.
    public func run(policies: [Policy], jobs threads: Int? = nil,
                    boot: @escaping @Sendable (_ image: String, _ test: UnitTestsConfig.Test, _ policy: Policy) throws -> BootReport,
                    progress: @escaping @Sendable (_ done: Int, _ total: Int, _ run: Run) -> Void = { _, _, _ in }) -> [Run] {
        let pairs = tests.flatMap { test in policies.map { (test, $0) } }
        let results = Results<Run>(count: pairs.count)
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, pairs.count))
        results.perform(workers: workers, shouldStop: { false }) { index in
            let (test, policy) = pairs[index]
            var run = Run(test: test.name, policy: policy.name, verdict: "SKIP", reason: skipReason(test), file: test.file,
                          bootargs: test.bootargs, groups: test.groups)
            if run.reason == nil {
                do {
                    let report = try boot(folder.appendingPathComponent(test.file).path, test, policy)
                    (run.report, run.verdict) = (report, Self.verdict(report))
                } catch let crash as Crash {
                    (run.verdict, run.reason) = ("crashed", crash.description)
                } catch {
                    (run.verdict, run.reason) = ("error", "\(error)")
                }
            }
            progress(results.store(run, at: index), pairs.count, run)
        }
        return results.entries
    }

    /// The guest's own verdict when it finished reporting (an `EXIT:` line, or a power-off),
    /// or any FAIL it printed; else how the run ended.
    public static func verdict(_ report: BootReport) -> String {
        let ended = [.systemOff, .systemReset].contains(report.outcome.status)
        if let test = report.outcome.test, test.verdict == .fail || test.exitStatus != nil || ended {
            return test.verdict.rawValue
        }
        return report.outcome.status.rawValue
    }

    /// Tests down, policies across: each cell the verdict and the run's trapped accesses; a
    /// last column says why a test was skipped, or what its guest summed up.
    public static func matrix(_ runs: [Run], policies: [String]) -> String {
        var order: [String] = []
        var byTest: [String: [String: Run]] = [:]
        for run in runs {
            if byTest[run.test] == nil { order.append(run.test) }
            byTest[run.test, default: [:]][run.policy] = run
        }
        let rows = order.map { test -> [String] in
            let cells = policies.map { byTest[test]?[$0] }
            let first = cells.compactMap { $0 }.first
            let note = first?.reason ?? first?.report.map { report in
                report.outcome.test?.summary.map { "SUMMARY: " + $0 } ?? report.outcome.message
            } ?? ""
            return [test] + cells.map { run in
                guard let run else { return "-" }
                return run.report.map { "\(run.verdict) \($0.profile.trapsTotal.grouped)" } ?? run.verdict
            } + [note]
        }
        var counts: [String: Int] = [:]
        for run in runs { counts[run.verdict, default: 0] += 1 }
        let tally = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return (BootProfile.table([["test"] + policies + [""]] + rows) + [
            "", "each cell: the verdict (or how the run ended) and the accesses trapped under that policy",
            "\(runs.count) runs: \(tally)",
        ]).joined(separator: "\n")
    }
}
