import Foundation
import Testing
@testable import MairlabCommands

/// The CLI's help and text output, pinned: a change to what a user reads shows up as a diff
/// of these files, to be read and accepted on purpose.
@Suite struct GoldenTests {
    static let subcommands = ["run", "list", "check", "compare", "diff", "merge", "explain", "bench", "boot", "initramfs"]

    @Test(arguments: [""] + subcommands)
    func help(of subcommand: String) throws {
        let result = InProcess.run(subcommand.isEmpty ? ["--help"] : [subcommand, "--help"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let name = "help-\(subcommand.isEmpty ? "mairlab" : subcommand).txt"
        #expect(result.stdout == (try Golden.expected(name, actual: result.stdout)))
    }

    /// The text report of two shipped snippets: the 2015 boot under the RFC (traps, the MAIR
    /// rewrite index by index) and the framebuffer under KVM's 2015 default (the coherency
    /// model's verdicts).
    @Test(arguments: [("linux-2015-mmu-on", "rfc-2015"), ("framebuffer-nc", "kvm-2015")])
    func textReport(snippet: String, policy: String) throws {
        let result = InProcess.run(["run", snippet, "--policy", policy, "--images", InProcess.images])
        #expect(result.status == 0, "\(result.stderr)")
        let name = "run-\(snippet)-\(policy).txt"
        #expect(result.stdout == (try Golden.expected(name, actual: result.stdout)))
    }

    @Test func version() {
        let result = InProcess.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == "0.1.0\n")
    }
}
