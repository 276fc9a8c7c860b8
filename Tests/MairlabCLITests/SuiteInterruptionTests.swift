import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A suite killed or interrupted part way keeps every finished run, and `--resume` finishes it
/// into the file an uninterrupted suite writes; two suites at once never share a file.
@Suite(.serialized) struct SuiteInterruptionTests {
    static let runs = 8

    /// A folder of `runs` snippets that each spin for a while (so that a signal lands mid-suite).
    static func images() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-spin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for index in 0..<runs {
            let source = """
                        .text
                        .globl _start
                _start: ldr     x0, =\(20_000_000 + index)
                1:      subs    x0, x0, #1
                        b.ne    1b
                        hvc     #0

                """
            let manifest = """
                description = "spins"
                [image]
                text = 0x40080000
                [run]
                budget = 200_000_000
                [[memory]]
                name = "ram"
                base = 0x40000000
                size = 0x200000

                """
            try source.write(to: dir.appendingPathComponent("spin\(index).S"), atomically: true, encoding: .utf8)
            try manifest.write(to: dir.appendingPathComponent("spin\(index).toml"), atomically: true, encoding: .utf8)
        }
        return dir
    }

    static func suite(_ images: URL, results: URL, extra: [String] = []) -> Process {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["run", "--images", images.path, "--results", results.path, "--policy", "kvm-2015", "--jobs", "1"] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return process
    }

    static func suiteFiles(_ results: URL) -> [URL] {
        let runs = results.appendingPathComponent("runs")
        return ((try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []).filter { $0.hasSuffix(".jsonl") }
            .sorted().map { runs.appendingPathComponent($0) }
    }

    static func lines(_ url: URL) -> [String] {
        ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Waits until the suite file holds at least `records` run records.
    static func waitForRuns(_ results: URL, _ records: Int) throws {
        for _ in 0..<600 {
            if let file = suiteFiles(results).first, lines(file).filter({ $0.hasPrefix(#"{"record":"run""#) }).count >= records { return }
            usleep(20_000)
        }
        Issue.record("no run record appeared")
    }

    /// The run records, host timing removed: what must not change.
    static func runRecords(_ url: URL) -> [String] {
        lines(url).filter { $0.hasPrefix(#"{"record":"run""#) }
            .map { $0.replacingOccurrences(of: #","host_ns_per_trap":[0-9.e+-]+"#, with: "", options: .regularExpression) }
    }

    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-results-\(UUID().uuidString)")
    }

    @Test func anInterruptedSuiteKeepsItsRunsAndResumes() throws {
        let images = try Self.images()
        let reference = Self.scratch(), results = Self.scratch()
        let whole = Self.suite(images, results: reference)
        try whole.run()
        whole.waitUntilExit()
        #expect(whole.terminationStatus == 0)
        let expected = Self.runRecords(try #require(Self.suiteFiles(reference).first))
        #expect(expected.count == Self.runs)

        for signal in [SIGINT, SIGKILL] {
            try? FileManager.default.removeItem(at: results)
            let suite = Self.suite(images, results: results)
            try suite.run()
            try Self.waitForRuns(results, 2)
            kill(suite.processIdentifier, signal)
            suite.waitUntilExit()
            let file = try #require(Self.suiteFiles(results).first)
            let kept = Self.lines(file)
            let runsKept = kept.filter { $0.hasPrefix(#"{"record":"run""#) }.count
            #expect(runsKept >= 2 && runsKept < Self.runs, "signal \(signal)")
            if signal == SIGINT {
                #expect(suite.terminationStatus == 130)
                #expect(kept.last?.contains(#""complete":false"#) == true && kept.last?.contains(#""interrupted":"SIGINT""#) == true)
            } else {
                #expect(kept.last?.hasPrefix(#"{"record":"end""#) == false)
            }
            let resume = Self.suite(images, results: results, extra: ["--resume", file.path])
            try resume.run()
            resume.waitUntilExit()
            #expect(resume.terminationStatus == 0, "signal \(signal)")
            #expect(Self.runRecords(file) == expected, "signal \(signal)")
            #expect(Self.lines(file).last == #"{"record":"end","complete":true,"errors":0,"runs":\#(Self.runs)}"#)
        }
    }

    @Test func twoSuitesAtOnceKeepTheirOwnFiles() throws {
        let images = try Self.images()
        let results = Self.scratch()
        let suites = [Self.suite(images, results: results), Self.suite(images, results: results)]
        for suite in suites { try suite.run() }
        for suite in suites { suite.waitUntilExit() }
        #expect(suites.map(\.terminationStatus) == [0, 0])
        let files = Self.suiteFiles(results)
        #expect(files.count == 2)
        for file in files { #expect(Self.runRecords(file).count == Self.runs) }
    }
}
