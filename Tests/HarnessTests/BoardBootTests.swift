import Board
import Foundation
import Hypervisor
import Testing
@testable import Harness

/// Tiny raw images on the board, each a few hand-encoded A64 instructions (the comments give
/// the assembly), so every count below follows from the code.
@Suite struct BoardBootTests {
    /// Writes the words little-endian to a temporary file and boots it.
    static func boot(_ words: [UInt32], flash: Bool = false, budget: Int = 1_000, memory: UInt64 = 128 << 20,
                     load: UInt64? = nil) throws -> BootReport {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-board-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }).write(to: file)
        return try Boot.run(BootOptions(imagePath: file.path, flash: flash, loadAddress: load, memory: memory, budget: budget))
    }

    static let systemOffID: [UInt32] = [0xD2B0_8000, 0xF280_0100]  // movz x0, #0x8400, lsl #16; movk x0, #8

    @Test func systemOffThroughSMC() throws {
        let report = try Self.boot(Self.systemOffID + [0xD400_0003])  // smc #0
        #expect(report.outcome.status == .systemOff)
        #expect(report.guestInstructions == 3)
        #expect(report.profile.psci.map(\.conduit) == ["SMC"])
        #expect(report.profile.psci.first?.site == "image+0x8")
        #expect(report.profile.exits["smc (PSCI)"] == 1)
        // A kernel-style image goes to RAM + 0x80000 (virt's KERNEL64_LOAD_ADDR).
        #expect(report.image.base == "0x40080000")
    }

    @Test func consoleThroughThePL011() throws {
        let report = try Self.boot([
            0xD2A1_2001,  // movz x1, #0x0900, lsl #16   (UARTDR)
            0x5280_0D02,  // movz w2, #'h'
            0xB900_0022,  // str w2, [x1]
        ] + Self.systemOffID + [0xD400_0002])  // hvc #0
        #expect(report.console == "h")
        #expect(report.outcome.status == .systemOff)
        #expect(report.outcome.consoleTail == "h")
        #expect(report.profile.exits["mmio pl011"] == 1)
        #expect(report.profile.exits["hvc (PSCI)"] == 1)
        #expect(report.guestInstructions == 6)
    }

    /// x0 holds the devicetree's address (arm64 booting.rst): RAM + min(RAM / 2, 128 MiB) above
    /// a kernel-style image. Passed as a function ID it is unknown to PSCI, which answers
    /// NOT_SUPPORTED; `b .` then spins to the budget.
    @Test func deviceTreeAddressInX0AndTheBudget() throws {
        let report = try Self.boot([0xD400_0002, 0x1400_0000], budget: 100)  // hvc #0; b .
        #expect(report.board.deviceTree == "0x44000000")
        #expect(report.profile.psci.map(\.function) == ["function 0x44000000"])
        #expect(report.profile.psci.map(\.result) == ["returned NOT_SUPPORTED"])
        #expect(report.outcome.status == .budgetExhausted)
        #expect(report.guestInstructions == 100)
    }

    /// An arm64 Image header (booting.rst): `b` over the 64-byte header, text_offset 0,
    /// image_size 1 MiB, the magic at 56. virt loads it at RAM + 2 MiB and puts the devicetree
    /// at RAM + min(RAM / 2, 128 MiB), above its image_size.
    @Test func kernelImageHeader() throws {
        var words = [UInt32](repeating: 0, count: 16)
        words[0] = 0x1400_0010  // b +64
        words[4] = 0x10_0000    // image_size (low word)
        words[14] = 0x644D_5241 // "ARM\x64"
        let report = try Self.boot(words + Self.systemOffID + [0xD400_0002])
        #expect(report.image.base == "0x40200000")
        #expect(report.image.size == 0x10_0000)
        #expect(report.profile.psci.first?.site == "image+0x48")
        #expect(report.board.deviceTree == "0x44000000")
        #expect(report.guestInstructions == 4)
    }

    /// A guest printing kvm-unit-tests' vocabulary (`movz w2, #c; str w2, [x1]` per character)
    /// is judged by what it reports.
    @Test func aGuestReportingInKvmUnitTestsWordsIsJudgedByThem() throws {
        let text = "PASS: a\nSKIP: b\nEXIT: STATUS=1\n"
        let prints: [UInt32] = text.utf8.flatMap { (c: UInt8) -> [UInt32] in [0x5280_0002 | UInt32(c) << 5, 0xB900_0022] }
        let report = try Self.boot([0xD2A1_2001] + prints + Self.systemOffID + [0xD400_0002])
        #expect(report.outcome.status == .systemOff)
        let test = try #require(report.outcome.test)
        #expect(test.verdict == .pass)
        #expect(test.passed == 1 && test.skipped == 1 && test.failed == 0)
        #expect(test.exitStatus == 1)
    }

    /// A read of GICD_CTLR, then `b .`: the budget's outcome says an interrupt may be awaited.
    @Test func budgetAfterTheGICSaysNoInterruptComes() throws {
        let report = try Self.boot([
            0xD2A1_0001,  // movz x1, #0x0800, lsl #16   (GICD_CTLR)
            0xB940_0022,  // ldr w2, [x1]
            0x1400_0000,  // b .
        ], budget: 50)
        #expect(report.outcome.status == .budgetExhausted)
        #expect(report.outcome.message.contains("accessed the GIC 1 times"))
        #expect(report.profile.exits["mmio gic"] == 1)
        #expect(report.guestInstructions == 50)
    }

    @Test func cpuOnIsRefused() throws {
        let report = try Self.boot([
            0xD2B8_8000, 0xF280_0060,  // movz x0, #0xC400, lsl #16; movk x0, #3   (CPU_ON, SMC64)
            0xD280_0021,  // movz x1, #1   (a CPU that does not exist)
            0xD400_0002,  // hvc #0
        ] + Self.systemOffID + [0xD400_0002])
        #expect(report.profile.psci.map(\.result) == ["refused: INVALID_PARAMETERS", "system off"])
        #expect(report.outcome.status == .systemOff)
        #expect(report.outcome.message.hasSuffix("; PSCI refused CPU_ON 1 time(s): this board has one CPU"))
    }

    @Test func waitForInterruptEndsTheBoot() throws {
        let report = try Self.boot([0xD503_207F])  // wfi
        #expect(report.outcome.status == .waitingForInterrupt)
        #expect(report.outcome.message == "WFI at image+0x0: nothing can wake it (no EL1 timer is armed to raise an interrupt, and there is no other CPU)")
        #expect(report.guestInstructions == 1)
    }

    /// Flash is read-only: x1 is 0 at entry (booting.rst), so this writes to flash at 0.
    @Test func flashIsReadOnly() throws {
        let report = try Self.boot([0xF900_0020], flash: true)  // str x0, [x1]
        #expect(report.outcome.status == .guestFault)
        #expect(report.outcome.message.contains("read-only"))
        #expect(report.image.placement == "flash")
        #expect(report.board.deviceTree == "0x40000000")
    }

    @Test func badInputNamesTheFileOrOption() throws {
        #expect(throws: HarnessError.self) { try Boot.run(BootOptions(imagePath: "/nonexistent/u-boot.bin")) }
        do {
            _ = try Self.boot([0xD503_207F], memory: 4096)
            Issue.record("a 4 KiB RAM was accepted")
        } catch {
            #expect("\(error)".contains("--memory"))
        }
        // An Image header claiming the whole address space, and a load address past RAM.
        var header = [UInt32](repeating: 0, count: 16)
        (header[4], header[5], header[14]) = (0xFFFF_FFFF, 0xFFFF_FFFF, 0x644D_5241)
        for (words, load) in [(header, nil), ([0xD503_207F], 0x8000_0000)] as [([UInt32], UInt64?)] {
            #expect(throws: HarnessError.self) { try Self.boot(words, load: load) }
        }
        // One word more than both flash banks, as a sparse file.
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-board-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: big) }
        #expect(FileManager.default.createFile(atPath: big.path, contents: nil))
        let handle = try FileHandle(forWritingTo: big)
        try handle.truncate(atOffset: (128 << 20) + 4)
        try handle.close()
        do {
            _ = try Boot.run(BootOptions(imagePath: big.path, flash: true))
            Issue.record("an image larger than flash was accepted")
        } catch {
            #expect("\(error)".contains("do not fit in the 128 MiB"))
        }
    }
}

