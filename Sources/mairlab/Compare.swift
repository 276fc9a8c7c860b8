import ArgumentParser
import Collector
import Formats
import Foundation
import Harness
import Hypervisor

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one snippet under several trap regimes and rewrites, or diff two suite runs (A.jsonl B.jsonl).",
        discussion: """
            Columns: traps, full exits, the share handled by the EL2 fast path, stage-2 flushes, \
            the cost model's overhead (deterministic), and what a trap costs this emulator on this \
            host (measured, noisy: compare ratios within one run only). The chart of the modeled \
            overhead goes to results/compare-SNIPPET.svg.
            """)

    @Argument(help: "The snippet (default: context-switch-storm), or two suite files A.jsonl B.jsonl.")
    var inputs: [String] = []

    var snippet: String { inputs.first ?? "context-switch-storm" }

    @OptionGroup var location: SnippetLocation

    @Option(help: "Comma-separated policy names (default: every regime and rewrite variant).")
    var policies: String?

    @Option(help: "A TOML file of per-event cycle costs (see `mairlab run --help`).")
    var cost: String?

    @Option(help: "Where the chart goes.")
    var results: String = "results"

    func validate() throws {
        if let policies {
            for name in policies.split(separator: ",") where Policy.named(String(name)) == nil {
                throw ValidationError("unknown policy '\(name)': known are \(Policy.builtIn.map(\.name).joined(separator: ", "))")
            }
        }
    }

    func run() throws {
        if inputs.count == 2, inputs.allSatisfy({ $0.hasSuffix(".jsonl") }) {
            let changes: [String]
            do {
                changes = RunDiff.changes(from: try RunDiff.load(URL(fileURLWithPath: inputs[0]), display: inputs[0]),
                                          to: try RunDiff.load(URL(fileURLWithPath: inputs[1]), display: inputs[1]))
            } catch {
                fail(error)
            }
            print(changes.isEmpty ? "no change" : changes.joined(separator: "\n"))
            if !changes.isEmpty { throw ExitCode(1) }
            return
        }
        guard inputs.count <= 1 else { throw ValidationError("give one snippet, or two suite files A.jsonl B.jsonl") }
        let configurations = policies.map { $0.split(separator: ",").compactMap { Policy.named(String($0)) } }
            ?? Policy.comparisonSet
        do {
            let costModel = try cost.map { try CostModel.load(contentsOf: URL(fileURLWithPath: $0), displayPath: $0) }
                ?? .defaults
            let target = try Snippet(path: snippet, searchDirectory: location.directory)
            let reports = try configurations.map {
                try Harness.run(target, options: RunOptions(policy: $0, costModel: costModel))
            }
            let comparison = Comparison(snippet: target.name, reports: reports)
            print("\(target.name): \(reports.first.map { "\($0.guestInstructions) guest instructions" } ?? "")")
            print(comparison.table)
            let chart = BarChart(
                title: "\(target.name): modeled trap overhead by policy",
                subtitle: "trap cycles / guest cycles, cost model parameters: \(cost ?? "defaults")",
                unit: "%", bars: comparison.rows.map { ($0.policy, $0.modeledOverheadPct) })
            let url = URL(fileURLWithPath: results).appendingPathComponent("compare-\(target.name).svg")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try chart.svg.write(to: url, atomically: true, encoding: .utf8)
            print("chart: \(url.path.hasPrefix(FileManager.default.currentDirectoryPath + "/") ? String(url.path.dropFirst(FileManager.default.currentDirectoryPath.count + 1)) : url.path)")
        } catch {
            fail(error)
        }
    }
}
