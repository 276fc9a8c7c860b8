import Foundation
import Testing
@testable import Harness

/// Bad input never crashes: each case ends with a message naming the file, line, field or site.
@Suite struct BadInputTests {
    @Test func assemblerErrorCarriesTheSnippetFileAndLine() throws {
        let snippet = try Fixtures.snippet("broken", """
                    .text
                    .globl _start
            _start:
                    mov     x0, #1
                    frobnicate x0, x1
            """, rawSource: true)
        #expect {
            try Fixtures.run(snippet)
        } throws: { error in
            guard case .assembly(let file, let diagnostics) = error as? HarnessError else { return false }
            return file == snippet.displayPath
                && diagnostics.contains("\(snippet.displayPath):5:")
                && diagnostics.contains("error: unrecognized instruction mnemonic")
        }
    }

    @Test func aGuestThatNeverEndsStopsAtItsBudget() throws {
        let snippet = try Fixtures.snippet("forever", "nop\nspin: b spin")
        let report = try Fixtures.run(snippet, options: RunOptions(budget: 1234))
        #expect(report.outcome.status == .budgetExhausted)
        #expect(report.guestInstructions == 1234)
        #expect(report.outcome.message == "did not end within its budget of 1234 instructions (stopped at spin)")
    }

    @Test func anUnmappedAccessNamesTheAddressAndSite() throws {
        let snippet = try Fixtures.snippet("unmapped", """
                    ldr     x1, =0x10000000
            bad:    ldr     x2, [x1]
                    mairlab_end 0
            """)
        let report = try Fixtures.run(snippet)
        #expect(report.outcome.status == .guestFault)
        let fault = try #require(report.outcome.fault)
        #expect(fault.kind == .unmappedAccess)
        #expect(fault.site == "bad")
        #expect(fault.address == "0x10000000")
        #expect(fault.instruction == "ldr x2, [x1]")
        #expect(fault.detail == "unmapped-read of VA 0x10000000: no memory region of the platform covers it")
    }

    @Test func anUndefinedInstructionNamesTheSite() throws {
        let snippet = try Fixtures.snippet("undef", """
                    nop
            oops:   udf     #7
                    mairlab_end 0
            """)
        let report = try Fixtures.run(snippet)
        #expect(report.outcome.status == .guestFault)
        #expect(report.outcome.fault?.kind == .undefinedInstruction)
        #expect(report.outcome.fault?.site == "oops")
        #expect(report.outcome.fault?.instruction == "udf #7")
        #expect(report.guestInstructions == 2)
    }

    @Test func aSupervisorCallIsAFaultNotAHang() throws {
        let snippet = try Fixtures.snippet("svc", "nop\ncall: svc #3\nmairlab_end 0")
        let report = try Fixtures.run(snippet)
        #expect(report.outcome.fault?.kind == .supervisorCall)
        #expect(report.outcome.fault?.site == "call")
    }

    @Test func aBrokenManifestNamesFileLineAndField() throws {
        let snippet = try Fixtures.snippet("badmanifest", "mairlab_end 0", manifest: """
            description = "x"
            [image]
            text = 0x40080000
            [[memory]]
            name = "ram"
            base = 0x40000000
            size = "big"
            """)
        #expect {
            try Fixtures.run(snippet)
        } throws: { error in
            (error as? HarnessError)?.description
                == "\(snippet.displayManifest):7: field 'memory[0].size': expected an integer, found string \"big\""
        }
    }

    @Test func aMisspeltManifestFieldIsReported() throws {
        let snippet = try Fixtures.snippet("misspelt", "mairlab_end 0", manifest: Fixtures.defaultManifest
            .replacingOccurrences(of: "budget = 10_000", with: "budjet = 10_000"))
        #expect {
            try Fixtures.run(snippet)
        } throws: { error in
            (error as? HarnessError)?.description.hasPrefix("\(snippet.displayManifest):5: unknown field 'run.budjet'") == true
        }
    }

    @Test func textOutsideEveryMemoryRegionIsReported() throws {
        let snippet = try Fixtures.snippet("outside", "mairlab_end 0", manifest: Fixtures.defaultManifest
            .replacingOccurrences(of: "text = 0x40080000", with: "text = 0x80000000"))
        #expect {
            try Fixtures.run(snippet)
        } throws: { error in
            (error as? HarnessError)?.description == "\(snippet.displayManifest):3: field 'image.text': 0x80000000 lies in no [[memory]] region"
        }
    }

    @Test func aSnippetWithoutManifestIsNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-nomanifest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "nop\n".write(to: dir.appendingPathComponent("lonely.S"), atomically: true, encoding: .utf8)
        #expect(throws: HarnessError.manifestMissing(snippet: dir.path + "/lonely.S", expected: dir.path + "/lonely.toml")) {
            try Snippet(path: dir.appendingPathComponent("lonely").path)
        }
    }

    @Test func aMissingEntrySymbolIsNamed() throws {
        let snippet = try Fixtures.snippet("noentry", "mairlab_end 0", manifest: Fixtures.defaultManifest
            .replacingOccurrences(of: "text = 0x40080000", with: "text = 0x40080000\nentry = \"begin\""))
        #expect {
            try Fixtures.run(snippet)
        } throws: { error in
            (error as? HarnessError)?.description
                == "\(snippet.displayManifest):4: field 'image.entry': no symbol 'begin' in \(snippet.displayPath)"
        }
    }
}

