import ArgumentParser
import Collector
import Formats
import Foundation
import Harness
import Hypervisor

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Regression mode: every snippet's stated conditions under every policy it names.",
        discussion: """
            One line per check: PASS, FAIL, XFAIL (a known failure, `xfail = "why"` in the \
            manifest) or SKIP (a policy nobody defines), then a SUMMARY line. Exit status 1 on \
            any unexpected result.
            """)

    @Argument(help: "Snippets (default: all).")
    var snippets: [String] = []

    @OptionGroup var location: SnippetLocation

    @Flag(help: "Print TAP (Test Anything Protocol) instead.")
    var tap = false

    @Option(help: "A TOML file of more policies (see `mairlab run --help`).")
    var policyFile: String?

    @Option(help: "A suite's JSON lines to compare with: every outcome or count that changed is listed (and fails).")
    var baseline: String?

    func run() throws {
        let found = location.snippets(snippets)
        let catalog: [Policy]
        do {
            catalog = try PolicyOptions.catalog(policyFile: policyFile)
        } catch {
            fail(error)
        }
        let results = Check.run(found, catalog: catalog).results
        print(tap ? Check.tap(results) : results.map(\.line).joined(separator: "\n"))
        print(tap ? "# " + Check.summary(results) : Check.summary(results))
        var changed = false
        if let baseline {
            do {
                let old = try RunDiff.load(URL(fileURLWithPath: baseline), display: baseline)
                // Every (snippet, policy) of the checked snippets, not only those with conditions;
                // records of snippets not checked here are left out of the comparison.
                let runs = Suite.run(found, policies: catalog).compactMap(\.report)
                let current = Dictionary(runs.map(RunDiff.record).map { (RunDiff.key($0), $0) },
                                         uniquingKeysWith: { first, _ in first })
                let checked = Set(found.map(\.name))
                let changes = RunDiff.changes(from: old.filter { checked.contains($0.value["snippet"] as? String ?? "") },
                                              to: current)
                print((tap ? "# " : "") + "BASELINE \(baseline): " + (changes.isEmpty ? "no change" : "\(changes.count) change(s)"))
                for change in changes { print((tap ? "# " : "") + change) }
                changed = !changes.isEmpty
            } catch {
                fail(error)
            }
        }
        if results.contains(where: \.isUnexpected) || changed { throw ExitCode(1) }
    }
}
