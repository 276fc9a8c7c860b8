import ArgumentParser
import Collector
import FoundationEssentials
import Harness
import Hypervisor

extension Mairlab {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check", _superCommandName: "mairlab",
            abstract: "Regression mode: every snippet's stated conditions under every policy it names.",
            discussion: """
                One line per check: PASS, FAIL, XFAIL (a known failure, `xfail = "why"` in the \
                manifest) or SKIP (a policy nobody defines), then a SUMMARY line. Exit status 1 on \
                any unexpected result.
                """)

        @Argument(help: "Snippets (default: all).")
        var snippets: [String] = []

        @OptionGroup var location: SnippetLocation

        @OptionGroup var allowed: AllowedPaths

        @Flag(help: "Print TAP (Test Anything Protocol) instead.")
        var tap = false

        @OptionGroup var hypervisor: PolicyOptions

        @Option(help: "A suite's JSON lines to compare with: every outcome or count that changed is listed (and fails).")
        var baseline: String?

        func run() throws {
            let console = Console.current
            let found = try location.snippets(snippets, allowing: allowed)
            let catalog = try hypervisor.catalog()
            let old = try baseline.map { try RunDiff.load(URL(fileURLWithPath: $0), display: $0) }
            // With a baseline, every (snippet, policy) of the checked snippets runs, once: the
            // conditions are judged from the same runs that are compared.
            let outcome = Collector.Check.run(found, catalog: catalog, everyPolicy: baseline != nil)
            let results = outcome.results
            console.output(tap ? Collector.Check.tap(results) : results.map(\.line).joined(separator: "\n"))
            let comment = { (text: String) in tap ? Collector.Check.tapComment(text) : text }
            console.output(comment(Collector.Check.summary(results)))
            var changed = false
            if let baseline, let old {
                let current = Dictionary(outcome.entries.compactMap(\.report).map { (RunDiff.key($0), $0) },
                                         uniquingKeysWith: { first, _ in first })
                // Records of snippets not checked here are left out of the comparison.
                let checked = Set(found.map(\.name))
                let changes = RunDiff.changes(from: old.filter { checked.contains($0.value.snippet) }, to: current)
                console.output(comment("BASELINE \(baseline): " + (changes.isEmpty ? "no change" : "\(changes.count) change(s)")))
                for change in changes { console.output(comment(change)) }
                changed = !changes.isEmpty
            }
            if results.contains(where: \.isUnexpected) || changed { throw ExitCode(1) }
        }
    }
}
