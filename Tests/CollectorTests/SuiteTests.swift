import Foundation
import Hypervisor
import Testing
@testable import Collector
@testable import Harness

@Suite struct SuiteTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let cache = ImageCache(directory: FileManager.default.temporaryDirectory
        .appendingPathComponent("mairlab-suite-cache-\(ProcessInfo.processInfo.processIdentifier)"))

    static func snippet(_ name: String) throws -> Snippet {
        try Snippet(path: repository.appendingPathComponent("guest-images").appendingPathComponent(name).path)
    }

    /// Two snippets under two policies: four entries in snippet-then-policy order, whatever
    /// order the concurrent runs finished in; each the same as a run on its own.
    @Test func entriesComeBackInOrderAndMatchSingleRuns() throws {
        let snippets = try [Self.snippet("framebuffer-nc"), Self.snippet("mair-readback")]
        let entries = SuiteRun.run(snippets, policies: [.kvm2015, .rfc2015], cache: Self.cache)
        #expect(entries.map { "\($0.snippet)/\($0.policy)" } == [
            "framebuffer-nc/kvm-2015", "framebuffer-nc/rfc-2015", "mair-readback/kvm-2015", "mair-readback/rfc-2015",
        ])
        // Suite records list no trap events unless asked (--events): the single run neither.
        let alone = try Runner.run(snippets[0], options: RunOptions(policy: .kvm2015, eventLimit: 0), cache: Self.cache)
        #expect(entries[0].report?.json(includingHostTiming: false) == alone.json(includingHostTiming: false))
        #expect(entries.map(SuiteRun.verdict) == ["PASS (2)", "PASS (2)", "-", "-"])
    }

    @Test func aBrokenSnippetIsAnErrorEntryPerPolicyNotACrash() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-broken-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "nop\n".write(to: dir.appendingPathComponent("b.S"), atomically: true, encoding: .utf8)
        try "[image]\n".write(to: dir.appendingPathComponent("b.toml"), atomically: true, encoding: .utf8)
        let entries = SuiteRun.run([try Snippet(path: dir.appendingPathComponent("b").path)], policies: [.kvm2015, .fwbHost],
                                cache: Self.cache)
        #expect(entries.count == 2)
        #expect(entries.allSatisfy { $0.report == nil && $0.error?.contains("missing required field 'image.text'") == true })
        #expect(entries.map(SuiteRun.verdict) == ["error", "error"])
    }

    @Test func recordsStartWithTheContextAndTablesHaveARowPerRun() throws {
        let entries = SuiteRun.run([try Self.snippet("dma-noncoherent")], policies: [.kvm2015, .rfc2015], cache: Self.cache)
        let records = SuiteRecords(entries: entries, context: .current(command: ["mairlab", "run"], date: Date(timeIntervalSince1970: 0)))
        let lines = records.jsonLines.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        let context = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(context["record"] as? String == "context")
        #expect(context["schema"] as? Int == 2)
        #expect(context["date"] as? String == "1970-01-01T00:00:00Z")
        #expect(context["command"] as? String == "mairlab run")
        #expect(Set(context.keys) == ["record", "schema", "tool_version", "git_commit", "git_dirty", "unicorn_version", "host", "date", "command"])
        #expect(lines[3] == #"{"record":"end","complete":true,"errors":0,"runs":2}"#)
        for line in lines.dropFirst().dropLast() {
            let run = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(run["record"] as? String == "run")
            for key in ["snippet", "snippet_hash", "policy", "outcome", "traps", "guest_instructions", "cost"] {
                #expect(run[key] != nil, "\(key)")
            }
        }
        #expect(records.csv.split(separator: "\n").count == 3)
        #expect(records.csv.hasPrefix("snippet,policy,end,verdict,traps,exits,modeled overhead %\n"))
        #expect(records.markdown.split(separator: "\n").count == 4)
        #expect(records.chart.bars.map(\.label) == ["kvm-2015", "rfc-2015"])
    }
}
