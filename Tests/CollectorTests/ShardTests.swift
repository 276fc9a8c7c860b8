import Foundation
import Hypervisor
import Testing
@testable import Collector
@testable import Harness

@Suite struct ShardTests {
    @Test func shardSpecsAreChecked() throws {
        #expect(try SuiteRun.Shard(parsing: "2/4") == SuiteRun.Shard(index: 2, count: 4))
        for bad in ["0/4", "5/4", "1/0", "x", "1/2/3", "/2"] {
            #expect(throws: SuiteRun.ShardError(text: bad)) { try SuiteRun.Shard(parsing: bad) }
        }
    }

    /// Three shards partition the (snippet, policy) pairs, and merging their JSON lines gives
    /// back the unsharded suite's runs, unchanged.
    @Test func shardsPartitionTheSuiteAndMergeBack() throws {
        let snippets = try [SuiteTests.snippet("dma-noncoherent"), SuiteTests.snippet("mair-readback")]
        let policies = [Policy.kvm2015, .rfc2015, .fwbHost]
        let whole = SuiteRun.run(snippets, policies: policies, cache: SuiteTests.cache)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-shards-\(UUID().uuidString)")
        var files: [(URL, String)] = []
        var counts: [Int] = []
        for index in 1...3 {
            let part = SuiteRun.run(snippets, policies: policies, cache: SuiteTests.cache, shard: try SuiteRun.Shard(index: index, count: 3))
            counts.append(part.count)
            let written = try SuiteRecords(entries: part, command: ["test"]).write(to: dir, stem: "shard\(index)")
            files.append((written[0], written[0].lastPathComponent))
        }
        #expect(counts == [2, 2, 2])
        let merged = try SuiteRecords.entries(fromShards: files)
        #expect(merged.count == whole.count)
        let key = { (entry: SuiteRun.Entry) in "\(entry.snippet) \(entry.policy)" }
        let old = Dictionary(uniqueKeysWithValues: whole.map { (key($0), $0.report!) })
        let new = Dictionary(uniqueKeysWithValues: merged.map { (key($0), $0.report!) })
        #expect(RunDiff.changes(from: old, to: new).isEmpty)
        #expect(throws: SuiteRecords.ReadError.self) { try SuiteRecords.entries(fromShards: [files[0], files[0]]) }
    }
}
