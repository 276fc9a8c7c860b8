import AArch64
import Testing
@testable import Harness

/// Faults the architecture requires where Unicorn 2.0.1 raises none or the wrong one
/// (unicorn-exceptions.md Q5): each guest ends with the architectural outcome, named at its
/// site. Instruction counts are those of the guest code shown (a faulting instruction counts
/// as begun).
@Suite struct ArchitecturalFaultTests {
    /// 4 MB of RAM: the image's 2 MB, and the window above it.
    static let ramManifest = Fixtures.defaultManifest.replacingOccurrences(of: "size = 0x200000", with: "size = 0x400000")

    /// Maps a 2 MB window at 0x40200000 with `attr` (boot_2015) and runs `body` after it.
    func mapped(_ name: String, attr: String, _ body: String) throws -> RunReport {
        try Fixtures.run(Fixtures.snippet(name, """
                    boot_2015 0x40200000, \(attr)
            \(body)
            """, manifest: Self.ramManifest))
    }

    func expectAlignmentFault(_ report: RunReport, site: String, detail: String) throws {
        #expect(report.outcome.status == .guestFault)
        let fault = try #require(report.outcome.fault)
        #expect(fault.kind == .alignmentFault)
        #expect(fault.site == site)
        #expect(fault.detail == detail)
    }

    // Arm ARM: with stage 1 disabled, data accesses are Device-nGnRnE, and an unaligned access
    // to Device memory faults.
    @Test func anUnalignedLoadWithTheMMUOffFaults() throws {
        let report = try Fixtures.run(Fixtures.snippet("mmuoff", """
                    ldr     x1, =0x40100001
            bad:    ldr     x2, [x1]
                    mairlab_end 0
            """))
        try expectAlignmentFault(report, site: "bad",
                                 detail: "8-byte read of VA 0x40100001: device-nGnRnE is Device memory, where an unaligned access faults (Arm ARM B2.7.2)")
        #expect(report.outcome.fault?.address == "0x40100001")
        #expect(report.guestInstructions == 2)
    }

    @Test func anUnalignedStoreToADeviceMappingFaults() throws {
        let report = try mapped("devstore", attr: "MT_DEVICE_nGnRE", """
                    ldr     x1, =0x40200002
            bad:    str     w2, [x1]
                    mairlab_end 0
            """)
        try expectAlignmentFault(report, site: "bad",
                                 detail: "4-byte write of VA 0x40200002: device-nGnRE is Device memory, where an unaligned access faults (Arm ARM B2.7.2)")
    }

    // Normal memory permits unaligned ordinary loads and stores while SCTLR_EL1.A = 0.
    @Test func anUnalignedLoadFromNormalMemoryRuns() throws {
        let report = try mapped("normal", attr: "MT_NORMAL", """
                    ldr     x1, =0x40200001
                    ldr     x2, [x1]
                    str     x2, [x1, #8]
                    mairlab_end 0
            """)
        #expect(report.outcome.status == .completed)
    }

    @Test func alignmentCheckingFaultsNormalMemoryToo() throws {
        let report = try mapped("sctlra", attr: "MT_NORMAL", """
                    mrs     x0, sctlr_el1
                    orr     x0, x0, #2
                    msr     sctlr_el1, x0
                    isb
                    ldr     x1, =0x40200004
            bad:    ldr     x2, [x1]
                    mairlab_end 0
            """)
        try expectAlignmentFault(report, site: "bad",
                                 detail: "8-byte read of VA 0x40200004: SCTLR_EL1.A = 1 checks the alignment of every EL1 and EL0 data access (Arm ARM B2.5.2)")
    }

    @Test(arguments: [("ldxr x2, [x1]", 1, 8), ("ldar w2, [x1]", 2, 4), ("stlr x2, [x1]", 4, 8), ("ldaxrh w2, [x1]", 1, 2)])
    func exclusiveAndOrderedAccessesMustBeAligned(instruction: String, offset: Int, size: Int) throws {
        let report = try mapped("excl", attr: "MT_NORMAL", """
                    ldr     x1, =\(0x4020_0000 + offset)
            bad:    \(instruction)
                    mairlab_end 0
            """)
        let verb = instruction.hasPrefix("st") ? "write" : "read"
        let va = "0x\(String(0x4020_0000 + offset, radix: 16))"
        try expectAlignmentFault(report, site: "bad",
                                 detail: "\(size)-byte \(verb) of VA \(va): load/store-exclusive, load-acquire/store-release and atomic accesses must be aligned (Arm ARM B2.5.2)")
    }

    @Test func alignedExclusivesRun() throws {
        let report = try mapped("exclok", attr: "MT_NORMAL", """
                    ldr     x1, =0x40200008
                    ldxr    x2, [x1]
                    stxr    w3, x2, [x1]
                    ldar    w4, [x1]
                    mairlab_end 0
            """)
        #expect(report.outcome.status == .completed)
    }

