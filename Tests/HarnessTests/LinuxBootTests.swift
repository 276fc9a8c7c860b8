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

extension LinuxBootTests {
    /// Our init (guest-images/linux-init) as PID 1: its counts follow from its code (the header
    /// comment of init.S), and it powers off through reboot(2), which Linux turns into PSCI
    /// SYSTEM_OFF. Under rfc-2015 every context switch's CONTEXTIDR_EL1 write
    /// (contextidr_thread_switch, CONFIG_PID_IN_CONTEXTIDR) traps for the whole run; kvm-2015
    /// stops trapping once the kernel turns its caches on.
    @Test func ourInitRunsAndPowersOff() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-linux-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cpio = directory.appendingPathComponent("init.cpio")
        let source = Fixtures.repository.appendingPathComponent("guest-images/linux-init/init.S")
        try Data(LinuxInit.initramfs(executable: LinuxInit.executable(source: source, toolchain: Toolchain.find()))).write(to: cpio)
        var writes: [String: [String: Int]] = [:]
        for policy in [Policy.kvm2015, .rfc2015] {
            let report = try Boot.run(BootOptions(imagePath: LinuxImage.path.get(), memory: 512 << 20, bootargs: "console=ttyAMA0 panic=-1 quiet",
                                                  initrdPath: cpio.path, budget: 3_000_000_000, policy: policy))
            #expect(report.outcome.status == .systemOff, "\(report.outcome.message)")
            #expect(report.console.contains("mairlab-init: rounds=100 yields=50 children=2 syscalls=259"))
            for row in report.profile.trapped where row.direction == .write { writes[policy.name, default: [:]][row.target, default: 0] += row.count }
        }
        #expect(writes["kvm-2015"]?["CONTEXTIDR_EL1"] == nil)
        #expect((writes["rfc-2015"]?["CONTEXTIDR_EL1"] ?? 0) > 2 * 100)   // at least the ping-pong's switches
    }
}
