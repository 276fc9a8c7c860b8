import Foundation
import Hypervisor
import Testing
@testable import Harness

/// Debian's arm64 kernel on the board, fetched as a user would (DebianKernel).
enum LinuxImage {
    static let path: Result<String, DebianFirmwareUnavailable> = DebianKernel.image()
}

@Suite(.enabled(if: (try? LinuxImage.path.get()) != nil,
                "Debian's arm64 kernel cannot be had here (`dpkg --add-architecture arm64 && apt-get update`, then the test fetches linux-image-*-arm64)"))
struct LinuxBootTests {
    /// Without an initramfs or a root device Linux's mount_root fails and panics
    /// (init/do_mounts.c: "VFS: Unable to mount root fs on unknown-block(0,0)"); `panic=-1`
    /// reboots at once, through PSCI SYSTEM_RESET.
    @Test func withoutAnInitramfsTheKernelReachesItsRootMountFailure() throws {
        let report = try Boot.run(BootOptions(imagePath: LinuxImage.path.get(), memory: 512 << 20,
                                              bootargs: "console=ttyAMA0 panic=-1 quiet", budget: 3_000_000_000))
        #expect(report.outcome.status == .systemReset, "\(report.outcome.message)")
        #expect(report.outcome.message.hasSuffix("; the kernel panicked: VFS: Unable to mount root fs on unknown-block(0,0)"))
        // The layout of Linux's MAIR_EL1 (arch/arm64/include/asm/memory.h, MAIR_EL1_SET):
        // Attr0 Normal (0xff), Attr1 Normal-Tagged (0xff without MTE, set at __cpu_setup), Attr2
        // Normal-NC (0x44), Attr3 Device-nGnRnE (0x00), Attr4 Device-nGnRE (0x04).
        #expect(report.profile.mair.first?.requested == "0x000000040044ffff")
    }
}
