import Formats
import FoundationEssentials
import Harness
import Hypervisor

/// `mairlab check`: every snippet's stated conditions under every policy it names, in the
/// vocabulary of kvm-unit-tests (PASS / FAIL / XFAIL / SKIP and a SUMMARY line).
public enum Check {
    public struct Result: Sendable, Equatable {
        public enum Status: String, Sendable {
            case pass = "PASS", fail = "FAIL", xfail = "XFAIL", skip = "SKIP"
            /// The model could not decide the condition (an exploration cut short, an
            /// UNPREDICTABLE or UNKNOWN attribute): unexpected, like a failure.
            case undecided = "UNDECIDED"
        }
        public var status: Status
        public var snippet: String
        public var policy: String
        public var condition: String
        public var detail: String

        public var isUnexpected: Bool { status == .fail || status == .undecided }
        public var line: String { "\(status.rawValue) \(snippet) \(policy): \(condition)\(detail.isEmpty ? "" : " (\(detail))")" }
    }

    /// The checks, and the runs they judged. With `everyPolicy`, each snippet also runs under
    /// the catalog's other policies (for a baseline comparison), once.
    public static func run(_ snippets: [Snippet], catalog: [Policy] = Policy.builtIn, everyPolicy: Bool = false,
                           cache: ImageCache = .standard()) -> (results: [Result], entries: [SuiteRun.Entry]) {
        var results: [Result] = []
        var entries: [SuiteRun.Entry] = []
        for snippet in snippets {
            let manifest: Manifest
            do {
                manifest = try Manifest(contentsOf: snippet.manifestFile, displayPath: snippet.displayManifest)
            } catch {
                results.append(Result(status: .fail, snippet: snippet.name, policy: "-", condition: "manifest", detail: "\(error)"))
                continue
            }
            let names = Array(Set(manifest.expectations.flatMap(\.policies))).sorted()
            let known = names.compactMap { name in catalog.first { $0.name == name } }
            for name in names where !catalog.contains(where: { $0.name == name }) {
                for expectation in manifest.expectations where expectation.policies.contains(name) {
                    results.append(Result(status: .skip, snippet: snippet.name, policy: name,
                                          condition: expectation.condition.description, detail: "no policy named '\(name)'"))
                }
            }
            let others = everyPolicy ? catalog.filter { policy in !known.contains { $0.name == policy.name } } : []
            for entry in SuiteRun.run([snippet], policies: known + others, cache: cache) {
                results += judge(entry, manifest: manifest)
                entries.append(entry)
            }
        }
        return (results, entries)
    }

    static func judge(_ entry: SuiteRun.Entry, manifest: Manifest) -> [Result] {
        let expectations = manifest.expectations.filter { $0.policies.contains(entry.policy) }
        return expectations.map { expectation in
            var result = Result(status: .pass, snippet: entry.snippet, policy: entry.policy,
                                condition: expectation.condition.description, detail: "")
            guard let report = entry.report else {
                result.status = .fail
                result.detail = entry.error ?? "no report"
                return result
            }
            let verdict = report.outcome.conditions.first { $0.condition == expectation.condition.description }
            // A run that did not complete fails its conditions, unless they are about how it ended.
            var aboutTheEnd = false
            if case .end = expectation.condition.predicate { aboutTheEnd = true }
            let observed = verdict.map { "\($0.observation) \($0.positive) \($0.negative)" } ?? report.outcome.message
            if verdict?.holds == nil, report.outcome.status == .completed || aboutTheEnd {
                // What the model cannot decide is said, never counted as a pass.
                result.status = .undecided
                result.detail = "\(observed): \(report.outcome.undecided.joined(separator: "; "))"
                return result
            }
            let held = (report.outcome.status == .completed || aboutTheEnd) && verdict?.holds == true
            switch (held, expectation.xfail) {
            case (true, nil):
                result.detail = observed
            case (false, nil):
                result.status = .fail
                result.detail = "was \(observed); expected because \(expectation.reason)"
            case (false, let why?):
                result.status = .xfail
                result.detail = "\(observed); known: \(why)"
            case (true, let why?):
                // A known failure that passes is news too: reported as unexpected.
                result.status = .fail
                result.detail = "passed (\(observed)) but is marked xfail: \(why)"
            }
            return result
        }
    }

    public static func summary(_ results: [Result]) -> String {
        let count = { (status: Result.Status) in results.filter { $0.status == status }.count }
        return "SUMMARY: \(results.count) tests, \(count(.fail)) unexpected failures, \(count(.xfail)) expected failures, \(count(.skip)) skipped"
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " | ")
    }

    /// `text` as TAP comment lines, one per line of it: a consumer reading line by line never
    /// takes a line of a detail for a result, a plan or `Bail out!`.
    public static func tapComment(_ text: String) -> String {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { "# " + $0 }.joined(separator: "\n")
    }

    /// The Test Anything Protocol (version 12) for CI: a plan, one line per result, details of
    /// failures as comment lines after their result.
    public static func tap(_ results: [Result]) -> String {
        var lines = ["1..\(results.count)"]
        for (index, result) in results.enumerated() {
            // A description ends at `#` (a directive follows): escape it, and the escape character.
            let name = oneLine("\(result.snippet) \(result.policy): \(result.condition)")
                .replacing("\\", with: "\\\\").replacing("#", with: "\\#")
            switch result.status {
            case .pass: lines.append("ok \(index + 1) - \(name)")
            case .fail, .undecided:
                lines.append("not ok \(index + 1) - \(name)")
                lines.append(tapComment("\(result.status.rawValue): \(result.detail)"))
            // A directive's reason must stay on the result's line.
            case .xfail: lines.append("not ok \(index + 1) - \(name) # TODO \(oneLine(result.detail))")
            case .skip: lines.append("ok \(index + 1) - \(name) # SKIP \(oneLine(result.detail))")
            }
        }
        return lines.joined(separator: "\n")
    }
}
