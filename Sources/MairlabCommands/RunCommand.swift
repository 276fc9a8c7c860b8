import ArgumentParser
import Coherency
import Collector
import Formats
import Foundation
import Harness
import Hypervisor

extension Mairlab {
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

        @Flag(help: "List every trapped access in the report (traps.events): without it the text report lists the first \(RunReport.eventsShown), JSON and suite records none (the counts always cover every trap).")
        var events = false

        @Option(help: "Instruction budget (overrides the manifest's run.budget).")
        var budget: Int?

        @OptionGroup var hypervisor: PolicyOptions

        @Option(help: "Where a suite run writes its records.")
        var results: String = "results"

        @Option(help: "Run shard I of N of the suite (I/N): a deterministic slice; `mairlab merge` joins the shards.",
                transform: { try SuiteRun.Shard(parsing: $0) })
        var shard: SuiteRun.Shard?

        @Option(help: "Suite runs at once (default: one per core).")
        var jobs: Int?

        @Option(help: "Replay one execution: a schedule ID from a report (a state's or a failure's `schedule`), printing the trace of shared memory.",
                transform: { try ScheduleID(parsing: $0) })
        var schedule: ScheduleID?

        func validate() throws {
            if let budget, budget < 1 { throw ValidationError("--budget must be at least 1") }
            if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
            if shard != nil && !snippets.isEmpty { throw ValidationError("--shard slices the suite: name no snippet") }
            if schedule != nil && snippets.count != 1 { throw ValidationError("--schedule replays one snippet: name exactly one") }
        }

        func run() throws {
            let found = try location.snippets(snippets)
            if snippets.isEmpty { return try suite(found) }
            let console = Console.current
            let options = RunOptions(budget: budget, policy: try hypervisor.resolve(catalog: hypervisor.catalog()),
                                     costModel: try hypervisor.costModel(),
                                     eventLimit: events ? nil : json ? 0 : RunReport.eventsShown)
            if let schedule {
                let (report, trace) = try Runner.replay(LoadedSnippet.load(found[0]), options: options, schedule: schedule)
                console.output(json ? report.json() : report.text + "\n" + TraceReport.text(trace, schedule: schedule))
                return
            }
            var allPassed = true
            var badInput = false
            for snippet in found {
                do {
                    let report = try Runner.run(snippet, options: options)
                    console.output(json ? report.json() : report.text)
                    allPassed = allPassed && report.outcome.status == .completed && report.outcome.exitStatus == 0
                        && report.outcome.conditions.allSatisfy { $0.holds == true }
                } catch let error where BadInput(error) != nil {
                    // One broken snippet does not stop the others.
                    console.error("mairlab: \(error)")
                    badInput = true
                }
            }
            if badInput { throw ExitCode(BadInput.status) }
            if !allPassed { throw ExitCode(1) }
        }

        func suite(_ found: [Snippet]) throws {
            let console = Console.current
            let catalog = try hypervisor.catalog()
            let policies = hypervisor.isSet ? [try hypervisor.resolve(catalog: catalog)] : catalog
            let entries = SuiteRun.run(found, policies: policies, costModel: try hypervisor.costModel(),
                                       shard: shard, jobs: jobs, events: events) { done, total, entry in
                let line = "[\(done)/\(total)] \(entry.snippet) under \(entry.policy): \(SuiteRun.verdict(entry))"
                console.error(console.isTerminal ? "\r\u{1B}[K" + line : line, terminator: console.isTerminal ? "" : "\n")
            }
            if console.isTerminal { console.error("") }
            let records = SuiteRecords(entries: entries, command: CommandLine.arguments)
            console.output(json ? records.jsonLines : records.table, terminator: json ? "" : "\n")
            let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
                + (shard.map { "-shard\($0.index)of\($0.count)" } ?? "")
            let files = try records.write(to: URL(fileURLWithPath: results).appendingPathComponent("runs"),
                                          stem: "suite-\(stamp)")
            console.error("results: \(files.map { Snippet.relative($0.path) }.joined(separator: ", "))")
            for entry in entries where entry.error != nil {
                console.error("mairlab: \(entry.snippet) under \(entry.policy): \(entry.error!)")
            }
            if entries.contains(where: { $0.error != nil }) { throw ExitCode(BadInput.status) }
            if entries.contains(where: { $0.report.map { !$0.meetsExpectations } ?? true }) { throw ExitCode(1) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the snippets and what each is for.")

        @OptionGroup var location: SnippetLocation

        func run() throws {
            for snippet in try Snippet.all(in: location.directory) {
                let manifest = try Manifest(contentsOf: snippet.manifestFile, displayPath: snippet.displayManifest)
                Console.current.output("\(snippet.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(manifest.description)")
            }
        }
    }
}

extension SuiteRun.Shard: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension ScheduleID: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}
