import Testing
@testable import Collector

/// `check --tap` for a line-by-line TAP consumer: a plan, one line per result, and details
/// (which may hold anything a guest or a manifest said, newlines included) only as `# `
/// comment lines, so that no part of a detail reads as a result, a plan or `Bail out!`.
@Suite struct TapTests {
    /// A detail that would forge TAP lines if printed as it is.
    static let hostile = "was Sometimes 1 1\nok 99 - forged\r\n1..1\nBail out! stop\u{2028}not ok 7"

    static let results = [
        Check.Result(status: .pass, snippet: "a", policy: "kvm-2015", condition: "end = completed", detail: "held"),
        Check.Result(status: .fail, snippet: "b#1", policy: "rfc-2015", condition: "~exists x\\y", detail: hostile),
        Check.Result(status: .xfail, snippet: "c", policy: "fwb", condition: "exists s\nok 5", detail: "known\nok 6 - no"),
        Check.Result(status: .skip, snippet: "d", policy: "mine", condition: "always", detail: "no policy named 'mine'"),
        Check.Result(status: .undecided, snippet: "e", policy: "fwb", condition: "exists t", detail: "nothing explored"),
    ]

    @Test func detailsNeverStartALineOfTheirOwn() {
        let expected = """
            1..5
            ok 1 - a kvm-2015: end = completed
            not ok 2 - b\\#1 rfc-2015: ~exists x\\\\y
            # FAIL: was Sometimes 1 1
            # ok 99 - forged
            # 1..1
            # Bail out! stop
            # not ok 7
            not ok 3 - c fwb: exists s | ok 5 # TODO known | ok 6 - no
            ok 4 - d mine: always # SKIP no policy named 'mine'
            not ok 5 - e fwb: exists t
            # UNDECIDED: nothing explored
            """
        #expect(Check.tap(Self.results) == expected)
    }

    /// Every line is a plan, a result or a comment, and results are numbered 1...n in order.
    @Test func everyLineIsAPlanAResultOrAComment() {
        let lines = Check.tap(Self.results).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { !$0.contains("\r") && !$0.contains("\u{2028}") })
        let results = lines.filter { $0.hasPrefix("ok ") || $0.hasPrefix("not ok ") }
        let others = lines.filter { !$0.hasPrefix("ok ") && !$0.hasPrefix("not ok ") && !$0.hasPrefix("# ") }
        #expect(others == ["1..5"])
        let numbers = results.map { $0.split(separator: " ")[$0.hasPrefix("ok") ? 1 : 2] }
        #expect(numbers == ["1", "2", "3", "4", "5"])
    }

    @Test func commentsCoverEveryLineOfTheirText() {
        #expect(Check.tapComment("SUMMARY: 1 tests") == "# SUMMARY: 1 tests")
        #expect(Check.tapComment("BASELINE x: 1 change(s)\nb kvm-2015: completed -> guest-fault") ==
                "# BASELINE x: 1 change(s)\n# b kvm-2015: completed -> guest-fault")
    }
}
