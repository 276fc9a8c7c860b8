import Foundation
import Testing
@testable import Harness

/// Synchronous exceptions taken at the guest's own vectors (issue 12). Each guest installs
/// VBAR_EL1, takes one exception at `site`, and its handler reads ESR_EL1, ELR_EL1, SPSR_EL1
/// and FAR_EL1 into x20-x23 and ends the run with one of them as the exit status. The expected
/// values are written from the Arm ARM's encodings (ESR_EL1: EC in [31:26], IL in [25], ISS;
/// SPSR: NZCV in [31:28], DAIF in [9:6], M in [4:0]; `cmp x0, x0` sets Z and C), the labels'
/// addresses from the image.
@Suite struct ExceptionEntryTests {
    enum Value: String, CaseIterable { case esr = "x20", elr = "x21", spsr = "x22", far = "x23" }

    /// Vectors: the synchronous entries of "current EL with SP_ELx" (0x200) and "lower EL
    /// using AArch64" (0x400) both go to the recording handler.
    static func guest(prelude: String, body: String, ending register: Value, el0: Bool) -> String {
        let toEL0 = el0 ? """
                    mov     x0, #0              // SPSR: EL0t, DAIF clear
                    msr     spsr_el1, x0
                    adr     x0, el0
                    msr     elr_el1, x0
                    eret
            el0:
            """ : ""
        return """
                    msr     daifset, #0xf
            \(prelude)
                    adr     x0, vectors
                    msr     vbar_el1, x0
                    isb
            \(toEL0)
            \(body)
                    b       .
                    .balign 2048
            vectors:
                    .space  0x200
                    b       handler
                    .space  0x1fc
                    b       handler
            handler:
                    mrs     x20, esr_el1
                    mrs     x21, elr_el1
                    mrs     x22, spsr_el1
                    mrs     x23, far_el1
                    mairlab_end_reg \(register.rawValue)
            """
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        var prelude = ""
        let body: String
        let el0: Bool
        /// ESR_EL1 expected, with the bits `esrMask` clears ignored.
        let esr: UInt64
        var esrMask: UInt64 = 0
        /// ELR_EL1: `site` or `site + 4`, or a fixed address.
        let elr: (label: String, plus: UInt64)?
        var elrAddress: UInt64? = nil
        let spsr: UInt64
        let far: UInt64?
        var testDescription: String { name }
    }

    // The instruction abort's SPSR has BTYPE (bits [11:10]) = 0b01: the BR before it, from a
    // page without BTI guarding, sets PSTATE.BTYPE to 0b01 (Arm ARM, BR; FEAT_BTI is in the
    // emulated CPU).
    // Data and instruction aborts: translation fault at level 1 (FSC 0b000101) for VA
    // 0x80000000, which boot_2015's level-1 table leaves invalid; bits [24:14] of a data abort's
    // ISS (ISV and the instruction syndrome) are not pinned here. Permission fault at level 2
    // (FSC 0b001110): an EL0 read of RAM that boot_2015 maps with AP[2:1] = 00 (EL1 only).
    static let cases: [Case] = [
        Case(name: "SVC at EL1h", body: "        cmp x0, x0\nsite:   svc #0x42", el0: false,
             esr: 0x15 << 26 | 1 << 25 | 0x42, elr: ("site", 4), spsr: 0x6000_03C5, far: nil),
        Case(name: "UDF at EL1h", body: "        cmp x0, x0\nsite:   udf #1", el0: false,
             esr: 0x00 << 26 | 1 << 25, elr: ("site", 0), spsr: 0x6000_03C5, far: nil),
        Case(name: "BRK at EL1h", body: "        cmp x0, x0\nsite:   brk #5", el0: false,
             esr: 0x3C << 26 | 1 << 25 | 5, elr: ("site", 0), spsr: 0x6000_03C5, far: nil),
        Case(name: "data abort at EL1", prelude: Self.mmuOn, body: """
                    mov     x9, #0x80000000
                    cmp     x0, x0
            site:   ldr     x1, [x9]
            """, el0: false, esr: 0x25 << 26 | 1 << 25 | 0b000101, esrMask: 0x01FF_C000, elr: ("site", 0),
             spsr: 0x6000_03C5, far: 0x8000_0000),
        Case(name: "instruction abort at EL1", prelude: Self.mmuOn, body: """
                    mov     x9, #0x80000000
                    cmp     x0, x0
            site:   br      x9
            """, el0: false, esr: 0x21 << 26 | 1 << 25 | 0b000101, elr: nil, elrAddress: 0x8000_0000,
             spsr: 0x6000_07C5, far: 0x8000_0000),
        // The window at 0x40600000 lies past the 4 MB of RAM: Unicorn refuses the VA, the walk
        // reaches a PA nothing backs, and the board answers as QEMU's virt does: a synchronous
        // external abort (FSC 0b010000).
        Case(name: "external abort at EL1", prelude: "        boot_2015 0x40600000, MT_NORMAL", body: """
                    ldr     x9, =0x40600000
                    cmp     x0, x0
            site:   str     x1, [x9]
            """, el0: false, esr: 0x25 << 26 | 1 << 25 | 1 << 6 | 0b010000, esrMask: 0x01FF_C000, elr: ("site", 0),
             spsr: 0x6000_03C5, far: 0x4060_0000),
        Case(name: "SVC from EL0", body: "        cmp x0, x0\nsite:   svc #7", el0: true,
             esr: 0x15 << 26 | 1 << 25 | 7, elr: ("site", 4), spsr: 0x6000_0000, far: nil),
        Case(name: "UDF from EL0", body: "        cmp x0, x0\nsite:   udf #2", el0: true,
             esr: 0x00 << 26 | 1 << 25, elr: ("site", 0), spsr: 0x6000_0000, far: nil),
        // From EL0 the abort is of a lower EL (EC 0x20); the BR before it set BTYPE to 0b01.
        Case(name: "instruction abort from EL0", prelude: Self.mmuOn, body: """
                    mov     x9, #0x80000000
                    cmp     x0, x0
            site:   br      x9
            """, el0: true, esr: 0x20 << 26 | 1 << 25 | 0b000101, elr: nil, elrAddress: 0x8000_0000,
             spsr: 0x6000_0400, far: 0x8000_0000),
        Case(name: "data abort from EL0", prelude: Self.mmuOn + "\n        ldr x9, =0x40100000", body: """
                    cmp     x0, x0
            site:   ldr     x1, [x9]
            """, el0: true, esr: 0x24 << 26 | 1 << 25 | 0b001110, esrMask: 0x01FF_C000, elr: ("site", 0),
             spsr: 0x6000_0000, far: 0x4010_0000),
    ]

