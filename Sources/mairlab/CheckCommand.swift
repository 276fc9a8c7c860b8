import ArgumentParser
import Collector
import Foundation
import Harness

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Regression mode: every snippet's stated conditions under every policy it names.",
        discussion: """
            One line per check: PASS, FAIL, XFAIL (a known failure, `xfail = "why"` in the \\
            manifest) or SKIP (a policy nobody defines), then a SUMMARY line. Exit status 1 on \\
            any unexpected result.
            """)

    @Argument(help: "Snippets (default: all).")
    var snippets: [String] = []

    @OptionGroup var location: SnippetLocation

    @Flag(help: "Print TAP (Test Anything Protocol) instead.")
    var tap = false

    func run() throws {
        let found: [Snippet]
        do {
            found = snippets.isEmpty ? try Snippet.all(in: location.directory)
                : try snippets.map { try Snippet(path: $0, searchDirectory: location.directory) }
        } catch {
            fail(error)
        }
        let results = Check.run(found)
        print(tap ? Check.tap(results) : results.map(\.line).joined(separator: "\n"))
        print(tap ? "# " + Check.summary(results) : Check.summary(results))
        if results.contains(where: \.isUnexpected) { throw ExitCode(1) }
    }
}
