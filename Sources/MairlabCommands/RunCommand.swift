import ArgumentParser
import Coherency
import Collector
import Formats
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Harness
import Hypervisor

extension Mairlab {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run", _superCommandName: "mairlab",
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

        @OptionGroup var allowed: AllowedPaths

        @Flag(help: "Print each run as one JSON object on its own line.")
        var json = false

        @Flag(help: "List every trapped access in the report (traps.events): without it the text report lists the first \(RunReport.eventsShown), JSON and suite records none (the counts always cover every trap).")
        var events = false

        @Option(help: "Instruction budget (overrides the manifest's run.budget).")
        var budget: Int?

        @OptionGroup var hypervisor: PolicyOptions

        @Option(help: "Where a suite run writes its records.")
        var results: String = "results"

        @Option(help: "Run shard I of N of the suite (I/N, or auto: from MAIRLAB_SHARD_INDEX/MAIRLAB_SHARD_COUNT, JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID/COUNT, CI_NODE_INDEX/TOTAL): a deterministic slice; `mairlab merge` joins the shards.",
                transform: { try SuiteRun.Shard(parsing: $0) })
        var shard: SuiteRun.Shard?

        @Option(help: "Suite runs at once (default: one per core).")
        var jobs: Int?

        @Option(help: "Finish an interrupted suite file (RESULTS/runs/suite-....jsonl): the runs it lacks are made and the file closed.")
        var resume: String?

        @Option(help: "Replay one execution: a schedule ID from a report (a state's or a failure's `schedule`), printing the trace of shared memory.",
                transform: { try ScheduleID(parsing: $0) })
        var schedule: ScheduleID?

        func validate() throws {
            if let budget, budget < 1 { throw ValidationError("--budget must be at least 1") }
            if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
            if shard != nil && !snippets.isEmpty { throw ValidationError("--shard slices the suite: name no snippet") }
            if resume != nil && (!snippets.isEmpty || shard != nil) {
                throw ValidationError("--resume finishes a suite file as it was planned: name no snippet and no shard")
            }
            if schedule != nil && snippets.count != 1 { throw ValidationError("--schedule replays one snippet: name exactly one") }
        }

        func run() throws {
            let found = try location.snippets(snippets, allowing: allowed)
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
            let (plan, writer, skip) = try start(found, policies: policies)
            let stop = Interruption.install(console: console)
            defer { stop.uninstall() }
            let failures = WriteFailures()
            let entries = SuiteRun.run(plan, costModel: try hypervisor.costModel(), jobs: jobs, events: events, skip: skip,
                                       shouldStop: { stop.signal != nil }) { done, total, entry in
                do {
                    try writer.append(entry)
                } catch {
                    failures.note("\(error)")
                }
                let line = "[\(done + skip.count)/\(total + skip.count)] \(entry.snippet) under \(entry.policy): \(SuiteRun.verdict(entry))"
                console.error(console.isTerminal ? "\r\u{1B}[K" + line : line, terminator: console.isTerminal ? "" : "\n")
            }
            if console.isTerminal { console.error("") }
            let files = try finish(writer, interrupted: stop.signal, failures: failures)
            let all = plan.summary.sorted(writer.entries)
            let records = SuiteRecords(entries: all, context: writer.context)
            // JSON: the file as written (runs in the order they finished when interrupted).
            let jsonLines = (try? String(contentsOf: files[0], encoding: .utf8)) ?? records.jsonLines
            console.output(json ? jsonLines : records.table, terminator: json ? "" : "\n")
            console.error("results: \(files.map { Snippet.relative($0.path) }.joined(separator: ", "))")
            if let signal = stop.signal {
                console.error("mairlab: interrupted by \(signal) after \(all.count) of \(plan.selected.count) runs; finish with `mairlab run --resume \(Snippet.relative(writer.url.path))`")
                throw ExitCode(130)
            }
            for entry in entries where entry.error != nil {
                console.error("mairlab: \(entry.snippet) under \(entry.policy): \(entry.error!)")
            }
            if failures.first != nil || all.contains(where: { $0.error != nil }) { throw ExitCode(BadInput.status) }
            if all.contains(where: { $0.report.map { !$0.meetsExpectations } ?? true }) { throw ExitCode(1) }
        }

        /// The plan, the file its records go to, and the runs already recorded (`--resume`).
        private func start(_ found: [Snippet], policies: [Policy]) throws -> (SuitePlan, SuiteWriter, Set<String>) {
            if let resume {
                let file = try SuiteFile(URL(fileURLWithPath: resume), display: resume, partial: true)
                if file.end?.complete == true { throw BadInput("\(resume) is complete: nothing to resume") }
                let shard = try file.plan.shard.map { try SuiteRun.Shard(parsing: $0) }
                let plan = SuitePlan(found, policies: policies, shard: shard, jobs: jobs)
                guard plan.summary.digest == file.plan.digest else {
                    throw BadInput("\(resume) planned another suite (its snippets or policies have changed since): run the suite anew")
                }
                let writer = try SuiteWriter(resuming: file, at: URL(fileURLWithPath: resume))
                return (plan, writer, Set(file.entries.map(\.key)))
            }
            let (now, plan) = SuiteContext.current(command: CommandLine.arguments) {
                SuitePlan(found, policies: policies, shard: shard, jobs: jobs)
            }
            var context = now
            context.plan = plan.summary
            let stamp = Date().formatted(.iso8601).replacing(":", with: "-")
                + (shard.map { "-shard\($0.index)of\($0.count)" } ?? "") + "-\(getpid())"
            let directory = URL(fileURLWithPath: results).appendingPathComponent("runs")
            do {
                return (plan, try SuiteWriter(directory: directory, stem: "suite-\(stamp)", context: context), [])
            } catch {
                // The runs are still worth making: kept elsewhere, and said so at once.
                let fallback = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-results")
                let writer = try SuiteWriter(directory: fallback, stem: "suite-\(stamp)", context: context)
                Console.current.error("mairlab: \(error); the results go to \(writer.url.path) instead")
                return (plan, writer, [])
            }
        }

        /// Closes the file; if it could not be written, the runs are kept in a temporary folder.
        private func finish(_ writer: SuiteWriter, interrupted: String?, failures: WriteFailures) throws -> [URL] {
            if failures.first == nil, let files = try? writer.finish(interrupted: interrupted) { return files }
            let reason = failures.first ?? "cannot finish \(writer.url.path)"
            let fallback = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-results")
            let copy = try SuiteWriter(directory: fallback, stem: writer.url.deletingPathExtension().lastPathComponent,
                                       context: writer.context)
            for entry in writer.entries { try copy.append(entry) }
            let files = try copy.finish(interrupted: interrupted)
            Console.current.error("mairlab: \(reason); every run is kept in \(copy.url.path)")
            failures.note(reason)
            return files
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", _superCommandName: "mairlab", abstract: "List the snippets and what each is for.")

        @OptionGroup var location: SnippetLocation

        func run() throws {
            for snippet in try Snippet.all(in: location.directory) {
                let manifest = try Manifest(contentsOf: snippet.manifestFile, displayPath: snippet.displayManifest)
                Console.current.output("\(snippet.name.padded(to: 28)) \(manifest.description)")
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
