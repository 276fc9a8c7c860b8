import Foundation
import Harness
import Testing
@testable import MairlabCommands

enum UBootFile {
    static let path: String? = try? DebianFirmware.uBoot().get()
}

/// `mairlab boot` as the acceptance spells it, in-process.
@Suite struct BootCommandTests {
    @Test(.enabled(if: UBootFile.path != nil, "u-boot-qemu is not installed and `apt-get download u-boot-qemu` failed here"))
    func acceptance() throws {
        let text = InProcess.run(["boot", UBootFile.path!, "--flash", "--input", "\\rversion\\rreset\\r", "--policy", "rfc-2015"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("=> version\r\nU-Boot 2023.01"))
        #expect(text.stdout.contains("outcome: system-reset: PSCI SYSTEM_RESET through HVC"))
        #expect(text.stdout.contains("MAIR_EL1 0x000000ff440c0400 -> "))

        let json = InProcess.run(["boot", UBootFile.path!, "--flash", "--input", "\\rversion\\rreset\\r", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let report = try JSONDecoder().decode(BootReport.self, from: Data(json.stdout.utf8))
        #expect(report.console.contains("\r\n=> reset\r\n"))
        #expect(report.outcome.status == .systemReset)
        #expect(report.profile.mair.map(\.requested) == ["0x000000ff440c0400"])
        #expect(report.policy.name == "kvm-2015")
    }

    @Test func badImage() {
        let result = InProcess.run(["boot", "/nonexistent/image.bin"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot read /nonexistent/image.bin"))
        let memory = InProcess.run(["boot", "/nonexistent/image.bin", "--memory", "12X"])
        #expect(memory.status == 64)
        #expect(memory.stderr.contains("--memory '12X'"))
    }
}
