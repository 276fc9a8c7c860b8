import ArgumentParser
import Collector
import Formats
import Foundation
import Harness
import Hypervisor

@main
struct Mairlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mairlab",
        abstract: "Run AArch64 guest snippets under a modelled hypervisor and report traps and coherency.",
        subcommands: [Run.self, List.self, CheckCommand.self, Compare.self, Merge.self, Explain.self])
}

/// Where the snippets live (shared by the subcommands that find them).
struct SnippetLocation: ParsableArguments {
    @Option(name: .customLong("images"), help: "The folder of snippets.")
    var images: String = "guest-images"

    var directory: URL { URL(fileURLWithPath: images) }

    /// The snippets named (all of them when none is), or exit 2 naming the one missing.
    func snippets(_ names: [String]) -> [Snippet] {
        do {
            return names.isEmpty ? try Snippet.all(in: directory)
                : try names.map { try Snippet(path: $0, searchDirectory: directory) }
        } catch {
            fail(error)
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run snippets and print what happened; with no snippet, run the suite.",
        discussion: """
            With snippets: each under --policy (default kvm-2015). Exit status 0 when every run \
            completed with guest exit status 0 and its stated conditions held; 1 when a run \
            ended otherwise (a guest fault, its budget, a non-zero exit status, a condition not \
            as expected); 2 on bad input (a manifest, an assembler error, a missing snippet).
            With none: the suite, every snippet under every policy (or under the one --policy \
            and knobs give), on all cores; the summary table on standard output, progress on \
            standard error, and JSON lines (a context record first), Markdown, CSV and SVG in \
            RESULTS/runs/. Exit status 1 when a run did not complete or a stated condition did \
            not hold (a guest's own exit status is reported, not judged), 2 when a snippet is \
            broken.
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
        if let shard, Suite.Shard(shard) == nil { throw ValidationError("--shard takes I/N with 1 <= I <= N, e.g. 2/4") }
        if shard != nil && !snippets.isEmpty { throw ValidationError("--shard slices the suite: name no snippet") }
    }

    @Option(help: "Where a suite run writes its records.")
    var results: String = "results"

    @Option(help: "Run shard I of N of the suite (I/N): a deterministic slice; `mairlab merge` joins the shards.")
    var shard: String?

    func run() throws {
        let found = location.snippets(snippets)
        if snippets.isEmpty { return try suite(found) }
        let options: RunOptions
        do {
            options = RunOptions(budget: budget, policy: try hypervisor.resolve(catalog: hypervisor.catalog()),
                                 costModel: try hypervisor.costModel())
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

extension Run {
    func suite(_ found: [Snippet]) throws {
        let policies: [Policy], costModel: CostModel
        do {
            let catalog = try hypervisor.catalog()
            policies = hypervisor.isSet ? [try hypervisor.resolve(catalog: catalog)] : catalog
            costModel = try hypervisor.costModel()
        } catch {
            fail(error)
        }
        let terminal = isatty(2) == 1
        let slice = shard.flatMap(Suite.Shard.init)
        let entries = Suite.run(found, policies: policies, costModel: costModel, shard: slice) { done, total, entry in
            let line = "[\(done)/\(total)] \(entry.snippet) under \(entry.policy): \(Suite.verdict(entry))"
            FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        let records = SuiteRecords(entries: entries, command: CommandLine.arguments)
        print(json ? records.jsonLines : records.table, terminator: json ? "" : "\n")
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
            + (slice.map { "-shard\($0.index)of\($0.count)" } ?? "")
        do {
            let files = try records.write(to: URL(fileURLWithPath: results).appendingPathComponent("runs"), stem: "suite-\(stamp)")
            FileHandle.standardError.write(Data("results: \(files.map { Snippet.relative($0.path) }.joined(separator: ", "))\n".utf8))
        } catch {
            fail(error)
        }
        for entry in entries where entry.error != nil {
            printError("\(entry.snippet) under \(entry.policy): \(entry.error!)")
        }
        if entries.contains(where: { $0.error != nil }) { throw ExitCode(2) }
        let failed = entries.contains { entry in
            entry.report.map { !$0.meetsExpectations } ?? true
        }
        if failed { throw ExitCode(1) }
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

func printError(_ error: any Error) { printError("\(error)") }

func printError(_ message: String) {
    FileHandle.standardError.write(Data("mairlab: \(message)\n".utf8))
}

func fail(_ error: any Error) -> Never {
    printError(error)
    Mairlab.exit(withError: ExitCode(2))
}
