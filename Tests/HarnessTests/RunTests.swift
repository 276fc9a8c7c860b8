import AArch64
import Foundation
import Testing
@testable import Harness

@Suite struct RunTests {
    /// Counted by construction: 2 movs, 10 iterations of 3 instructions, then the 2
    /// instructions of `mairlab_end` (mov x0, hvc #0).
    @Test func instructionCountOfAKnownProgram() throws {
        let snippet = try Fixtures.snippet("count", """
                    mov     x1, #10
                    mov     x2, #0
            loop:   add     x2, x2, #1
                    subs    x1, x1, #1
                    b.ne    loop
                    mairlab_end 0
            """)
        let report = try Fixtures.run(snippet)
        #expect(report.outcome.status == .completed)
        #expect(report.outcome.exitStatus == 0)
        #expect(report.guestInstructions == 2 + 10 * 3 + 2)
        #expect(report.traps.total == 0)
    }

    @Test func exitStatusIsX0AtHVC0() throws {
        let snippet = try Fixtures.snippet("status", "mov x5, #42\nmairlab_end_reg x5")
        let report = try Fixtures.run(snippet)
        #expect(report.outcome.status == .completed)
        #expect(report.outcome.exitStatus == 42)
    }

    @Test func syncPointsAreRecordedAndTheGuestResumes() throws {
        let snippet = try Fixtures.snippet("sync", """
                    mov     x1, #1
            first:  mairlab_sync 7
                    add     x1, x1, #1
            second: mairlab_sync 9
                    mairlab_end_reg x1
            """)
        let report = try Fixtures.run(snippet)
        #expect(report.outcome.exitStatus == 2)
        // Counts include the sync point's own HVC: mov, hvc | add, hvc.
        #expect(report.syncPoints == [SyncPoint(id: 7, site: "first", instructions: 2),
                                      SyncPoint(id: 9, site: "second", instructions: 4)])
    }

    /// Each TVM register write is trapped once, with its value and site; other MSRs
    /// (CPACR_EL1, VBAR_EL1) are not in the TVM group (Arm ARM, HCR_EL2.TVM).
    @Test func everyTVMRegisterWriteIsTrappedAndCounted() throws {
        let snippet = try Fixtures.snippet("tvm", """
                    mov     x1, #0x44
            w_mair: msr     mair_el1, x1
                    msr     amair_el1, xzr
                    msr     contextidr_el1, x1
                    msr     afsr0_el1, xzr
                    msr     afsr1_el1, xzr
                    msr     esr_el1, xzr
                    msr     far_el1, x1
                    msr     cpacr_el1, xzr
                    msr     vbar_el1, xzr
                    msr     ttbr0_el1, xzr
                    msr     ttbr1_el1, xzr
                    msr     tcr_el1, xzr
                    mrs     x2, sctlr_el1
                    msr     sctlr_el1, x2
                    mairlab_end 0
            """)
        let report = try Fixtures.run(snippet)
        let names = ["MAIR_EL1", "AMAIR_EL1", "CONTEXTIDR_EL1", "AFSR0_EL1", "AFSR1_EL1", "ESR_EL1", "FAR_EL1",
                     "TTBR0_EL1", "TTBR1_EL1", "TCR_EL1", "SCTLR_EL1"]
        #expect(report.traps.total == 11)
        #expect(report.traps.byRegister == Dictionary(uniqueKeysWithValues: names.map { ($0, 1) }))
        #expect((report.traps.events ?? []).map(\.register) == names)
        #expect((report.traps.events ?? [])[0].site == "w_mair")
        #expect((report.traps.events ?? [])[0].value == "0x0000000000000044")
        #expect((report.traps.events ?? [])[0].loaded == "0x0000000000000044")
        #expect((report.traps.events ?? [])[2].site == "w_mair+0x8")
        #expect(report.finalRegisters["MAIR_EL1"] == "0x0000000000000044")
    }

    /// The generic timer is virtual: CNTVCT_EL0 reads the guest instructions executed before
    /// the read, and CNTFRQ_EL0 62.5 MHz, on any host.
    @Test func timerReadsAreVirtualised() throws {
        let snippet = try Fixtures.snippet("timer", """
                    mrs     x1, cntvct_el0
                    nop
                    nop
                    mrs     x2, cntvct_el0
                    mrs     x3, cntfrq_el0
                    sub     x4, x2, x1
                    ldr     x5, =62500000
                    cmp     x3, x5
                    cset    x6, ne
                    add     x0, x4, x6, lsl #8
                    hvc     #0
            """)
        let report = try Fixtures.run(snippet)
        #expect(report.outcome.exitStatus == 3)   // the two nops and the first mrs between reads
    }

    // MARK: the 2015 boot snippet

    /// Expectations from the snippet's source (Linux v4.0 head.S/proc.S) and the issue: one
    /// MAIR_EL1 write of the 2015 layout, one TCR_EL1, one TTBR0_EL1 and one TTBR1_EL1 in
    /// __enable_mmu, two SCTLR_EL1 writes (el2_setup's endianness, __enable_mmu's M|C|I).
    @Test func linux2015BootTrapsExactly() throws {
        let snippet = try Snippet(path: Fixtures.guestImages.appendingPathComponent("linux-2015-mmu-on").path)
        let loaded = try Fixtures.load(snippet)
        let execution = try GuestExecution(loaded, options: RunOptions())
        try execution.run()
        let report = try execution.report()
        #expect(report.outcome.status == .completed)
        #expect(report.outcome.exitStatus == 0)
        #expect(report.traps.byRegister == ["MAIR_EL1": 1, "TCR_EL1": 1, "TTBR0_EL1": 1, "TTBR1_EL1": 1, "SCTLR_EL1": 2])
        let mair = try #require((report.traps.events ?? []).first { $0.register == "MAIR_EL1" })
        #expect(mair.value == "0x000000ff440c0400")
        #expect(mair.site == "__cpu_setup+0xc")   // tlbi, dsb, ldr, then the msr
        let ttbr0 = try #require((report.traps.events ?? []).first { $0.register == "TTBR0_EL1" })
        #expect(ttbr0.value == hex64(try #require(loaded.image.symbol(named: "idmap_pg_dir")).value))
        #expect(ttbr0.site == "__enable_mmu")
        let sctlr = (report.traps.events ?? []).filter { $0.register == "SCTLR_EL1" }
        #expect(sctlr.map(\.site) == ["el2_setup+0x8", "__enable_mmu+0x18"])
        // The last SCTLR_EL1 write sets M (bit 0), C (bit 2) and I (bit 12), and clears EE/E0E.
        let last = try #require(UInt64(sctlr[1].value.dropFirst(2), radix: 16))
        #expect(last & 0x1005 == 0x1005)
        #expect(last & (3 << 24) == 0)
    }

    @Test func sameRunSameReport() throws {
        let snippet = try Snippet(path: Fixtures.guestImages.appendingPathComponent("linux-2015-mmu-on").path)
        let first = try Fixtures.run(snippet, options: RunOptions(policy: .rfc2015))
        let second = try Fixtures.run(snippet, options: RunOptions(policy: .rfc2015))
        #expect(first.json(includingHostTiming: false) == second.json(includingHostTiming: false))
    }
}
