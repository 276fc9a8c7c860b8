import Formats
import Foundation
import Testing

/// The CLI as a person or a CI script runs it: the built binary, from the repository root.
enum CLI {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `mairlab` is built beside the test bundle.
    static var binary: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("mairlab")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            dir = dir.deletingLastPathComponent()
        }
        return repository.appendingPathComponent(".build/debug/mairlab")
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try ProcessRunner.run(binary.path, arguments, in: repository)
        return (result.status, result.stdout, result.stderr)
    }
}

@Suite struct CLITests {
    /// The issue's acceptance: exactly one MAIR_EL1 write of 0x000000ff440c0400, one each of
    /// TCR_EL1 and TTBR0_EL1, and the SCTLR_EL1 writes, each with a site.
    @Test func runTheBootSnippetAsJSON() throws {
        let result = try CLI.run(["run", "guest-images/linux-2015-mmu-on", "--json", "--events"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let traps = try #require(object["traps"] as? [String: Any])
        let byRegister = try #require(traps["by_register"] as? [String: Int])
        #expect(byRegister["MAIR_EL1"] == 1)
        #expect(byRegister["TCR_EL1"] == 1)
        #expect(byRegister["TTBR0_EL1"] == 1)
        #expect(byRegister["SCTLR_EL1"] == 2)
        let events = try #require(traps["events"] as? [[String: Any]])
        let mair = events.filter { $0["register"] as? String == "MAIR_EL1" }
        #expect(mair.map { $0["value"] as? String } == ["0x000000ff440c0400"])
        let sites = events.compactMap { $0["site"] as? String }
        #expect(sites.count == events.count && sites.allSatisfy { !$0.isEmpty && !$0.hasPrefix("0x") })
        let outcome = try #require(object["outcome"] as? [String: Any])
        #expect(outcome["status"] as? String == "completed")
    }

    @Test func listNamesEverySnippet() throws {
        let result = try CLI.run(["list"])
        #expect(result.status == 0)
        let names = result.stdout.split(separator: "\n").map { String($0.split(separator: " ").first ?? "") }
        let sources = try FileManager.default.contentsOfDirectory(atPath: CLI.repository.appendingPathComponent("guest-images").path)
            .filter { $0.hasSuffix(".S") }.map { String($0.dropLast(2)) }.sorted()
        #expect(names == sources)
    }

    @Test func explainThe2015ProblemCase() throws {
        let result = try CLI.run(["explain", "--s1", "0x44", "--s2", "0xf"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("Effective: Normal Non-cacheable, Outer Shareable"))
        #expect(lines.contains { $0.hasPrefix("Rule: S1 Normal-NC with S2 Normal-WB") })
    }

    @Test func explainFWBForcesWriteBack() throws {
        let result = try CLI.run(["explain", "--s1", "0x44", "--s2", "0x6", "--fwb"])
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").contains { $0.hasPrefix("Effective: Normal Write-Back") })
    }

    @Test func explainSelectsFromAWholeMAIR() throws {
        // AttrIndx 3 of Linux's 2015 MAIR is Normal-NC (0x44).
        let result = try CLI.run(["explain", "--mair", "0x000000FF440C0400", "--index", "3", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["s1"] as? Int == 0x44)
        #expect(object["inner"] as? String == "nc")
    }

    @Test func explainTableHasEveryCombination() throws {
        let result = try CLI.run(["explain", "--table", "--json"])
        #expect(result.status == 0)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(entries.count == 256 * 16 * 2)
        let keys: Set = ["s1", "s2", "fwb", "type", "device", "inner", "outer", "shareability", "unpredictable"]
        #expect(entries.allSatisfy { Set($0.keys) == keys })
        let combinations = Set(entries.map { "\($0["s1"]!)/\($0["s2"]!)/\($0["fwb"]!)" })
        #expect(combinations.count == 256 * 16 * 2)
    }

    @Test func badInputExitsTwoWithAMessage() throws {
        let result = try CLI.run(["run", "guest-images/no-such-snippet"])
        #expect(result.status == 2)
        #expect(result.stderr == "mairlab: no snippet at guest-images/no-such-snippet: expected NAME.S with a manifest NAME.toml beside it\n")
        let explain = try CLI.run(["explain", "--s1", "0x144"])
        #expect(explain.status == 64)   // ArgumentParser's usage error
        #expect(explain.stderr.contains("'0x144' does not fit in a byte"))
    }
}

@Suite struct HypervisorCLITests {
    @Test func policyRunCarriesTheIssueFields() throws {
        let result = try CLI.run(["run", "linux-2015-mmu-on", "--policy", "rfc-2015", "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let traps = try #require(object["traps"] as? [String: Any])
        #expect((traps["by_register"] as? [String: Int])?["MAIR_EL1"] == 1)
        #expect(traps["total"] as? Int == 6)
        #expect(object["guest_instructions"] as? Int != nil)
        let cost = try #require(object["cost"] as? [String: Any])
        #expect(cost["modeled_overhead_pct"] as? Double != nil)
        #expect(cost["host_ns_per_trap"] as? Double != nil)
        let policy = try #require(object["policy"] as? [String: Any])
        #expect(policy["name"] as? String == "rfc-2015")
        #expect(policy["trap"] as? String == "always")
        #expect(policy["rewrite"] as? String == "uncached")
        #expect(policy["fast_path"] as? Bool == true)
        let rewrites = try #require(object["rewrites"] as? [[String: Any]])
        #expect(rewrites.first?["requested"] as? String == "0x000000ff440c0400")
        #expect(rewrites.first?["loaded"] as? String == "0xffffffffffffffff")
    }

    @Test func knobsOverrideAndRenameThePolicy() throws {
        let result = try CLI.run(["run", "mair-readback", "--policy", "rfc-2015", "--trvm", "on", "--fast-path", "off", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let policy = try #require(object["policy"] as? [String: Any])
        #expect(policy["name"] as? String == "rfc-2015[fast-path=off][trvm=on]")
        #expect((object["traps"] as? [String: Any])?["by_path"] as? [String: Int] == ["full-exit": 2])
    }

    @Test func unknownPolicyIsAUsageError() throws {
        let result = try CLI.run(["run", "mair-readback", "--policy", "kvm-2016"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown policy 'kvm-2016'"))
    }

    @Test func compareWritesTableAndChart() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-compare-\(UUID().uuidString)")
        let result = try CLI.run(["compare", "mair-readback", "--policies", "kvm-2015,rfc-2015,fwb", "--results", dir.path])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("policy ") && $0.contains("modeled overhead") && $0.contains("host ns/trap") })
        #expect(lines.filter { $0.hasPrefix("kvm-2015 ") || $0.hasPrefix("rfc-2015 ") || $0.hasPrefix("fwb ") }.count == 3)
        let svg = try String(contentsOf: dir.appendingPathComponent("compare-mair-readback.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.components(separatedBy: "<rect x=").count - 1 == 3)   // one bar per policy
    }
}

@Suite struct CoherencyCLITests {
    @Test func outcomeCarriesSchedulesAndFailures() throws {
        let stale = try CLI.run(["run", "framebuffer-nc", "--policy", "kvm-2015", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stale.stdout.utf8)) as? [String: Any])
        let outcome = try #require(object["outcome"] as? [String: Any])
        let schedules = try #require(outcome["schedules"] as? [String: Any])
        // The guest never reads shared memory: one execution, every line explored in it.
        #expect(schedules["explored"] as? Int == 1)
        #expect(schedules["cut_short"] as? Bool == false)
        let failures = try #require(outcome["failures"] as? [[String: Any]])
        #expect(failures.count == 1)
        #expect(failures.first?["kind"] as? String == "stale-read")
        #expect(failures.first?["observer"] as? String == "vmm")
        #expect(failures.first?["address"] as? String == "0x50000000")
        // Two final states: stale or not; the failure is in one, and names a schedule.
        #expect(failures.first?["states"] as? Int == 1)
        #expect((failures.first?["schedule"] as? String)?.hasPrefix("0x50000000:") == true)
        #expect((outcome["states"] as? [Any])?.count == 2)
        let coherent = try CLI.run(["run", "framebuffer-nc", "--policy", "rfc-2015", "--json"])
        let other = try #require(try JSONSerialization.jsonObject(with: Data(coherent.stdout.utf8)) as? [String: Any])
        #expect((other["outcome"] as? [String: Any])?["failures"] as? [Any] != nil)
        #expect(((other["outcome"] as? [String: Any])?["failures"] as? [Any])?.isEmpty == true)
    }
}

@Suite struct SuiteCLITests {
    /// The README's main command: every snippet under every policy, a summary, and the
    /// records in RESULTS/runs/.
    @Test func theSuiteRunsEverySnippetUnderEveryPolicy() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-suite-\(UUID().uuidString)")
        let result = try CLI.run(["run", "--results", dir.path])
        #expect(result.status == 0, "\(result.stderr)")
        let snippets = try FileManager.default.contentsOfDirectory(atPath: CLI.repository.appendingPathComponent("guest-images").path)
            .filter { $0.hasSuffix(".S") }.count
        let rows = result.stdout.split(separator: "\n").dropFirst()
        #expect(rows.count == snippets * 7)
        for policy in ["kvm-2015", "rfc-2015", "rfc-2015-no-fastpath", "fwb", "vfio-wc-vga-2022", "s2-normal-nc-2024", "cacheable-pfnmap-2025"] {
            #expect(rows.filter { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == Substring(policy) }.count == snippets)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)
        #expect(Set(files.map { ($0 as NSString).pathExtension }) == ["jsonl", "md", "csv", "svg"])
    }
}