@Suite struct TranslationFaultTests {
    /// RAM is 8 MB, so Unicorn's own VA check passes; the tables map only the first 2 MB (L1[1] -> L2, L2[0] a block). A load from
    /// 0x40400000 (L2 index 2, invalid) is a translation fault at level 2 (Arm ARM D8.x,
    /// invalid descriptor): Unicorn reports only "data abort", the harness's walk names it.
    @Test func aTranslationFaultNamesKindLevelAndSite() throws {
        let snippet = try Fixtures.snippet("xlatefault", """
                    zero_range l1, 4096
                    zero_range l2, 4096
                    next_table l1, 0x40000000, 30, l2
                    l2_block   l2, 0x40000000, 0x40000000, 0
                    enable_mmu 0xff, (25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23)), l1
                    ldr     x1, =0x40400000
            boom:   ldr     x2, [x1]
                    mairlab_end 0
                    .ltorg
                    .data
                    .balign 4096
            l1:     .space 4096
            l2:     .space 4096
            """, manifest: Fixtures.defaultManifest.replacingOccurrences(of: "size = 0x200000", with: "size = 0x800000"))
        let report = try Fixtures.run(snippet)
        #expect(report.outcome.status == .guestFault)
        let fault = try #require(report.outcome.fault)
        #expect(fault.kind == .dataAbort)
        #expect(fault.site == "boom")
        #expect(fault.address == "0x40400000")
        #expect(fault.instruction == "ldr x2, [x1]")
        #expect(fault.detail.hasPrefix("8-byte read of VA 0x40400000: "))
        #expect(fault.detail.contains("level 2"))
        #expect(fault.detail.lowercased().contains("translation fault"))
    }
}

@Suite struct WallClockTests {
    /// The safety net behind the budget: a run whose budget is far away still stops when the
    /// manifest's wall-clock limit passes, and says which limit it was.
    @Test func theWallClockLimitStopsARunWithAHugeBudget() throws {
        let snippet = try Fixtures.snippet("slow", "nop\nspin: b spin", manifest: Fixtures.defaultManifest
            .replacingOccurrences(of: "budget = 10_000", with: "budget = 4_000_000_000\ntimeout_ms = 1"))
        let report = try Fixtures.run(snippet)
        #expect(report.outcome.status == .timedOut)
        #expect(report.outcome.message.hasPrefix("wall-clock limit of 1 ms passed at spin"))
    }

    /// The wall-clock limit covers the host's side: a 64 MiB VMM read of a region with an
    /// initial value stops between two of its MiB pieces instead of running for seconds.
    @Test func theWallClockLimitCoversHostActions() throws {
        let snippet = try Fixtures.snippet("bighost", """
                    ldr     x1, =0x50000000
                    ldr     x2, [x1]
            sync:   mairlab_sync 1
                    mairlab_end 0
            """, manifest: Fixtures.defaultManifest.replacingOccurrences(of: "budget = 10_000", with: "budget = 10_000\ntimeout_ms = 20") + """

            [[observed]]
            name = "fb"
            kind = "ram"
            base = 0x50000000
            size = 0x4000000
            init = 0xaa
            [[host]]
            at = 1
            observer = "vmm"
            action = "read"
            region = "fb"
            size = 0x4000000
            """)
        // Without the check between pieces the read would finish and the guest complete.
        let report = try Fixtures.run(snippet)
        #expect(report.outcome.status == .timedOut)
        #expect(report.outcome.message == "wall-clock limit of 20 ms passed at sync before the budget did")
    }
}
