import Foundation
import Hypervisor
import Testing
@testable import Collector
@testable import Harness

/// Suite files are written as the suite runs, close with a record saying they are whole, and
/// readers refuse partial, damaged and foreign ones.
@Suite struct SuiteFileTests {
    /// A whole one-shard file of the two-snippet suite, and its text.
    static func complete() throws -> (file: SuiteFile, text: String, dir: URL) {
        let dir = ShardTests.scratch()
        let file = try ShardTests.writeShard(1, of: 1, in: dir)
        let text = try String(contentsOf: dir.appendingPathComponent("shard1.jsonl"), encoding: .utf8)
        return (file, text, dir)
    }

    static func write(_ text: String, _ name: String, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test func aWholeFileEndsWithItsCounts() throws {
        let (file, text, _) = try Self.complete()
        #expect(file.end == SuiteEnd(complete: true, runs: 6, errors: 0, interrupted: nil))
        #expect(file.entries.count == 6)
        #expect(text.split(separator: "\n").last == #"{"record":"end","complete":true,"errors":0,"runs":6}"#)
    }

    @Test func partialDamagedAndForeignFilesAreRefused() throws {
        let (_, text, dir) = try Self.complete()
        let lines = text.split(separator: "\n").map(String.init)
        func problem(_ content: String, _ name: String) throws -> String? {
            let url = try Self.write(content, name, in: dir)
            do {
                _ = try SuiteFile(url, display: name)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(try problem("", "empty.jsonl") == "empty.jsonl: empty: not a suite file")
        #expect(try problem(lines[0] + "\n", "context.jsonl")
                == "context.jsonl: no closing record: the suite was interrupted or is still running (finish it with `mairlab run --resume context.jsonl`)")
        let cut = lines.dropLast().joined(separator: "\n") + "\n" + lines[3].prefix(40)
        // The context, six runs, then the cut line: line 8.
        #expect(try problem(String(cut), "cut.jsonl") == "cut.jsonl:8: not a suite record of schema 2")
        let schema1 = lines[0].replacingOccurrences(of: #""schema":2,"#, with: "") + "\n" + lines.dropFirst().joined(separator: "\n") + "\n"
        #expect(try problem(schema1, "old.jsonl")
                == "old.jsonl: schema 1 (none stated), this mairlab reads schema 2: run the suite again")
        let interrupted = lines.prefix(3).joined(separator: "\n") + "\n" + #"{"record":"end","complete":false,"errors":0,"interrupted":"SIGINT","runs":2}"# + "\n"
        #expect(try problem(interrupted, "int.jsonl")
                == "int.jsonl: incomplete: interrupted by SIGINT after 2 of 6 runs (finish it with `mairlab run --resume int.jsonl`)")
        #expect(try problem(text + lines[1] + "\n", "after.jsonl") == "after.jsonl:9: a record after the closing record")
        #expect(try problem("not json\n", "junk.jsonl") == "junk.jsonl:1: not a suite record of schema 2")
    }

    /// `--resume` reads a file a kill cut short: the whole records are kept, the cut line is not.
    @Test func aKilledFileIsReadForResuming() throws {
        let (_, text, dir) = try Self.complete()
        let lines = text.split(separator: "\n").map(String.init)
        let killed = lines.prefix(3).joined(separator: "\n") + "\n" + lines[3].prefix(25)
        let url = try Self.write(killed, "killed.jsonl", in: dir)
        let file = try SuiteFile(url, display: "killed.jsonl", partial: true)
        #expect(file.entries.count == 2)
        #expect(file.truncatedLastLine)
        #expect(file.end == nil)
    }

    /// Two suites started in the same second in one folder keep separate files.
    @Test func writersNeverShareAFile() throws {
        let dir = ShardTests.scratch()
        var context = SuiteContext.current(command: ["test"])
        context.plan = SuitePlan.Summary(runs: 0, digest: "x", shard: nil, selected: 0, policies: [])
        let a = try SuiteWriter(directory: dir, stem: "suite-same", context: context)
        let b = try SuiteWriter(directory: dir, stem: "suite-same", context: context)
        #expect(a.url.lastPathComponent == "suite-same.jsonl")
        #expect(b.url.lastPathComponent == "suite-same-2.jsonl")
    }
}
