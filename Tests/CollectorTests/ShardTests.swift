import Foundation
import Hypervisor
import Testing
@testable import Collector
@testable import Harness

@Suite struct ShardTests {
    @Test func shardSpecsAreChecked() {
        #expect(Suite.Shard("2/4") != nil)
        #expect(Suite.Shard("0/4") == nil)
        #expect(Suite.Shard("5/4") == nil)
        #expect(Suite.Shard("1/0") == nil)
        #expect(Suite.Shard("x") == nil)
    }

    /// Three shards partition the (snippet, policy) pairs, and merging their JSON lines gives
    /// back the unsharded suite's runs, unchanged.
    @Test func shardsPartitionTheSuiteAndMergeBack() throws {
        let snippets = try [SuiteTests.snippet("dma-noncoherent"), SuiteTests.snippet("mair-readback")]
        let policies = [Policy.kvm2015, .rfc2015, .fwbHost]
        let whole = Suite.run(snippets, policies: policies, cache: SuiteTests.cache)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-shards-\(UUID().uuidString)")
        var files: [(URL, String)] = []
        var counts: [Int] = []
        for index in 1...3 {
            let part = Suite.run(snippets, policies: policies, cache: SuiteTests.cache, shard: Suite.Shard("\(index)/3"))
            counts.append(part.count)
            let written = try SuiteRecords(entries: part, command: ["test"]).write(to: dir, stem: "shard\(index)")
            files.append((written[0], written[0].lastPathComponent))
        }
        #expect(counts == [2, 2, 2])
        let merged = try SuiteRecords.entries(fromShards: files)
        #expect(merged.count == whole.count)
        let key = { (entry: Suite.Entry) in "\(entry.snippet) \(entry.policy)" }
        let old = Dictionary(uniqueKeysWithValues: whole.map { (key($0), RunDiff.record($0.report!)) })
        let new = Dictionary(uniqueKeysWithValues: merged.map { (key($0), RunDiff.record($0.report!)) })
        #expect(RunDiff.changes(from: old, to: new).isEmpty)
        #expect(throws: SuiteRecords.MergeError.self) { try SuiteRecords.entries(fromShards: [files[0], files[0]]) }
    }
}