/// kvm-unit-tests' report vocabulary (lib/report.c, lib/arm/io.c) read from a console.
@Suite struct GuestTestResultTests {
    @Test func passesCountAndTheExitStatus() throws {
        let result = try #require(GuestTestResult(console: "PASS: a\r\nINFO: x\r\nPASS: b\r\nSUMMARY: 2 tests\r\n\r\nEXIT: STATUS=1\r\n"))
        #expect(result.verdict == .pass)
        #expect(result.passed == 2 && result.failed == 0 && result.skipped == 0)
        #expect(result.summary == "2 tests")
        #expect(result.exitStatus == 1)
        #expect(result.line == "PASS (2 passed, 0 failed, 0 skipped; EXIT: STATUS=1)")
    }

    // report_summary() returns 77 >> 1 when every test was skipped: the status reads 77.
    @Test func everythingSkippedIsASkip() throws {
        let result = try #require(GuestTestResult(console: "SKIP: psci: At least 2 cpus required\nSUMMARY: 1 tests, 1 skipped\nEXIT: STATUS=77\n"))
        #expect(result.verdict == .skip)
        #expect(result.skipped == 1)
    }

    @Test func aFailureOrABadStatusFails() throws {
        #expect(GuestTestResult(console: "PASS: a\nFAIL: b\nEXIT: STATUS=3\n")?.verdict == .fail)
        #expect(GuestTestResult(console: "PASS: a\nEXIT: STATUS=3\n")?.verdict == .fail)
        #expect(GuestTestResult(console: "XPASS: a\nEXIT: STATUS=1\n")?.verdict == .fail)
        #expect(GuestTestResult(console: "XFAIL: a\nPASS: b\nEXIT: STATUS=1\n")?.verdict == .pass)
    }

