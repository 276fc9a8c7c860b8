import Testing
@testable import Formats

/// kvm-unit-tests' unittests.cfg, in the forms its arm, x86 and older trees use.
@Suite struct UnitTestsConfigTests {
    static let text = """
        ##############################################################################
        # unittest configuration
        ##############################################################################

        # Test that the configured number of processors (smp = <num>) ...
        [selftest-setup]
        file = selftest.flat
        smp = 2
        test_args = 'setup smp=2 mem=256'
        qemu_params = -m 256
        kvmtool_params = --mem 256
        groups = selftest

        [selftest-vectors-kernel]
        file = selftest.flat
        test_args = vectors-kernel
        groups = selftest

        [pmu-cycle-counter]
        file = pmu.flat
        groups = pmu
        test_args = "cycle-counter 0"

        [gicv2-mmio-3p]
        file = gic.flat
        smp = $((($MAX_SMP < 3)?$MAX_SMP:3))
        groups = gic

        [its-migration]
          file = gic.flat
        smp = $MAX_SMP
        groups = its migration
        disabled_if = [[ "$TARGET" != qemu ]]
        arch = arm64
        timeout = 10s

        [old-style]
        file = selftest.flat
        extra_params = -append 'setup smp=1 mem=128' -m 1G
        accel = kvm

        [multi-line]
        file = a.flat
        qemu_params = \"\"\"-m 64
            -append "x y"\"\"\"
        """

    @Test func everyFieldAsRunTestsShReadsIt() throws {
        let config = try UnitTestsConfig(text: Self.text, file: "arm/unittests.cfg")
        #expect(config.tests.map(\.name) == ["selftest-setup", "selftest-vectors-kernel", "pmu-cycle-counter", "gicv2-mmio-3p",
                                             "its-migration", "old-style", "multi-line"])
        #expect(config.tests.map(\.line) == [6, 14, 19, 24, 29, 37, 42])
        #expect(config.tests.map(\.file) == ["selftest.flat", "selftest.flat", "pmu.flat", "gic.flat", "gic.flat", "selftest.flat", "a.flat"])
        #expect(config.tests.map(\.bootargs) == ["setup smp=2 mem=256", "vectors-kernel", "cycle-counter 0", "", "",
                                                 "setup smp=1 mem=128", "x y"])
        #expect(config.tests.map(\.memoryMiB) == [256, nil, nil, nil, nil, 1024, 64])
        // $MAX_SMP is this board's one CPU.
        #expect(config.tests.map(\.smp) == [2, 1, 1, 1, 1, 1, 1])
        #expect(config.tests.map(\.groups) == [["selftest"], ["selftest"], ["pmu"], ["gic"], ["its", "migration"], [], []])
        #expect(config.tests[4].disabledIf == #"[[ "$TARGET" != qemu ]]"#)
        #expect(config.tests[4].arch == "arm64")
        #expect(config.tests[5].accel == "kvm")
    }

    @Test(arguments: [
        ("file = a.flat", "u.cfg:1: 'file' before the first [name]"),
        ("[a]\nfiel = a.flat", "u.cfg:2: unknown key 'fiel' (known: accel, arch, check, disabled_if, extra_params, file, groups, kvmtool_params, machine, qemu_params, smp, test_args, timeout)"),
        ("[a]\nfile a.flat", "u.cfg:2: expected [name], 'key = value' or a # comment"),
        ("[a]\ngroups = x\n[b]\nfile = b.flat", "u.cfg:1: test 'a' has no 'file = ...'"),
        ("[a]\nfile = a.flat\n\n[a]\nfile = b.flat", "u.cfg:4: test 'a' is defined twice (first at line 1)"),
        ("[]\nfile = a.flat", "u.cfg:1: a test needs a name: [name]"),
        ("[a]\nfile = a.flat\nsmp = $(nproc)", "u.cfg:3: smp '$(nproc)': expected a number, $MAX_SMP, or a $((...)) expression of them"),
        ("[a]\nfile = a.flat\nsmp = 2 # two", "u.cfg:3: smp '2 # two': expected a number, $MAX_SMP, or a $((...)) expression of them"),
        ("[a]\nfile = a.flat\ntest_args = 'setup", "u.cfg:3: test_args ''setup': unterminated ' quote"),
        ("[a]\nfile = a.flat\ntest_args = \"10 `date +%s`\"", "u.cfg:3: test_args '\"10 `date +%s`\"': command substitution (` or $(...)) is not run here"),
        ("[a]\nfile = a.flat\nqemu_params = -m lots", "u.cfg:3: qemu_params '-m lots': -m 'lots': expected MiB, or a size with M or G"),
        ("[a]\nfile = a.flat\nqemu_params = \"\"\"-m 64\n", "u.cfg:3: 'qemu_params': no closing \"\"\""),
    ])
    func mistakesNameFileAndLine(text: String, message: String) {
        do {
            let config = try UnitTestsConfig(text: text, file: "u.cfg")
            Issue.record("accepted: \(config)")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func shellArithmeticOfSMP() {
        #expect(ShellArithmetic.evaluate("$((($MAX_SMP < 8)?$MAX_SMP:8))", maxSMP: 4) == 4)
        #expect(ShellArithmetic.evaluate("$((($MAX_SMP < 8)?$MAX_SMP:8))", maxSMP: 64) == 8)
        #expect(ShellArithmetic.evaluate("$(($MAX_SMP * 2 - 1))", maxSMP: 3) == 5)
        #expect(ShellArithmetic.evaluate("$((8 / 0))", maxSMP: 1) == nil)
        #expect(ShellArithmetic.evaluate("$((1 +))", maxSMP: 1) == nil)
    }
}
