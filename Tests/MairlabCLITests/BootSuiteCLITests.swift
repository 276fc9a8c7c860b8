import Foundation
import Testing

/// `mairlab boot --suite` from the binary: each run is a child `mairlab boot --json`, given the
/// test's bootargs, the policy's name and its knobs.
@Suite struct BootSuiteCLITests {
    @Test func eachRunInAChildProcess() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-cli-suite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // msr mair_el1, x2 (trapped while the caches are off); movz x0, #0x8400, lsl #16; movk x0, #8; hvc #0
        let words: [UInt32] = [0xD518_A202, 0xD2B0_8000, 0xF280_0100, 0xD400_0002]
        try Data(words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } })
            .write(to: folder.appendingPathComponent("off.flat"))
        try Data().write(to: folder.appendingPathComponent("empty.flat"))
        try """
            [off]
            file = off.flat
            test_args = '-dash first'

            [empty]
            file = empty.flat
            """.write(to: folder.appendingPathComponent("unittests.cfg"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["boot", "--suite", folder.appendingPathComponent("unittests.cfg").path,
                                  "--policy", "kvm-2015,fwb", "--trap", "always", "--jobs", "1"])
        #expect(result.stdout == """
              test   kvm-2015[trap=always]  fwb[trap=always]
              off    system-off 1           system-off 1      PSCI SYSTEM_OFF through HVC at image+0xc
              empty  error                  error             \(folder.path)/empty.flat: the image is empty

            each cell: the verdict (or how the run ended) and the accesses trapped under that policy
            4 runs: 2 error, 2 system-off

            """)
        #expect(result.status == 2)
        let json = try CLI.run(["boot", "--suite", folder.appendingPathComponent("unittests.cfg").path, "--policy", "kvm-2015", "--json"])
        #expect(json.stdout.contains(#""board":{"bootargs":"-dash first","#))
        #expect(result.stderr.hasSuffix("mairlab: empty under fwb[trap=always]: \(folder.path)/empty.flat: the image is empty\n"))
    }
}
