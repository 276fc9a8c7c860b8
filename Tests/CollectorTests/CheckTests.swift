import Foundation
import Testing
@testable import Collector
@testable import Harness

@Suite struct CheckTests {
    /// framebuffer-nc copied beside the include, with its manifest edited by `edit`.
    static func edited(_ edit: (String) -> String) throws -> Snippet {
        let images = SuiteTests.repository.appendingPathComponent("guest-images")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("include"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: images.appendingPathComponent("include/mairlab.inc"),
                                         to: dir.appendingPathComponent("include/mairlab.inc"))
        try FileManager.default.copyItem(at: images.appendingPathComponent("framebuffer-nc.S"), to: dir.appendingPathComponent("fb.S"))
        let manifest = try String(contentsOf: images.appendingPathComponent("framebuffer-nc.toml"), encoding: .utf8)
        try edit(manifest).write(to: dir.appendingPathComponent("fb.toml"), atomically: true, encoding: .utf8)
        return try Snippet(path: dir.appendingPathComponent("fb").path)
    }

    @Test func theShippedExpectationsPass() throws {
        let results = Check.run([try SuiteTests.snippet("framebuffer-nc")], cache: SuiteTests.cache).results
        #expect(results.count == 6)   // 1 + 2 conditions x policies named: kvm 2, rfc 2, fwb 2
        #expect(results.allSatisfy { $0.status == .pass })
        #expect(Check.summary(results) == "SUMMARY: 6 tests, 0 unexpected failures, 0 expected failures, 0 skipped")
    }

    /// Flipping one expectation makes exactly that check fail, naming snippet, policy and
    /// condition (and what was observed).
    @Test func anEditedExpectationFailsNamingWhatFailed() throws {
        let snippet = try Self.edited { $0.replacingOccurrences(of: #"condition = "exists stale-read(vmm, fb)""#,
                                                               with: #"condition = "~exists stale-read(vmm, fb)""#) }
        let results = Check.run([snippet], cache: SuiteTests.cache).results
        let failures = results.filter(\.isUnexpected)
        #expect(failures.count == 1)
        #expect(failures.first?.line.hasPrefix("FAIL fb kvm-2015: ~exists stale-read(vmm, fb) (was Sometimes 1 1; expected because ") == true)
        #expect(Check.tap(results).contains("not ok 3 - fb kvm-2015: ~exists stale-read(vmm, fb)"))
    }

    @Test func knownFailuresAndUnknownPoliciesAreNotRegressions() throws {
        let snippet = try Self.edited {
            $0.replacingOccurrences(of: #"condition = "exists stale-read(vmm, fb)""#,
                                    with: "condition = \"~exists stale-read(vmm, fb)\"\nxfail = \"demonstrates XFAIL\"")
                .replacingOccurrences(of: #"policies = ["rfc-2015", "fwb"]"#, with: #"policies = ["rfc-2015", "fwb", "my-host"]"#)
        }
        let results = Check.run([snippet], cache: SuiteTests.cache).results
        #expect(!results.contains { $0.isUnexpected })
        #expect(results.filter { $0.status == .xfail }.count == 1)
        #expect(results.filter { $0.status == .skip }.map(\.detail) == ["no policy named 'my-host'"])
        #expect(Check.summary(results) == "SUMMARY: 7 tests, 0 unexpected failures, 1 expected failures, 1 skipped")
    }
}