    @Test func aMisalignedPCIsAPCAlignmentFault() throws {
        let report = try Fixtures.run(Fixtures.snippet("pcmis", """
                    adr     x0, target
                    add     x0, x0, #2
                    br      x0
            target: nop
                    mairlab_end 0
            """))
        #expect(report.outcome.status == .guestFault)
        let fault = try #require(report.outcome.fault)
        #expect(fault.kind == .pcAlignmentFault)
        #expect(fault.site == "target+0x2")
        #expect(fault.instruction == nil)
        #expect(fault.detail == "the PC \(fault.pc) is not a multiple of 4: the fetch takes a PC alignment fault (Arm ARM D1, PC alignment checking)")
        // adr, add, br: the fetch at the misaligned PC begins nothing.
        #expect(report.guestInstructions == 3)
    }

    @Test func waitForInterruptIsAnOutcomeOfItsOwn() throws {
        let report = try Fixtures.run(Fixtures.snippet("wfi", """
                    nop
            idle:   wfi
                    mairlab_end 0
            """))
        #expect(report.outcome.status == .waitingForInterrupt)
        #expect(report.outcome.fault == nil)
        #expect(report.outcome.message == "WFI at idle: the guest waits for an interrupt, and the harness delivers none")
        #expect(report.guestInstructions == 2)
    }

    /// An ERET from EL1 with SPSR_EL1 = `spsr` (DAIF masked) to the label after it.
    func exceptionReturn(_ spsr: UInt64) throws -> RunReport {
        try Fixtures.run(Fixtures.snippet("eret", """
                    ldr     x0, =\(spsr)
                    msr     spsr_el1, x0
                    adr     x0, after
                    msr     elr_el1, x0
            back:   eret
            after:  mairlab_end 0
            """))
    }

    @Test(arguments: [
        (0x3C9 as UInt64, "SPSR_EL1.M = 0b01001 names EL2, above the current EL1"),
        (0x3C6, "SPSR_EL1.M = 0b00110: M[1] = 1 is reserved"),
        (0x3C1, "SPSR_EL1.M = 0b00001: EL0 with SP_EL1 (M = 0b00001) is reserved"),
        (0x3D3, "SPSR_EL1.M = 0b10011 names an AArch32 EL1 mode, but EL1 uses AArch64 (HCR_EL2.RW = 1): a return cannot change the register width of EL1"),
    ])
    func anIllegalExceptionReturnEndsTheRun(spsr: UInt64, reason: String) throws {
        let report = try exceptionReturn(spsr)
        let fault = try #require(report.outcome.fault)
        #expect(fault.kind == .illegalExceptionReturn)
        #expect(fault.site == "back")
        #expect(fault.detail.hasPrefix("ERET with SPSR_EL1 0x\(String(spsr, radix: 16)): \(reason). PSTATE.IL is set"))
        #expect(report.guestInstructions == 5)   // ldr (literal), msr, adr, msr, eret
    }

    @Test func aLegalReturnToEL1hRuns() throws {
        let report = try exceptionReturn(0x3C5)
        #expect(report.outcome.status == .completed)
    }
}

/// `IllegalExceptionReturn()` for every SPSR.M from EL1, against the Arm ARM's list of the
/// modes an AArch64 EL1 may return to: EL0t, EL1t, EL1h, and AArch32 User where EL0 has AArch32.
@Suite struct ExceptionReturnTests {
    @Test func onlyEL0tEL1tEL1hAndUserAreLegal() {
        for m in UInt64(0)..<32 {
            let legalAArch64 = [0b00000, 0b00100, 0b00101].contains(Int(m))
            #expect((ExceptionReturn.illegalReason(spsr: m, aarch32AtEL0: true) == nil) == (legalAArch64 || m == 0b10000),
                    "M = \(m)")
            #expect((ExceptionReturn.illegalReason(spsr: m, aarch32AtEL0: false) == nil) == legalAArch64, "M = \(m)")
        }
    }

    @Test func pairsAlignToTheirWholeSize() {
        // ldxp x2, x3, [x1] = 0xC87F0C22; casp x0, x1, x2, x3, [x4] = 0x48207C82
        #expect(AlignmentRequirement.alwaysChecked(0xC87F_0C22)?.size == 16)
        #expect(AlignmentRequirement.alwaysChecked(0x4820_7C82)?.size == 16)
        // ldr x2, [x1] = 0xF9400022 is not always checked
        #expect(AlignmentRequirement.alwaysChecked(0xF940_0022) == nil)
        // ldadd x0, x1, [x2] = 0xF8200041
        #expect(AlignmentRequirement.alwaysChecked(0xF820_0041)?.size == 8)
    }
}
