import AArch64
import Foundation
import Testing
import Unicorn
@testable import Harness

/// The harness's stage-1 walk against the emulator's: `walk-differential` builds its own tables
/// and loads through six VAs; each target page holds its own PA as a marker, so the value each
/// load returned (kept in `results`) is the PA Unicorn translated to. Our walk of the same VA,
/// over the same memory and registers, must reach a PA holding that same value.
@Suite struct WalkDifferentialTests {
    /// The VAs of the snippet's `.equ VA_*` (in its order), with the AttrIndx each descriptor got.
    static let probes: [(va: UInt64, attrIndx: Int)] = [
        (0x4020_0010, 0), (0x4020_1010, 1), (0x4020_5010, 2), (0x4080_1010, 0), (0x80c0_0010, 0),
        (0xffff_ffc0_00d0_0010, 0),
    ]

    @Test func everyLoadReachesThePAOurWalkComputes() throws {
        let snippet = try Snippet(path: Fixtures.guestImages.appendingPathComponent("walk-differential").path)
        let loaded = try Fixtures.load(snippet)
        let run = try GuestExecution(loaded, options: RunOptions())
        try run.run()
        let report = try run.report()
        #expect(report.outcome.status == .completed)
        #expect(report.outcome.exitStatus == 0)

        func register(_ name: String) throws -> UInt64 {
            let text = try #require(report.finalRegisters[name])
            return try #require(UInt64(text.dropFirst(2), radix: 16))
        }
        let walker = Stage1Walker(tcrEL1: try register("TCR_EL1"), ttbr0EL1: try register("TTBR0_EL1"),
                                  ttbr1EL1: try register("TTBR1_EL1"), sctlrEL1: try register("SCTLR_EL1"),
                                  mairEL1: try register("MAIR_EL1"))
        let results = try #require(loaded.image.symbol(named: "results")).value
        let memory = PhysicalMemory(machine: run.machine)
        for (index, probe) in Self.probes.enumerated() {
            let emulatorSaw = try run.machine.read64(at: results + UInt64(8 * index))
            let translation = try walker.translate(probe.va, reader: memory)
            #expect(try run.machine.read64(at: translation.outputAddress) == emulatorSaw,
                    "VA \(hex(probe.va)): our walk reached \(hex(translation.outputAddress))")
            #expect(translation.walk?.attrIndx == probe.attrIndx, "VA \(hex(probe.va))")
        }
    }
}
