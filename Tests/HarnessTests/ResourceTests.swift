import Foundation
import Hypervisor
import Testing
@testable import Harness

/// Many runs in one process keep memory and file handles flat: each run loads its snippet
/// (manifest, cached image) and runs it, as a suite does. Opt-in, being slow:
/// `MAIRLAB_RESOURCE_RUNS=10000 swift test --skip-build --filter ResourceTests` (numbers in
/// docs/reliability.md).
@Suite struct ResourceTests {
    static let runs = ProcessInfo.processInfo.environment["MAIRLAB_RESOURCE_RUNS"].flatMap { Int($0) } ?? 0

    /// VmRSS from /proc/self/status, in KiB.
    static func residentKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    static func openDescriptors() -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
    }

    @Test(.enabled(if: runs > 0, "set MAIRLAB_RESOURCE_RUNS to run it"))
    func manyRunsKeepMemoryAndDescriptorsFlat() throws {
        // Every shipped snippet under two policies, in turn: traps, rewrites, exploration, faults.
        let snippets = try Snippet.all(in: Fixtures.guestImages)
        let policies = [Policy.kvm2015, Policy.rfc2015]
        var samples: [(runs: Int, kib: Int, fds: Int)] = [(0, Self.residentKiB(), Self.openDescriptors())]
        let start = Date()
        for run in 1...Self.runs {
            let snippet = snippets[run % snippets.count]
            _ = try Fixtures.run(snippet, options: RunOptions(policy: policies[run / snippets.count % 2]))
            if run == 100 || run % 1000 == 0 { samples.append((run, Self.residentKiB(), Self.openDescriptors())) }
        }
        for sample in samples { print("resources: \(sample.runs) runs, RSS \(sample.kib) KiB, \(sample.fds) open fds") }
        print("resources: \(Self.runs) runs in \(Int(Date().timeIntervalSince(start))) s")
        let after100 = try #require(samples.first { $0.runs == 100 })
        let last = try #require(samples.last)
        #expect(last.fds == after100.fds, "descriptors grew: \(samples.map(\.fds))")
        // Flat: less than 1 KiB per run from the hundredth on (allocator noise aside).
        #expect(last.kib - after100.kib < max(16_384, last.runs), "RSS grew: \(samples.map(\.kib))")
    }
}
