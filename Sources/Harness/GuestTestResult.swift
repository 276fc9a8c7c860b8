/// What a guest that reports in kvm-unit-tests' vocabulary said of itself (its lib/report.c):
/// one line per check starting `PASS:`, `FAIL:`, `SKIP:`, `XFAIL:` or `XPASS:`, a `SUMMARY:`
/// line, and `EXIT: STATUS=n` with n = (code << 1) | 1 for `exit(code)`, where
/// `report_summary()` makes the code 1 for failures, 77 >> 1 when every test was skipped (so
/// that the status reads 77, the skip of its run scripts), else 0.
public struct GuestTestResult: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable { case pass = "PASS", fail = "FAIL", skip = "SKIP" }

    public var verdict: Verdict
    public var passed: Int
    public var failed: Int
    public var skipped: Int
    public var expectedFailures: Int
    public var unexpectedPasses: Int
    /// The `SUMMARY:` line's text, when printed.
    public var summary: String?
    /// n of `EXIT: STATUS=n` (nil when it printed none): 1 for exit(0), 77 for all skipped.
    public var exitStatus: Int?

    enum CodingKeys: String, CodingKey {
        case verdict, passed, failed, skipped, expectedFailures = "expected_failures",
             unexpectedPasses = "unexpected_passes", summary, exitStatus = "exit_status"
    }

    /// The result the console reports, or nil when it uses none of the vocabulary.
    public init?(console: String) {
        var counts: [String: Int] = [:]
        var summary: String?, status: Int?
        for raw in console.split(whereSeparator: \.isNewline) {  // "\r\n" is one Character
            let line = raw.drop { $0 == " " }
            for prefix in ["PASS:", "FAIL:", "SKIP:", "XFAIL:", "XPASS:"] where line.hasPrefix(prefix) {
                counts[prefix, default: 0] += 1
            }
            if line.hasPrefix("SUMMARY:") { summary = String(line.dropFirst(8).drop { $0 == " " }) }
            if line.hasPrefix("EXIT: STATUS="), let value = Int(line.dropFirst(13).prefix { $0.isNumber }) {
                status = value
            }
        }
        guard !counts.isEmpty || summary != nil || status != nil else { return nil }
        passed = counts["PASS:"] ?? 0
        failed = counts["FAIL:"] ?? 0
        skipped = counts["SKIP:"] ?? 0
        expectedFailures = counts["XFAIL:"] ?? 0
        unexpectedPasses = counts["XPASS:"] ?? 0
        self.summary = summary
        exitStatus = status
        if failed > 0 || unexpectedPasses > 0 || (status.map { $0 != 1 && $0 != 77 } ?? false) {
            verdict = .fail
        } else if status == 77 || (passed == 0 && expectedFailures == 0 && skipped > 0) {
            verdict = .skip
        } else {
            verdict = .pass
        }
    }

    /// `PASS (2 passed, 0 failed, 0 skipped; EXIT: STATUS=1)`.
    public var line: String {
        var parts = ["\(passed) passed", "\(failed) failed", "\(skipped) skipped"]
        if expectedFailures > 0 { parts.append("\(expectedFailures) expected failures") }
        if unexpectedPasses > 0 { parts.append("\(unexpectedPasses) unexpected passes") }
        let exit = exitStatus.map { "; EXIT: STATUS=\($0)" } ?? "; no EXIT line"
        return "\(verdict.rawValue) (\(parts.joined(separator: ", "))\(exit))"
    }
}