    /// The first 2 MB of RAM identity-mapped Normal (EL1 only), the MMU and caches on.
    static let mmuOn = "        boot_2015 0x40200000, MT_NORMAL"


    /// 4 MB of RAM, and VA 0x80000000 reserved so that Unicorn (which checks VAs against its
    /// regions before translating) lets the walk fault there.
    static let mmuManifest = Fixtures.defaultManifest.replacingOccurrences(of: "size = 0x200000", with: "size = 0x400000") + """

        [[virtual_window]]
        name = "unmapped"
        base = 0x80000000
        size = 0x1000
        """

    func value(_ register: Value, of c: Case) throws -> UInt64 {
        let snippet = try Fixtures.snippet("exc", Self.guest(prelude: c.prelude, body: c.body, ending: register, el0: c.el0),
                                           manifest: Self.mmuManifest)
        let report = try Fixtures.run(snippet)
        #expect(report.outcome.status == .completed, "\(c.name): \(report.outcome.message)")
        return try #require(report.outcome.exitStatus)
    }

    func address(of label: String, in c: Case) throws -> UInt64 {
        let snippet = try Fixtures.snippet("exc", Self.guest(prelude: c.prelude, body: c.body, ending: .esr, el0: c.el0),
                                           manifest: Self.mmuManifest)
        return try #require(Fixtures.load(snippet).image.symbol(named: label)?.value)
    }

    @Test(arguments: cases)
    func syndromeReturnAddressAndSavedState(_ c: Case) throws {
        #expect(try value(.esr, of: c) & ~c.esrMask == c.esr)
        let elr = try c.elrAddress ?? address(of: c.elr!.label, in: c) + c.elr!.plus
        #expect(try value(.elr, of: c) == elr)
        let spsr = try value(.spsr, of: c)
        #expect(spsr == c.spsr, "SPSR_EL1 0x\(String(spsr, radix: 16))")
        if let far = c.far { #expect(try value(.far, of: c) == far) }
    }

    /// Handlers return: an SVC and a UDF each taken and returned from (ELR past the UDF), the
    /// guest then ends normally; both are counted by class in the report.
    @Test func handlersReturnAndExceptionsAreCounted() throws {
        let report = try Fixtures.run(Fixtures.snippet("ret", """
                    msr     daifset, #0xf
                    adr     x0, vectors
                    msr     vbar_el1, x0
                    isb
                    mov     x19, #0
                    svc     #1
                    udf     #3
                    mairlab_end_reg x19
                    .balign 2048
            vectors:
                    .space  0x200
                    add     x19, x19, #1
                    mrs     x20, esr_el1
                    lsr     x20, x20, #26
                    cbz     x20, skip           // EC 0: return past the UDF
                    eret
            skip:   mrs     x21, elr_el1
                    add     x21, x21, #4
                    msr     elr_el1, x21
                    eret
            """))
        #expect(report.outcome.status == .completed)
        #expect(report.outcome.exitStatus == 2)
        #expect(report.exceptionsTaken == ["svc": 1, "unknown-reason": 1])
        // msr, adr, msr, isb, mov, svc; handler 5; udf; handler 8; mairlab_end_reg (mov, hvc)
        #expect(report.guestInstructions == 6 + 5 + 1 + 8 + 2)
    }

    /// Before the guest writes VBAR_EL1 its vectors are UNKNOWN: the exception ends the run.
    @Test func withoutVectorsAnExceptionEndsTheRun() throws {
        let report = try Fixtures.run(Fixtures.snippet("novec", "call:   svc #1\n        mairlab_end 0"))
        #expect(report.outcome.fault?.kind == .supervisorCall)
        #expect(report.exceptionsTaken == nil)
    }

    /// A VA the guest maps to existing RAM elsewhere: Unicorn 2.0.1 refuses it (it checks VAs
    /// against its regions), the harness maps a placeholder page there and the access is
    /// performed at the PA, as the walk says.
    @Test func aVirtualAliasOfRAMIsPerformedAtItsPhysicalAddress() throws {
        let report = try Fixtures.run(Fixtures.snippet("alias", """
                    boot_2015 0x40200000, MT_NORMAL
                    l2_block boot_l2, 0x40600000, 0x40000000, MT_NORMAL
                    tlbi    vmalle1
                    dsb     sy
                    isb
                    ldr     x1, =0x40700000             // VA 0x40600000 + 1 MB -> PA 0x40100000
                    ldr     x2, =0x40100000
                    mov     x3, #0x1234
                    str     x3, [x1]
                    ldr     x4, [x2]
                    mairlab_end_reg x4
            """, manifest: Self.mmuManifest))
        #expect(report.outcome.status == .completed, "\(report.outcome.message)")
        #expect(report.outcome.exitStatus == 0x1234)
    }
}
