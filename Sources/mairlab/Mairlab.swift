import ArgumentParser
import Foundation
import Harness

@main
struct Mairlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mairlab",
        abstract: "Run AArch64 guest snippets under a modelled hypervisor and report traps and coherency.",
        subcommands: [Run.self, List.self, Compare.self, Explain.self])
}

/// Where the snippets live (shared by the subcommands that find them).
struct SnippetLocation: ParsableArguments {
    @Option(name: .customLong("images"), help: "The folder of snippets.")
    var images: String = "guest-images"

    var directory: URL { URL(fileURLWithPath: images) }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run snippets (all of them when none is named) and print what happened.",
        discussion: """
            Exit status: 0 when every run completed with guest exit status 0 and its stated \
            conditions held; 1 when a run ended otherwise (a guest fault, its budget, a non-zero \
            exit status, a condition not as expected); 2 on bad input \
            (a manifest, an assembler error, a missing snippet).
            """)

    @Argument(help: "Snippets: guest-images/NAME, NAME.S, or NAME.")
    var snippets: [String] = []

    @OptionGroup var location: SnippetLocation

    @Flag(help: "Print each run as one JSON object on its own line.")
    var json = false

    @Option(help: "Instruction budget (overrides the manifest's run.budget).")
    var budget: Int?

    @OptionGroup var hypervisor: PolicyOptions

    func validate() throws {
        if let budget, budget < 1 { throw ValidationError("--budget must be at least 1") }
    }

    func run() throws {
        let found: [Snippet]
        do {
            found = snippets.isEmpty ? try Snippet.all(in: location.directory)
                : try snippets.map { try Snippet(path: $0, searchDirectory: location.directory) }
        } catch {
            fail(error)
        }
        let options: RunOptions
        do {
            options = RunOptions(budget: budget, policy: hypervisor.resolve(), costModel: try hypervisor.costModel())
        } catch {
            fail(error)
        }
        var allPassed = true
        var badInput = false
        for snippet in found {
            do {
                let report = try Harness.run(snippet, options: options)
                print(json ? report.json() : report.text)
                allPassed = allPassed && report.outcome.status == .completed && report.outcome.exitStatus == 0
                    && report.outcome.conditions.allSatisfy(\.holds)
            } catch {
                // One broken snippet does not stop the others.
                printError(error)
                badInput = true
            }
        }
        if badInput { throw ExitCode(2) }
        if !allPassed { throw ExitCode(1) }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the snippets and what each is for.")

    @OptionGroup var location: SnippetLocation

    func run() throws {
        do {
            for snippet in try Snippet.all(in: location.directory) {
                let manifest = try Manifest(contentsOf: snippet.manifestFile, displayPath: snippet.displayManifest)
                print("\(snippet.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(manifest.description)")
            }
        } catch {
            fail(error)
        }
    }
}

func printError(_ error: any Error) {
    FileHandle.standardError.write(Data("mairlab: \(error)\n".utf8))
}

func fail(_ error: any Error) -> Never {
    printError(error)
    Mairlab.exit(withError: ExitCode(2))
}
