import ArgumentParser
import Collector
import Foundation
import Harness
import Hypervisor

extension Mairlab {
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
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

        @Option(help: "Comma-separated policy names (default: every regime and rewrite variant; with --policy-file, its policies too).")
        var policies: String?

        @OptionGroup var hypervisor: PolicyOptions

        @Option(help: "Where the chart goes.")
        var results: String = "results"

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
            let target = try Snippet(path: snippet, searchDirectory: location.directory)
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
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
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
            let entries = try SuiteRecords.entries(fromShards: shards.map { (URL(fileURLWithPath: $0), $0) })
            let records = SuiteRecords(entries: entries, command: CommandLine.arguments)
            let stem = URL(fileURLWithPath: output)
            let files = try records.write(to: stem.deletingLastPathComponent(), stem: stem.lastPathComponent)
            console.output(records.table)
            console.error("merged \(entries.count) runs: \(files.map { Snippet.relative($0.path) }.joined(separator: ", "))")
        }
    }
}
