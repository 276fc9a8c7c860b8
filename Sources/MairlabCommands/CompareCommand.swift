import ArgumentParser
import Collector
import FoundationEssentials
import Harness
import Hypervisor

extension Mairlab {
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compare", _superCommandName: "mairlab",
            abstract: "Run one snippet under several trap regimes and rewrites, side by side.",
            discussion: """
                Columns: traps, full exits, the share handled by the EL2 fast path, stage-2 flushes, \
                the cost model's overhead (deterministic), and what a trap costs this emulator on this \
                host (measured, noisy: compare ratios within one run only). The chart of the modeled \
                overhead goes to RESULTS/compare-SNIPPET.svg. To compare two suite runs, use `mairlab diff`.
                """)

        @Argument(help: "The snippet.")
        var snippet: String = "context-switch-storm"

        @OptionGroup var location: SnippetLocation

        @OptionGroup var allowed: AllowedPaths

        @Option(help: "Comma-separated policy names (default: every regime and rewrite variant; with --policy-file, its policies too).")
        var policies: String?

        @OptionGroup var hypervisor: PolicyOptions

        @Option(help: "Where the chart goes.")
        var results: String = "results"

        @Option(help: ArgumentHelp("Compare boots of this image on the board (as `mairlab boot`) instead of a snippet.", valueName: "image"))
        var boot: String?

        @Option(help: ArgumentHelp("With --boot: an initial ramdisk.", valueName: "file"))
        var initrd: String?

        @Option(help: "With --boot: the devicetree's /chosen/bootargs.")
        var bootargs: String = ""

        @Option(help: "With --boot: RAM size (bytes, or K, M, G).")
        var memory: String = "128M"

        @Option(help: "With --boot: the instruction budget of each boot.")
        var budget: Int = BootOptions.defaultBudget

        func run() throws {
            let console = Console.current
            let catalog = try hypervisor.catalog()
            let configurations: [Policy]
            if let policies {
                configurations = try policies.split(separator: ",").map { name in
                    guard let policy = catalog.first(where: { $0.name == name }) else {
                        throw ValidationError("unknown policy '\(name)': known are \(catalog.map(\.name).joined(separator: ", "))")
                    }
                    return hypervisor.applyKnobs(to: policy)
                }
            } else {
                configurations = (Policy.comparisonSet + catalog.filter { Policy.named($0.name) == nil })
                    .map(hypervisor.applyKnobs)
            }
            let costModel = try hypervisor.costModel()
            if let boot { return try compareBoots(boot, configurations, costModel: costModel) }
            let target = try Snippet(path: snippet, searchDirectory: location.directory).allowing(allowed.directories)
            let reports = try configurations.map {
                try Runner.run(target, options: RunOptions(policy: $0, costModel: costModel, eventLimit: 0))
            }
            let comparison = Comparison(snippet: target.name, reports: reports)
            console.output("\(target.name): \(reports.first.map { "\($0.guestInstructions) guest instructions" } ?? "")")
            console.output(comparison.table)
            let chart = BarChart(
                title: "\(target.name): modeled trap overhead by policy",
                subtitle: "trap cycles / guest cycles, cost model parameters: \(hypervisor.cost ?? "defaults")",
                unit: "%", bars: comparison.rows.map { ($0.policy, $0.modeledOverheadPct) })
            let url = URL(fileURLWithPath: results).appendingPathComponent("compare-\(target.name).svg")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try chart.svg.write(to: url, atomically: true, encoding: .utf8)
            console.output("chart: \(Snippet.relative(url.path))")
        }

        /// The same boot under each policy (the guest runs the same instructions under all).
        private func compareBoots(_ image: String, _ policies: [Policy], costModel: CostModel) throws {
            let console = Console.current
            let size = try Boot.size(memory)
            var reports: [BootReport] = []
            for policy in policies {
                console.error("boot \(image) under \(policy.name) ...")
                reports.append(try Harness.Boot.run(BootOptions(imagePath: image, memory: size, bootargs: bootargs, initrdPath: initrd,
                                                                 budget: budget, policy: policy, costModel: costModel)))
            }
            let comparison = BootComparison(reports: reports)
            console.output("\(image): \(reports.first.map { "\($0.guestInstructions) guest instructions" } ?? "")"
                           + (comparison.guestCounts.isEmpty ? "" : "; the guest counted " + comparison.guestCounts.sorted { $0.key < $1.key }
                               .map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
            console.output(comparison.table)
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff", _superCommandName: "mairlab",
            abstract: "List every outcome or count that changed between two suite runs (A.jsonl B.jsonl).",
            discussion: """
                Runs are matched by snippet and policy; runs whose snippet_hash differs are NOT \
                COMPARABLE, never compared. Exit status 1 when anything changed.
                """)

        @Argument(help: "The older suite's JSON lines.")
        var old: String

        @Argument(help: "The newer suite's JSON lines.")
        var new: String

        func run() throws {
            let changes = RunDiff.changes(from: try RunDiff.load(URL(fileURLWithPath: old), display: old),
                                          to: try RunDiff.load(URL(fileURLWithPath: new), display: new))
            Console.current.output(changes.isEmpty ? "no change" : changes.joined(separator: "\n"))
            if !changes.isEmpty { throw ExitCode(1) }
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "merge", _superCommandName: "mairlab",
            abstract: "Join the JSON lines of a suite's shards into one run (with its Markdown, CSV and SVG).")

        @Argument(help: "The shards' .jsonl files.")
        var shards: [String]

        @Option(name: .shortAndLong, help: "The merged file's stem (written as STEM.jsonl, .md, .csv, .svg).")
        var output: String = "results/runs/suite-merged"

        func validate() throws {
            if shards.isEmpty { throw ValidationError("name the shards' .jsonl files") }
        }

        func run() throws {
            let console = Console.current
            let files = try shards.map { try SuiteFile(URL(fileURLWithPath: $0), display: $0) }
            let entries = try SuiteFile.merge(files)
            let stem = URL(fileURLWithPath: output)
            for ext in ["jsonl", "md", "csv", "svg"] where FileManager.default.fileExists(atPath: stem.path + "." + ext) {
                throw BadInput("\(output).\(ext) exists: choose another -o (merge never overwrites a run)")
            }
            // The merged file is the whole suite: the shards' plan without the shard.
            var context = SuiteContext.current(command: CommandLine.arguments)
            context.gitCommit = files[0].context.gitCommit
            context.gitDirty = files.contains { $0.context.gitDirty != "false" } ? "true" : "false"
            context.plan = files[0].plan
            context.plan?.shard = nil
            context.plan?.selected = entries.count
            let writer = try SuiteWriter(directory: stem.deletingLastPathComponent(), stem: stem.lastPathComponent, context: context)
            for entry in entries { try writer.append(entry) }
            let written = try writer.finish(interrupted: nil)
            console.output(SuiteRecords(entries: entries, context: context).table)
            console.error("merged \(entries.count) runs of \(files.count) shard(s): \(written.map { Snippet.relative($0.path) }.joined(separator: ", "))")
        }
    }
}
