import AArch64
import Testing
@testable import Hypervisor

/// The regimes as KVM implemented them (kvm_toggle_cache, kvm_set_way_flush, access_vm_reg)
/// and as the RFC changed them (TVM kept set; patch 1's fast path).
@Suite struct TrapControllerTests {
    static let reset: UInt64 = 0x00C5_0838       // SCTLR_EL1 with M = C = 0
    static let cachesOn: UInt64 = reset | 0x1005 // M, C, I

    @Test func untilCachesOnStopsTrappingOnceMAndCAreSet() throws {
        var controller = TrapController(policy: .kvm2015, resetSCTLR: Self.reset)
        #expect(controller.tvm)
        let mairDecision = controller.write(.mairEL1, value: 0x44)
        let mair = try #require(mairDecision)
        #expect(mair.loaded == 0x44 && mair.path == .fullExit && !mair.stage2Flush)
        let sctlrDecision = controller.write(.sctlrEL1, value: Self.cachesOn)
        let sctlr = try #require(sctlrDecision)
        #expect(sctlr.stage2Flush)            // caches toggled on: stage2_flush_vm
        #expect(sctlr.path == .fullExit)
        #expect(!controller.tvm)
        let decision1 = controller.write(.ttbr0EL1, value: 0x1000)
        #expect(decision1 == nil)
        let decision2 = controller.write(.contextidrEL1, value: 1)
        #expect(decision2 == nil)
        #expect(controller.stage2Flushes == 1)
    }

    @Test func onlyMAndCTogetherCountAsCachesOn() throws {
        var controller = TrapController(policy: .kvm2015, resetSCTLR: Self.reset)
        _ = controller.write(.sctlrEL1, value: Self.reset | 1)      // M only
        #expect(controller.tvm)
        _ = controller.write(.sctlrEL1, value: Self.reset | 4)      // C only
        #expect(controller.tvm)
        #expect(controller.stage2Flushes == 0)
    }

    @Test func aSetWayOperationSetsTVMAgainAfterTheFirstFlush() throws {
        var controller = TrapController(policy: .kvm2015, resetSCTLR: Self.cachesOn)
        _ = controller.write(.sctlrEL1, value: Self.cachesOn)   // already on: TVM cleared, no toggle
        #expect(!controller.tvm)
        let firstDecision = controller.setWay()
        let first = try #require(firstDecision)
        #expect(first.stage2Flush && first.path == .fullExit)
        #expect(controller.tvm)
        let secondDecision = controller.setWay()
        let second = try #require(secondDecision)
        #expect(!second.stage2Flush)         // TVM is set: wait for the caches to go off
        let offDecision = controller.write(.sctlrEL1, value: Self.reset)
        let off = try #require(offDecision)
        #expect(off.stage2Flush)             // turning caches off cleans again
        #expect(controller.stage2Flushes == 2)
    }

    @Test func alwaysKeepsTrappingAndTheFastPathTakesTrivialWrites() throws {
        var controller = TrapController(policy: .rfc2015, resetSCTLR: Self.reset)
        let sctlrDecision = controller.write(.sctlrEL1, value: Self.cachesOn)
        let sctlr = try #require(sctlrDecision)
        #expect(sctlr.path == .fullExit && sctlr.stage2Flush)   // needs the host's flush
        #expect(controller.tvm)
        let ttbrDecision = controller.write(.ttbr0EL1, value: 0x4000_1000)
        let ttbr = try #require(ttbrDecision)
        #expect(ttbr.path == .fastPath && ttbr.loaded == 0x4000_1000)
        let againDecision = controller.write(.sctlrEL1, value: Self.cachesOn | (1 << 19))
        let again = try #require(againDecision)
        #expect(again.path == .fastPath && !again.stage2Flush)  // no toggle: trivial
        let mairDecision = controller.write(.mairEL1, value: 0x0000_00FF_440C_0400)
        let mair = try #require(mairDecision)
        #expect(mair.path == .fastPath && mair.loaded == 0xFFFF_FFFF_FFFF_FFFF)
    }

    @Test func withoutTheFastPathEveryTrapIsAFullExit() throws {
        var controller = TrapController(policy: .rfc2015NoFastPath, resetSCTLR: Self.cachesOn)
        let decision3 = controller.write(.ttbr0EL1, value: 1)
        #expect(decision3?.path == .fullExit)
        let decision4 = controller.write(.contextidrEL1, value: 1)
        #expect(decision4?.path == .fullExit)
    }

    @Test func fwbHostsNeverTrapVMRegisters() {
        var controller = TrapController(policy: .fwbHost, resetSCTLR: Self.reset)
        #expect(!controller.tvm)
        for register in SystemRegister.virtualMemoryControlRegisters {
            let decision5 = controller.write(register, value: 0)
            #expect(decision5 == nil)
        }
    }

    @Test func trvmAnswersWithTheGuestsOwnValue() throws {
        var controller = TrapController(policy: .rfc2015.variant("trvm=on") { $0.trvm = true }, resetSCTLR: Self.reset)
        _ = controller.write(.mairEL1, value: 0x0000_00FF_440C_0400)
        let readDecision = controller.read(.mairEL1, hardware: 0x0000_00FF_FFFF_FFFF)
        let read = try #require(readDecision)
        #expect(read.value == 0x0000_00FF_440C_0400)
        #expect(read.path == .fastPath)
        let tcrDecision = controller.read(.tcrEL1, hardware: 0x19)
        let tcr = try #require(tcrDecision)
        #expect(tcr.value == 0x19)                  // never written: the hardware value
        var plain = TrapController(policy: .rfc2015, resetSCTLR: Self.reset)
        let decision6 = plain.read(.mairEL1, hardware: 0)
        #expect(decision6 == nil)
    }

    @Test func nonVMRegistersNeverTrap() {
        var controller = TrapController(policy: .rfc2015, resetSCTLR: Self.reset)
        let decision7 = controller.write(.vbarEL1, value: 0)
        #expect(decision7 == nil)
        let decision8 = controller.write(.cntfrqEL0, value: 0)
        #expect(decision8 == nil)
    }
}