    @Test func aConsoleWithoutTheVocabularyHasNoResult() {
        #expect(GuestTestResult(console: "U-Boot 2023.01\r\n=> version\r\n") == nil)
        // A PASS: that is not at a line's start is not a report line.
        #expect(GuestTestResult(console: "echo PASS: nothing\n") == nil)
    }
}

/// The generic timer through the GICv2 to the guest's IRQ vector (issue 12): a guest of our
/// own, assembled and booted as an ELF on the board.
@Suite struct BoardInterruptTests {
    /// Programs CNTV_TVAL_EL0 = `ticks`, enables PPI 27 at the distributor and the CPU interface,
    /// unmasks IRQs and waits in WFI; the IRQ handler acknowledges (GICC_IAR), disables the
    /// timer, and EOIs; the guest then prints PASS when exactly one IRQ with INTID 27 came.
    static let guest = """
                .equ    GICD, 0x08000000
                .equ    GICC, 0x08010000
                msr     daifset, #0xf
                adr     x0, vectors
                msr     vbar_el1, x0
                isb
                ldr     x1, =GICD
                mov     w2, #1
                str     w2, [x1]                // GICD_CTLR: enable
                mov     w2, #(1 << 27)
                str     w2, [x1, #0x100]        // GICD_ISENABLER0: PPI 27, the virtual timer
                ldr     x3, =GICC
                mov     w2, #0xf0
                str     w2, [x3, #4]            // GICC_PMR
                mov     w2, #1
                str     w2, [x3]                // GICC_CTLR: enable
                mov     x19, #0
                mov     x0, #1000
                msr     cntv_tval_el0, x0
                mov     x0, #1
                msr     cntv_ctl_el0, x0        // ENABLE, not IMASK
                msr     daifclr, #2
        wait:   wfi
                cbz     x19, wait
                adr     x4, fail
                cmp     x19, #1
                b.ne    print
                adr     x4, pass
        print:  ldr     x5, =0x09000000
        1:      ldrb    w6, [x4], #1
                cbz     w6, 2f
                str     w6, [x5]
                b       1b
        2:      ldr     x0, =0x84000008         // PSCI SYSTEM_OFF
                hvc     #0
        pass:   .asciz  "PASS: timer irq\\n"
        fail:   .asciz  "FAIL: timer irq\\n"
                .balign 2048
        vectors:
                .space  0x280
                ldr     w20, [x3, #0xc]         // GICC_IAR (current EL, SP_ELx, IRQ: +0x280)
                cmp     w20, #27
                mov     x21, #100
                csel    x19, x21, x19, ne
                add     x19, x19, #1
                msr     cntv_ctl_el0, xzr       // the timer's output drops
                str     w20, [x3, #0x10]        // GICC_EOIR
                eret
        """

    @Test func aTimerInterruptWakesWFIAndReachesTheVector() throws {
        let snippet = try Fixtures.snippet("timerirq", Self.guest)
        let loaded = try Fixtures.load(snippet)
        let report = try Boot.run(BootOptions(imagePath: loaded.imageFile.path, budget: 10_000))
        #expect(report.outcome.status == .systemOff, "\(report.outcome.message)")
        #expect(report.console == "PASS: timer irq\n")
        #expect(report.outcome.test?.verdict == .pass)
        #expect(report.interruptsAcknowledged == ["27": 1])
        #expect(report.wfiSkips == 1)
    }
}

/// `--initrd`: where virt puts it (the devicetree's usual place, RAM + min(RAM / 2, 128 MiB)),
/// the devicetree 2 MiB-aligned above it, and `/chosen` naming it (chosen binding).
@Suite struct InitrdPlacementTests {
    @Test func initrdWhereVirtPutsItAndNamedInChosen() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-initrd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("image.bin"), initrd = directory.appendingPathComponent("initrd.cpio")
        try Data([0x02, 0x00, 0x00, 0xD4]).write(to: image)            // hvc #0
        try Data(repeating: 0xAB, count: 0x1234).write(to: initrd)
        let guest = try BoardGuest(BootOptions(imagePath: image.path, initrdPath: initrd.path))
        #expect(guest.board.initrd == AddressRange(base: 0x4400_0000, size: 0x1234))
        #expect(guest.deviceTreeAddress == 0x4420_0000)
        let blob = guest.board.deviceTreeBlob()
        let text = String(decoding: blob, as: UTF8.self)
        #expect(text.contains("linux,initrd-start") && text.contains("linux,initrd-end"))
        #expect(guest.pieces.contains { $0.address == 0x4400_0000 && $0.bytes.count == 0x1234 })
    }
}
