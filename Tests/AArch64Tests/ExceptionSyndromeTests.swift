import Testing
@testable import AArch64

@Suite("ESR syndromes")
struct ExceptionSyndromeTests {
    @Test func msrMairEL1WorkedExample() throws {
        // `msr mair_el1, x0`: EC 0x18, IL 1, Op0 3, Op2 0, Op1 0, CRn 10, Rt 0, CRm 2, write.
        let syndrome = TrappedSystemInstructionSyndrome(encoding: SystemRegister.mairEL1.encoding, rt: 0, isRead: false)
        #expect(syndrome.esr == 0x6230_2804)
        let decoded = try #require(TrappedSystemInstructionSyndrome(esr: 0x6230_2804))
        #expect(decoded == syndrome)
        #expect(SystemRegister(encoding: decoded.encoding) == .mairEL1)
        #expect(decoded.description == "MSR MAIR_EL1, X0")
        #expect(ExceptionSyndrome(esr: 0x6230_2804) == .trappedSystemInstruction(syndrome))
    }

    @Test func trappedReadsAndSysInstructions() throws {
        // mrs x3, ttbr1_el1: ISS = 3<<20 | 1<<17 | 2<<10 | 3<<5 | 0<<1 | 1.
        let read = TrappedSystemInstructionSyndrome(encoding: SystemRegister.ttbr1EL1.encoding, rt: 3, isRead: true)
        #expect(read.iss == (3 << 20 | 1 << 17 | 2 << 10 | 3 << 5 | 1))
        #expect(read.description == "MRS X3, TTBR1_EL1")
        // dc cisw, x5 under TSW: Op0 1, Op1 0, CRn 7, CRm 14, Op2 2.
        let dc = TrappedSystemInstructionSyndrome(encoding: CacheMaintenanceOperation.dcCISW.encoding, rt: 5, isRead: false)
        #expect(dc.esr == 0x6200_0000 | 1 << 20 | 2 << 17 | 7 << 10 | 5 << 5 | 14 << 1)
        #expect(dc.description == "SYS DC CISW, X5")
        #expect(TrappedSystemInstructionSyndrome(esr: dc.esr) == dc)
        #expect(TrappedSystemInstructionSyndrome(esr: 0x9200_0000) == nil)
    }

    @Test("trapped-instruction round trips", arguments: SystemRegister.allCases)
    func trappedRoundTrip(register: SystemRegister) throws {
        for (rt, isRead): (UInt8, Bool) in [(0, false), (17, true), (31, false)] {
            let syndrome = TrappedSystemInstructionSyndrome(encoding: register.encoding, rt: rt, isRead: isRead)
            #expect(try #require(TrappedSystemInstructionSyndrome(esr: syndrome.esr)) == syndrome)
            #expect(syndrome.esr >> 26 == 0x18)
            #expect(syndrome.esr >> 25 & 1 == 1)
        }
    }

    @Test func dataAbort() throws {
        // A 32-bit store of w2 that hit a stage 2 translation fault at level 3:
        // ISV, SAS = 2, SRT = 2, WnR, DFSC = 0b000111.
        let abort = DataAbortSyndrome(isv: true, sas: 2, srt: 2, wnr: true, dfsc: 0b000111)
        #expect(abort.esr == 0x9000_0000 | 1 << 25 | 1 << 24 | 2 << 22 | 2 << 16 | 1 << 6 | 0b000111)
        #expect(try #require(DataAbortSyndrome(esr: abort.esr)) == abort)
        #expect(ExceptionSyndrome(esr: abort.esr) == .dataAbortFromLowerEL(abort))
        #expect(DataAbortSyndrome(esr: 0x6230_2804) == nil)
    }

    @Test func dataAbortFieldsRoundTrip() throws {
        let every = DataAbortSyndrome(instructionLength32: true, isv: true, sas: 3, sse: true, srt: 31, sf: true, ar: true,
                                      cm: true, s1ptw: true, wnr: true, dfsc: 0x3F)
        #expect(every.iss == 0x1FF_C1FF)
        #expect(try #require(DataAbortSyndrome(esr: every.esr)) == every)
        let fromFault = TranslationFault(kind: .accessFlag, stage: .stage2, level: 3, inputAddress: 0, descriptorAddresses: [])
        let cm = DataAbortSyndrome(cm: true, s1ptw: true, dfsc: fromFault.faultStatusCode)
        #expect(try #require(DataAbortSyndrome(esr: cm.esr)) == cm)
        #expect(cm.iss == 1 << 8 | 1 << 7 | 0b001011)
    }

    @Test func otherClassesRoundTrip() {
        // EC 0x16: HVC from AArch64, imm16 = 0x1234.
        let hvc: UInt64 = 0x16 << 26 | 1 << 25 | 0x1234
        #expect(ExceptionSyndrome(esr: hvc) == .other(exceptionClass: 0x16, il: true, iss: 0x1234))
        #expect(ExceptionSyndrome(esr: hvc).esr == hvc)
    }
}
