import ArgumentParser
import Testing
@testable import MairlabCommands

/// `Mairlab.parse`: a subcommand's command line parsed by that subcommand alone gives what
/// the root's parse gives, and whatever it cannot take whole is the root's (help, version,
/// errors, a completion-script request).
struct ParseTests {
    static let lines: [[String]] = [
        ["run", "--policy", "fwb", "--images", "guest-images", "framebuffer-nc"],
        ["run", "--jobs", "2", "--shard", "1/3", "--json"],
        ["run", "--trap", "until-caches-on", "--rewrite", "nc-only", "--trvm", "on", "a", "b"],
        ["check", "--baseline", "x.jsonl"],
        ["explain", "--s1", "0x44", "--s2", "0xf", "--json"],
        ["list", "--images", "guest-images"],
    ]

    @Test(arguments: lines)
    func aSubcommandAloneParsesAsTheRootDoes(line: [String]) throws {
        let fast = try Mairlab.parse(line)
        let root = try Mairlab.parseAsRoot(line)
        #expect(type(of: fast) == type(of: root))
        // Same options, compared through what the command would show of itself.
        #expect(String(reflecting: fast) == String(reflecting: root))
    }

    /// The comparison above sees the parsed values (two command lines differing in one value
    /// do not reflect alike).
    @Test func theComparisonSeesTheValues() throws {
        let a = try Mairlab.parse(["run", "--policy", "fwb", "x"]), b = try Mairlab.parse(["run", "--policy", "kvm-2015", "x"])
        #expect(String(reflecting: a) != String(reflecting: b))
    }

    @Test(arguments: [["run", "--help"], ["help", "run"], ["--version"], ["run", "--no-such-option"],
                      ["run", "--trap", "sometimes"], ["run", "--generate-completion-script", "bash"], ["nosuch"]])
    func everythingElseIsTheRoots(line: [String]) {
        let fast = Result { try Mairlab.parse(line) }
        let root = Result { try Mairlab.parseAsRoot(line) }
        switch (fast, root) {
        case (.success(let a), .success(let b)):
            #expect(type(of: a) == type(of: b))
            #expect(!(a is Mairlab.Run), "\(line) was taken by the subcommand alone")
        case (.failure(let a), .failure(let b)):
            #expect(Mairlab.fullMessage(for: a) == Mairlab.fullMessage(for: b))
            #expect(Mairlab.exitCode(for: a) == Mairlab.exitCode(for: b))
        default:
            Issue.record("\(line): \(fast) against the root's \(root)")
        }
    }

    @Test func usageErrorsAndHelpStillNameMairlab() {
        let error = InProcess.run(["run", "--trap", "sometimes"])
        #expect(error.status == 64 && error.stderr.contains("mairlab run"))
        let help = InProcess.run(["run", "--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: mairlab run"))
    }
}
