import Testing
@testable import Hypervisor

@Suite struct CostModelTests {
    @Test func costsAddUpFromTheParameters() {
        let model = CostModel.defaults
        let counts = CostModel.Counts(guestInstructions: 1000, fastPathTraps: 3, fullExits: 2, stage2Flushes: 1,
                                      guestMemoryMiB: 4)
        let result = model.evaluate(counts)
        let p = model
        #expect(result.guestCycles == 1000 * p.cyclesPerInstruction.cycles)
        #expect(result.trapCycles == 3 * (p.trapRoundTrip.cycles + p.fastPathHandling.cycles)
                + 2 * p.worldSwitch.cycles + 4 * p.stage2FlushPerMiB.cycles)
        #expect(result.overheadPercent == 100 * result.trapCycles / result.guestCycles)
    }

    @Test func everyDefaultNamesItsSource() {
        let model = CostModel.defaults
        for parameter in [model.trapRoundTrip, model.fastPathHandling, model.worldSwitch,
                          model.stage2FlushPerMiB, model.cyclesPerInstruction] {
            #expect(!parameter.source.isEmpty)
            #expect(parameter.cycles > 0)
        }
    }
}
