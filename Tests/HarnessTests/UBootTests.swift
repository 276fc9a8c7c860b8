import AArch64
import Foundation
import Hypervisor
import Testing
@testable import Harness

/// Debian's U-Boot for qemu_arm64 on the board. Every expected value comes from the firmware's
/// own facts (notes/real-guests.md: the values read with gdb under QEMU, the set/way walk from
/// CLIDR/CCSIDR, the PSCI sequence of `reset`), never from this harness's output.
enum UBootImage {
    static let path: String? = try? DebianFirmware.uBoot().get()
}

@Suite(.enabled(if: UBootImage.path != nil, "u-boot-qemu is not installed and `apt-get download u-boot-qemu` failed here"))
struct UBootTests {
    static let ramTop: UInt64 = 0x4000_0000 + (128 << 20)

    static func boot(_ input: String, policy: Policy) throws -> BootReport {
        try Boot.run(BootOptions(imagePath: UBootImage.path!, flash: true, input: input, policy: policy))
    }

    @Test func versionThenResetUnderBothPolicies() throws {
        var instructions: [UInt64] = []
        for policy in [Policy.kvm2015, .rfc2015] {
            let report = try Self.boot("\\rversion\\rreset\\r", policy: policy)
            #expect(report.outcome.status == .systemReset, "\(report.outcome.message)")
            #expect(report.console.contains("Hit any key to stop autoboot:  2 \u{8}\u{8}\u{8} 0\r\n=> version\r\nU-Boot 2023.01"))
            #expect(report.console.contains("\r\n=> reset\r\nresetting ...\r\n"))
            // relocaddr = ram_top - 0x109000 = reloc_off (TEXT_BASE 0); `reset` calls
            // PSCI_VERSION, PSCI_FEATURES(SYSTEM_RESET2) and SYSTEM_RESET from relocaddr + 0x1a4.
            #expect(report.relocation?.offset == hex(Self.ramTop - 0x10_9000))
            #expect(report.profile.psci.map(\.function) == ["PSCI_VERSION", "PSCI_FEATURES", "SYSTEM_RESET"])
            #expect(Set(report.profile.psci.map(\.site)) == ["image+0x1a4 (relocated)"])
            // Version 1.0; SYSTEM_RESET2 belongs to PSCI 1.1, so not supported.
            #expect(report.profile.psci.map(\.result) == ["returned 0x10000", "returned NOT_SUPPORTED", "system reset"])
            try checkProfile(report.profile, policy: policy)
            instructions.append(report.guestInstructions)
        }
        // Traps are invisible to the guest: it runs the same instructions under either policy.
        #expect(instructions[0] == instructions[1])
    }

    /// SCTLR_EL1 0xc51838 -> 0xc51839 (M) -> 0xc5183d (C), TCR_EL1, TTBR0_EL1 = ram_top - 0x10000,
    /// MAIR_EL1 0xff440c0400, and 2 x 256 + 16 x 2048 = 33,280 DC ISW from relocaddr + 0x19a8.
    func checkProfile(_ profile: BootProfile, policy: Policy) throws {
        let writes = profile.trapped.filter { $0.direction == .write }.map { "\($0.target) \($0.value ?? "")" }
        #expect(writes == ["SCTLR_EL1 0x0000000000c51838", "TTBR0_EL1 \(hex64(Self.ramTop - 0x1_0000))",
                           "TCR_EL1 0x0000000280803518", "MAIR_EL1 0x000000ff440c0400",
                           "SCTLR_EL1 0x0000000000c51839", "SCTLR_EL1 0x0000000000c5183d"])
        let setWay = profile.trapped.filter { $0.target == "DC ISW" }
        #expect(setWay.map(\.count) == [33_280])
        #expect(setWay.first?.firstSite == "image+0x19a8 (relocated)")
        #expect(profile.trapsTotal == 33_280 + 6)
        #expect(profile.maintenance.first { $0.operation == "DC ISW" }?.issued == 33_280)
        let mair: UInt64 = 0xFF_440C_0400
        let loaded = MAIRRewrite.loaded(policy.rewrite, scope: policy.rewriteScope, to: mair)
        #expect(profile.mair.map(\.requested) == [hex64(mair)])
        #expect(profile.mair.map(\.loaded) == [hex64(loaded)])
        #expect(profile.mair.first?.indices.count == (policy.rewrite == .none ? 5 : 8))
    }

    /// The package's `uboot.elf` (ET_DYN, stripped, linked at 0) boots the same way from flash.
    @Test func elfImage() throws {
        let elf = URL(fileURLWithPath: UBootImage.path!).deletingLastPathComponent().appendingPathComponent("uboot.elf").path
        let report = try Boot.run(BootOptions(imagePath: elf, flash: true, input: "\\rreset\\r"))
        #expect(report.image.format == "elf")
        #expect(report.outcome.status == .systemReset)
        #expect(report.relocation?.offset == hex(Self.ramTop - 0x10_9000))
    }

    /// With only Enter queued, U-Boot stops autoboot and waits at its prompt: detected from the
    /// empty polls, not spun to the budget.
    @Test func waitsForInputAtThePrompt() throws {
        let report = try Self.boot("\\r", policy: .kvm2015)
        #expect(report.outcome.status == .waitingForInput)
        #expect(report.console.hasSuffix("\r\n=> "))
        #expect(report.outcome.consoleTail.hasSuffix("=> "))
    }
}
