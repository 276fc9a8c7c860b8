import ArgumentParser
import Collector
import Formats
import Foundation
import Harness

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
        do {
            let entries = try SuiteRecords.entries(fromShards: shards.map { (URL(fileURLWithPath: $0), $0) })
            let records = SuiteRecords(entries: entries, command: CommandLine.arguments)
            let stem = URL(fileURLWithPath: output)
            let files = try records.write(to: stem.deletingLastPathComponent(), stem: stem.lastPathComponent)
            print(records.table)
            FileHandle.standardError.write(Data("merged \(entries.count) runs: \(files.map { Snippet.relative($0.path) }.joined(separator: ", "))\n".utf8))
        } catch {
            fail(error)
        }
    }
}
