import Foundation
import Hypervisor
import Testing
@testable import Collector
@testable import Harness

@Suite struct RunDiffTests {
    static func records() throws -> [String: RunReport] {
        let entries = SuiteRun.run([try SuiteTests.snippet("framebuffer-nc")], policies: [.kvm2015, .fwbHost], cache: SuiteTests.cache)
        return Dictionary(uniqueKeysWithValues: entries.compactMap(\.report).map { (RunDiff.key($0), $0) })
    }

    @Test func theSameRunsHaveNoChange() throws {
        let records = try Self.records()
        #expect(Array(records.keys).sorted() == ["framebuffer-nc fwb", "framebuffer-nc kvm-2015"])
        #expect(RunDiff.changes(from: records, to: try Self.records()).isEmpty)   // host timing aside
    }

    @Test func everyChangedCountIsListed() throws {
        let old = try Self.records()
        var new = old
        var run = try #require(new["framebuffer-nc kvm-2015"])
        run.traps.total = 99
        run.guestInstructions = 1
        new["framebuffer-nc kvm-2015"] = run
        new["framebuffer-nc fwb"] = nil
        let oldTotal = try #require(old["framebuffer-nc kvm-2015"]?.traps.total)
        let oldCount = try #require(old["framebuffer-nc kvm-2015"]?.guestInstructions)
        #expect(RunDiff.changes(from: old, to: new) == [
            "REMOVED framebuffer-nc fwb",
            "CHANGED framebuffer-nc kvm-2015: guest_instructions: \(oldCount) -> 1",
            "CHANGED framebuffer-nc kvm-2015: traps.total: \(oldTotal) -> 99",
        ])
    }

    @Test func aChangedSnippetIsNotComparable() throws {
        let old = try Self.records()
        var new = old
        new["framebuffer-nc fwb"]?.snippetHash = String(repeating: "0", count: 64)
        new["framebuffer-nc fwb"]?.guestInstructions = 1
        let changes = RunDiff.changes(from: old, to: new)
        #expect(changes.count == 1)
        #expect(changes.first?.hasPrefix("NOT COMPARABLE framebuffer-nc fwb: the snippet changed") == true)
    }

    /// A run record survives the JSON lines round trip: what `diff` and `merge` read back is
    /// what the suite wrote.
    @Test func recordsRoundTrip() throws {
        for report in try Self.records().values {
            let line = SuiteRecord.run(report).jsonLine
            #expect(line.hasPrefix(#"{"record":"run","cost":"#))
            #expect(try SuiteRecord(jsonLine: line) == .run(report))
        }
        let error = SuiteRecord.error(SuiteRunError(snippet: "a", policy: "b", error: "c"))
        #expect(error.jsonLine == #"{"record":"error","error":"c","policy":"b","snippet":"a"}"#)
        #expect(try SuiteRecord(jsonLine: error.jsonLine) == error)
    }
}
