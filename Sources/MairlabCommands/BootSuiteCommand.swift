import ArgumentParser
import Collector
import Formats
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Harness

extension Mairlab.Boot {
    /// `--suite FILE`: every test of a unittests.cfg under every policy, as a matrix (or JSON lines:
    /// a context record, then one `boot` record per test and policy).
    func runSuite(_ path: String) throws {
        let console = Console.current
        let config = try UnitTestsConfig(contentsOf: URL(fileURLWithPath: path), displayPath: path)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        let suite = BootSuite(config: config, folder: folder, group: group)
        if let group, suite.tests.isEmpty { throw BadInput("\(path): no test is in group '\(group)'") }
        let catalog = try hypervisor.catalog()
        let policies = try hypervisor.resolveAll(catalog: catalog)
        let costModel = try hypervisor.costModel()
        let (memory, budget) = (memory, budget)
        let child = Self.executable.map { executable in
            (executable, Dictionary(zip(policies.map(\.name), hypervisor.baseNames(catalog: catalog)), uniquingKeysWith: { first, _ in first }),
             hypervisor.knobArguments)
        }
        let runs = suite.run(policies: policies, jobs: jobs, boot: { image, test, policy in
            let memory = test.memoryMiB.map { $0 << 20 } ?? memory
            guard let (executable, bases, knobs) = child else {
                return try Harness.Boot.run(BootOptions(imagePath: image, memory: memory, bootargs: test.bootargs, budget: budget,
                                                        policy: policy, costModel: costModel))
            }
            let bootargs = test.bootargs.isEmpty ? [] : ["--bootargs=\(test.bootargs)"]
            return try Self.boot(executable, ["boot", image, "--json", "--budget=\(budget)", "--memory=\(memory)",
                                              "--policy=\(bases[policy.name]!)"] + bootargs + knobs)
        }, progress: { done, total, run in
            let line = "[\(done)/\(total)] \(run.test) under \(run.policy): \(run.verdict)"
            console.error(console.isTerminal ? "\r\u{1B}[K" + line : line, terminator: console.isTerminal ? "" : "\n")
        })
        if console.isTerminal { console.error("") }
        if json {
            let context = SuiteRecord.context(SuiteContext.current(command: CommandLine.arguments)).jsonLine
            console.output(([context] + runs.map(\.jsonLine)).joined(separator: "\n"))
        } else {
            console.output(BootSuite.matrix(runs, policies: policies.map(\.name)))
        }
        for run in runs where run.verdict == "error" {
            console.error("mairlab: \(run.test) under \(run.policy): \(run.reason ?? "")")
        }
        if runs.contains(where: { $0.verdict == "error" }) { throw ExitCode(BadInput.status) }
        if !runs.allSatisfy(\.passes) { throw ExitCode(1) }
    }

    /// This program, when it is the `mairlab` executable (not a test runner): each run of a
    /// suite is then a child `mairlab boot --json`, as run_tests.sh starts one QEMU per test, so
    /// a guest that crashes the emulator ends its own run only.
    static var executable: String? {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
              path.hasSuffix("/mairlab") else { return nil }
        return path
    }

    static func boot(_ executable: String, _ arguments: [String]) throws -> BootReport {
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"  // a crash is reported here, in one line
        let result = try ProcessRunner.run(executable, arguments, environment: environment)
        if let report = try? JSONDecoder().decode(BootReport.self, from: Data(result.stdout.utf8)) { return report }
        let lines = result.stderr.split(separator: "\n")
        if result.status == 2 || result.status == 64 {
            throw BadInput(lines.first.map { String($0.trimmingPrefix("mairlab: ")) } ?? "status \(result.status)")
        }
        if let signal = result.signal {
            throw BootSuite.Crash("the emulator died of signal \(signal)" + (signal == SIGSEGV ? " (SIGSEGV)" : ""))
        }
        throw BootSuite.Crash("the emulator stopped with status \(result.status)" + (lines.last.map { ": " + $0 } ?? ""))
    }
}
