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

    /// `--shard auto` reads the index and count each fan-out engine documents.
    @Test func autoShardsComeFromTheEngineEnvironment() throws {
        func auto(_ environment: [String: String]) throws -> SuiteRun.Shard { try SuiteRun.Shard(parsing: "auto", environment: environment) }
        #expect(try auto(["MAIRLAB_SHARD_INDEX": "2", "MAIRLAB_SHARD_COUNT": "4"]) == SuiteRun.Shard(index: 2, count: 4))
        // Kubernetes Indexed Job: JOB_COMPLETION_INDEX counts from 0; the count is the Job's own.
        #expect(try auto(["JOB_COMPLETION_INDEX": "0", "MAIRLAB_SHARD_COUNT": "3"]) == SuiteRun.Shard(index: 1, count: 3))
        // Slurm `--array=1-4`: IDs 1..4; `--array=0-6:2`: IDs 0, 2, 4, 6, the third is shard 3.
        #expect(try auto(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"])
                == SuiteRun.Shard(index: 4, count: 4))
        #expect(try auto(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "0",
                          "SLURM_ARRAY_TASK_STEP": "2"]) == SuiteRun.Shard(index: 3, count: 4))
        #expect(try auto(["CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "2"]) == SuiteRun.Shard(index: 2, count: 2))
        #expect(throws: SuiteRun.ShardError(text: "auto", detail: "JOB_COMPLETION_INDEX gives the index but no shard count: set MAIRLAB_SHARD_COUNT")) {
            try auto(["JOB_COMPLETION_INDEX": "1"])
        }
        #expect(throws: SuiteRun.ShardError(text: "auto", detail: "MAIRLAB_SHARD_INDEX makes shard 5/4, outside 1...4")) {
            try auto(["MAIRLAB_SHARD_INDEX": "5", "MAIRLAB_SHARD_COUNT": "4"])
        }
        #expect(throws: SuiteRun.ShardError(text: "auto", detail: "no shard index in the environment (MAIRLAB_SHARD_INDEX, JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or CI_NODE_INDEX)")) {
            try auto([:])
        }
    }

    static let policies = [Policy.kvm2015, .rfc2015, .fwbHost]

    static func snippets() throws -> [Snippet] { try [SuiteTests.snippet("dma-noncoherent"), SuiteTests.snippet("mair-readback")] }

    /// Writes shard `index` of `count` of the two-snippet suite as `mairlab run --shard` does.
    static func writeShard(_ index: Int, of count: Int, in dir: URL, commit: String? = nil) throws -> SuiteFile {
        let plan = SuitePlan(try snippets(), policies: policies, cache: SuiteTests.cache,
                             shard: try SuiteRun.Shard(index: index, count: count))
        var context = SuiteContext.current(command: ["test"])
        context.plan = plan.summary
        if let commit { context.gitCommit = commit }
        let writer = try SuiteWriter(directory: dir, stem: "shard\(index)", context: context)
        for entry in SuiteRun.run(plan) { try writer.append(entry) }
        try writer.finish(interrupted: nil)
        return try SuiteFile(writer.url, display: writer.url.lastPathComponent)
    }

    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-shards-\(UUID().uuidString)")
    }

    /// Three shards partition the (snippet, policy) pairs, and merging them gives back the
    /// unsharded suite's runs, unchanged and in the same order.
    @Test func shardsPartitionTheSuiteAndMergeBack() throws {
        let whole = SuiteRun.run(try Self.snippets(), policies: Self.policies, cache: SuiteTests.cache)
        let dir = Self.scratch()
        let shards = try (1...3).map { try Self.writeShard($0, of: 3, in: dir) }
        #expect(shards.map(\.entries.count) == [2, 2, 2])
        let merged = try SuiteFile.merge(shards)
        #expect(merged.map(\.key) == whole.map(\.key))
        let old = Dictionary(uniqueKeysWithValues: whole.map { ($0.key, $0.report!) })
        let new = Dictionary(uniqueKeysWithValues: merged.map { ($0.key, $0.report!) })
        #expect(RunDiff.changes(from: old, to: new).isEmpty)
    }

    /// Merge refuses what would not make one whole suite.
    @Test func mergeRefusesMissingRepeatedAndForeignShards() throws {
        let dir = Self.scratch()
        let one = try Self.writeShard(1, of: 2, in: dir), two = try Self.writeShard(2, of: 2, in: dir)
        #expect(throws: SuiteFile.Problem(description: "missing shard(s) 2/2 of 2")) { try SuiteFile.merge([one]) }
        #expect(throws: SuiteFile.Problem(description: "shard 1/2 given twice")) { try SuiteFile.merge([one, one, two]) }
        let elsewhere = try Self.writeShard(2, of: 2, in: dir, commit: "0000000000000000000000000000000000000000")
        #expect(throws: SuiteFile.Problem(description: "shard2-2.jsonl is from commit 0000000000000000000000000000000000000000, shard1.jsonl from \(one.context.gitCommit): shards of different commits")) {
            try SuiteFile.merge([one, elsewhere])
        }
        let third = try Self.writeShard(3, of: 3, in: dir)
        #expect(throws: SuiteFile.Problem(description: "the shards were cut into different counts: 1/2, 3/3")) {
            try SuiteFile.merge([one, third])
        }
        #expect(try SuiteFile.merge([two, one]).count == 6)
    }
}
