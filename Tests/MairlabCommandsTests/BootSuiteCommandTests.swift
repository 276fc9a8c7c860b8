import Collector
import Foundation
import Testing
@testable import MairlabCommands

/// `mairlab boot --suite` on a unittests.cfg and tiny images written here, each a few
/// hand-encoded A64 instructions that print through the PL011 and power off by PSCI.
@Suite struct BootSuiteCommandTests {
    /// `movz w2, #c; str w2, [x1]` per character, x1 at UARTDR.
    static func prints(_ text: String) -> [UInt32] {
        [0xD2A1_2001] + text.utf8.flatMap { [0x5280_0002 | UInt32($0) << 5, 0xB900_0022] }  // movz x1, #0x0900, lsl #16
    }

    static let mairWrite: [UInt32] = [0xD518_A202]  // msr mair_el1, x2: trapped while the caches are off
    static let systemOff: [UInt32] = [0xD2B0_8000, 0xF280_0100, 0xD400_0002]  // movz x0, #0x8400, lsl #16; movk x0, #8; hvc #0

    static let cfg = """
        # A table in unittests.cfg's words.
        [passes]
        file = pass.flat
        test_args = 'setup smp=1'
        groups = mine

        [fails]
        file = fail.flat
        groups = mine

        [spins]
        file = spin.flat
        groups = mine

        [two-cpus]
        file = pass.flat
        smp = 2
        groups = mine

        [manual]
        file = pass.flat
        groups = nodefault

        [absent]
        file = absent.flat
        groups = other
        """

    /// The folder with the cfg and its images.
    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-suite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let images: [String: [UInt32]] = [
            "pass.flat": mairWrite + prints("PASS: a\nSUMMARY: 1 tests\nEXIT: STATUS=1\n") + systemOff,
            "fail.flat": prints("PASS: a\nFAIL: b\nEXIT: STATUS=3\n") + systemOff,
            "spin.flat": mairWrite + [0x1400_0000],  // b .
        ]
        for (name, words) in images {
            try Data(words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } })
                .write(to: folder.appendingPathComponent(name))
        }
        try cfg.write(to: folder.appendingPathComponent("unittests.cfg"), atomically: true, encoding: .utf8)
        return folder
    }

    @Test func aMatrixOfTestsByPolicy() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cfg = folder.appendingPathComponent("unittests.cfg").path
        let result = InProcess.run(["boot", "--suite", cfg, "--policy", "kvm-2015,rfc-2015", "--policy", "fwb", "--budget", "1000",
                                    "--jobs", "1"])
        #expect(result.status == 1)
        #expect(result.stdout == """
              test      kvm-2015            rfc-2015            fwb
              passes    PASS 1              PASS 1              PASS 0              SUMMARY: 1 tests
              fails     FAIL 0              FAIL 0              FAIL 0              PSCI SYSTEM_OFF through HVC at image+0x104
              spins     budget-exhausted 1  budget-exhausted 1  budget-exhausted 0  did not end within its budget of 1000 instructions (stopped at image+0x4)
              two-cpus  SKIP                SKIP                SKIP                smp = 2: this board has one CPU
              manual    SKIP                SKIP                SKIP                test marked as manual run only
              absent    SKIP                SKIP                SKIP                Test file '\(folder.path)/absent.flat' not found

            each cell: the verdict (or how the run ended) and the accesses trapped under that policy
            18 runs: 3 FAIL, 3 PASS, 9 SKIP, 3 budget-exhausted

            """)
        #expect(result.stderr.split(separator: "\n").first == "[1/18] passes under kvm-2015: PASS")
    }

    @Test func aGroupAndJSONLines() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cfg = folder.appendingPathComponent("unittests.cfg").path
        let result = InProcess.run(["boot", "--suite", cfg, "--group", "nodefault", "--policy", "kvm-2015", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix(#"{"record":"context","#) == true)
        #expect(lines.last?.hasPrefix(#"{"record":"boot","#) == true)
        let run = try JSONDecoder().decode(BootSuite.Run.self, from: Data(lines[1].utf8))
        #expect(run.test == "manual" && run.policy == "kvm-2015" && run.verdict == "PASS" && run.bootargs == "")
        #expect(run.report?.outcome.test?.line == "PASS (1 passed, 0 failed, 0 skipped; EXIT: STATUS=1)")
        #expect(run.report?.profile.trapsTotal == 1)
    }

    @Test func badInputIsStatusTwoNamingFileAndLine() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cfg = folder.appendingPathComponent("bad.cfg")
        try "[a]\nfile = pass.flat\nsmp = many\n".write(to: cfg, atomically: true, encoding: .utf8)
        let result = InProcess.run(["boot", "--suite", cfg.path])
        #expect(result.status == 2)
        #expect(result.stderr == "mairlab: \(cfg.path):3: smp 'many': expected a number, $MAX_SMP, or a $((...)) expression of them\n")
        let group = InProcess.run(["boot", "--suite", folder.appendingPathComponent("unittests.cfg").path, "--group", "none"])
        #expect(group.status == 2)
        #expect(group.stderr == "mairlab: \(folder.path)/unittests.cfg: no test is in group 'none'\n")
        let absent = InProcess.run(["boot", "--suite", folder.appendingPathComponent("absent.cfg").path])
        #expect(absent.status == 2)
        #expect(absent.stderr == "mairlab: \(folder.path)/absent.cfg: cannot read: no such file or directory\n")
        // One policy a run everywhere else.
        let run = InProcess.run(["run", "context-switch-storm", "--images", InProcess.images, "--policy", "kvm-2015,rfc-2015"])
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("Error: --policy: one policy here (only `mairlab boot --suite` runs several)\n"))
        let both = InProcess.run(["boot", "--suite", cfg.path, "--bootargs", "x"])
        #expect(both.status == 64)
        #expect(both.stderr.contains("--suite boots each test as its file says"))
    }
}
