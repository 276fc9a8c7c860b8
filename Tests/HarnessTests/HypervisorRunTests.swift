import Foundation
import Formats
import Hypervisor
import Testing
@testable import Harness

/// The hypervisor's regimes on real guest code. Expected counts come from the snippets'
/// construction (read from their sources and symbols), never from a previous run.
@Suite struct HypervisorRunTests {
    static func run(_ loaded: LoadedSnippet, _ policy: Policy) throws -> RunReport {
        let execution = try GuestExecution(loaded, options: RunOptions(policy: policy))
        try execution.run()
        return try execution.report()
    }

    /// `switch_mm` runs SWITCHES times (once before the MMU is on); each call writes TTBR0_EL1
    /// and CONTEXTIDR_EL1. The boot writes MAIR_EL1, TCR_EL1 and SCTLR_EL1 once each.
    @Test func stormUnderAlwaysTrapsEverySwitch() throws {
        let storm = try Fixtures.shipped("context-switch-storm")
        let switches = Int(try #require(storm.image.symbol(named: "SWITCHES")).value)
        let report = try Self.run(storm, .rfc2015)
        #expect(report.outcome.exitStatus == 0)
        #expect(report.traps.byRegister == ["TTBR0_EL1": switches, "CONTEXTIDR_EL1": switches,
                                            "MAIR_EL1": 1, "TCR_EL1": 1, "SCTLR_EL1": 1])
        #expect(report.traps.total == 2 * switches + 3)
        let switchSites = (report.traps.events ?? []).filter { ["TTBR0_EL1", "CONTEXTIDR_EL1"].contains($0.register) }.map(\.site)
        #expect(Set(switchSites) == ["switch_mm+0x4", "switch_mm+0xc"])
        // Only the SCTLR_EL1 write that turns the caches on needs the host (a stage-2 flush).
        #expect(report.traps.byPath == ["fast-path": 2 * switches + 2, "full-exit": 1])
        #expect(report.traps.stage2Flushes == 1)
    }

    @Test func stormUnderUntilCachesOnTrapsNothingAfterTheCachesAreOn() throws {
        let storm = try Fixtures.shipped("context-switch-storm")
        let report = try Self.run(storm, .kvm2015)
        #expect(report.outcome.exitStatus == 0)
        // Only the first switch_mm (before the MMU) and the boot's writes trap.
        #expect(report.traps.byRegister == ["TTBR0_EL1": 1, "CONTEXTIDR_EL1": 1, "MAIR_EL1": 1,
                                            "TCR_EL1": 1, "SCTLR_EL1": 1])
        let last = try #require((report.traps.events ?? []).last)
        #expect(last.register == "SCTLR_EL1" && last.stage2Flush)   // the write that turned them on
        #expect(report.traps.exits == 5)
    }

    /// The fast path's saving is what the cost model implies: with it, 2N+2 trivial traps cost
    /// trap_round_trip + fast_path_handling each; without, every trap is a world switch. Guest
    /// cycles are the same, so the overhead ratio is the ratio of trap cycles.
    @Test func fastPathOverheadRatioFollowsTheParameters() throws {
        let storm = try Fixtures.shipped("context-switch-storm")
        let n = Double(try #require(storm.image.symbol(named: "SWITCHES")).value)
        let with = try Self.run(storm, .rfc2015)
        let without = try Self.run(storm, .rfc2015NoFastPath)
        #expect(with.guestInstructions == without.guestInstructions)
        let p = CostModel.defaults
        let flush = 4 * p.stage2FlushPerMiB.cycles          // one flush of the manifest's 4 MiB
        let fastCycles = (2 * n + 2) * (p.trapRoundTrip.cycles + p.fastPathHandling.cycles) + p.worldSwitch.cycles + flush
        let slowCycles = (2 * n + 3) * p.worldSwitch.cycles + flush
        #expect(with.cost.trapCycles == fastCycles)
        #expect(without.cost.trapCycles == slowCycles)
        let ratio = with.cost.modeledOverheadPct / without.cost.modeledOverheadPct
        #expect(abs(ratio - fastCycles / slowCycles) < 1e-12)
        #expect(with.cost.modeledOverheadPct < without.cost.modeledOverheadPct)
    }

    @Test func rfc2015RewritesTheBootMAIR() throws {
        let report = try Self.run(try Fixtures.shipped("linux-2015-mmu-on"), .rfc2015)
        #expect(report.rewrites.count == 1)
        let rewrite = try #require(report.rewrites.first)
        #expect(rewrite.requested == "0x000000ff440c0400")
        // Every index: the zero tail is Device-nGnRnE by encoding, rewritten like indices 0-2.
        #expect(rewrite.loaded == "0xffffffffffffffff")
        #expect(rewrite.site == "__cpu_setup+0xc")
        let device = ["device-ordering-weakened", "gathering-or-speculation-allowed", "cacheability-raised"]
        #expect(rewrite.indices.map(\.effects) == [device, device, device, ["write-combining-lost", "cacheability-raised"],
                                                   [], device, device, device])
        #expect(report.finalRegisters["MAIR_EL1"] == "0xffffffffffffffff")   // what the hardware holds
        #expect(report.outcome.exitStatus == 0)
    }

    /// Without TRVM the guest reads the rewritten MAIR_EL1 (the snippet exits 1); with TRVM the
    /// hypervisor answers with the guest's own value (exits 0).
    @Test func readbackDependsOnTRVM() throws {
        let readback = try Fixtures.shipped("mair-readback")
        let plain = try Self.run(readback, .rfc2015)
        #expect(plain.outcome.exitStatus == 1)
        #expect(plain.traps.byRegister == ["MAIR_EL1": 1])
        let shadowed = try Self.run(readback, .rfc2015.variant("trvm=on") { $0.trvm = true })
        #expect(shadowed.outcome.exitStatus == 0)
        #expect((shadowed.traps.events ?? []).map(\.direction) == [.write, .read])
        #expect((shadowed.traps.events ?? [])[1].value == "0x000000ff440c0400")
        #expect((shadowed.traps.events ?? [])[1].loaded == "0xffffffffffffffff")
        let untouched = try Self.run(readback, .kvm2015)
        #expect(untouched.outcome.exitStatus == 0)
    }

    /// After the caches are on (TVM clear), a set/way operation makes KVM flush and set TVM
    /// again (kvm_set_way_flush), so the next TTBR0_EL1 write traps once more.
    @Test func setWayReArmsTVMUnderUntilCachesOn() throws {
        let snippet = try Fixtures.snippet("setway", """
                    enable_mmu 0xff, (25 | (1 << 23)), tables, (SCTLR_M | SCTLR_C)
                    msr     ttbr0_el1, x9          // not trapped: caches are on
            sw:     dc      cisw, xzr
                    ldr     x9, =tables
            after:  msr     ttbr0_el1, x9          // trapped again
                    mairlab_end 0
                    .ltorg
                    .data
                    .balign 4096
            tables: .quad 0x40000000 + 0x401     // L1[0] and L1[1]: 1 GB blocks of RAM, AF, AttrIndx 0
                    .quad 0x40000000 + 0x401
                    .space 4096 - 16
            """)
        let report = try Fixtures.run(snippet, options: RunOptions(policy: .kvm2015))
        #expect(report.outcome.exitStatus == 0)
        #expect((report.traps.events ?? []).map(\.register) == ["MAIR_EL1", "TCR_EL1", "TTBR0_EL1", "SCTLR_EL1", "DC CISW", "TTBR0_EL1"])
        #expect((report.traps.events ?? []).map(\.site).suffix(2) == ["sw", "after"])
        #expect(report.traps.stage2Flushes == 2)   // caches on, then the first set/way
    }

    @Test func costFileOverridesParametersAndNamesItsLines() throws {
        let model = try CostModel.parse("""
            [cost]
            world_switch = 3000
            trap_round_trip = 40.5
            """, file: "my.toml")
        #expect(model.worldSwitch == CostModel.Parameter(3000, source: "my.toml:2"))
        #expect(model.trapRoundTrip.cycles == 40.5)
        #expect(model.fastPathHandling == CostModel.defaults.fastPathHandling)
        #expect(throws: FormatError(file: "my.toml", line: 2, field: "cost.world_switch",
                                        message: "field 'cost.world_switch': expected a number of cycles")) {
            try CostModel.parse("[cost]\nworld_switch = \"fast\"", file: "my.toml")
        }
    }
}

/// Trap records stay small however many traps a guest makes, and reports aggregate them.
@Suite struct TrapRecordTests {
    /// Four 8-byte words: no string, no array (10 M different traps in 400 MB as runs of one,
    /// with the run's count).
    @Test func aTrappedAccessIsAFixedSizeRecord() {
        #expect(MemoryLayout<TrappedAccess>.stride == 32)
    }

    /// A storm of identical rewritten writes from one site is one rewrite line with its count;
    /// a different value from the same site is another.
    @Test func rewritesAreListedOncePerSiteAndValue() {
        var log = TrapLog()
        let linux: UInt64 = 0x0000_00FF_440C_0400
        let loaded = MAIRRewrite.loaded(.uncached, to: linux)
        for _ in 0..<1000 {
            log.record(TrappedAccess(.register(.mairEL1), direction: .write, value: linux, loaded: loaded, path: .fastPath,
                                     rewritten: true, pc: 0x4008_0010))
        }
        log.record(TrappedAccess(.register(.mairEL1), direction: .write, value: 0x44, loaded: 0xFF, path: .fastPath,
                                 rewritten: true, pc: 0x4008_0010))
        log.record(TrappedAccess(.register(.tcrEL1), direction: .write, value: 1, loaded: 1, path: .fastPath, pc: 0x4008_0014))
        let rewrites = MAIRRewriteReport.rewrites(in: log) { "site\(String($0, radix: 16))" }
        #expect(rewrites.map(\.count) == [1000, 1])
        #expect(rewrites.map(\.requested) == ["0x000000ff440c0400", "0x0000000000000044"])
        // Index 3 of Linux's MAIR is Normal-NC (0x44): the uncached rule makes it Write-Back.
        #expect(rewrites[0].indices[3].effects == ["write-combining-lost", "cacheability-raised"])
        #expect(log.byRegister == ["MAIR_EL1": 1001, "TCR_EL1": 1])
        #expect(log.fastPath == 1002 && log.fullExits == 0)
        #expect(log.runs.map(\.count) == [1000, 1, 1])   // equal accesses in a row are one record
    }

    /// A log longer than its 64 Ki chunks keeps every run in order across the chunk boundaries,
    /// and an access equal to the last one joins its run there too.
    @Test func runsKeepTheirOrderAcrossChunks() {
        var log = TrapLog()
        let writes = 70_000   // past one 64 Ki chunk
        func access(_ value: Int) -> TrappedAccess {
            TrappedAccess(.register(.tcrEL1), direction: .write, value: UInt64(value), loaded: UInt64(value), path: .fastPath, pc: 0x40)
        }
        for value in 0..<writes { log.record(access(value)) }
        log.record(access(writes - 1), count: 5)
        #expect(log.total == writes + 5 && log.fastPath == writes + 5)
        let runs = Array(log.runs)
        #expect(runs.count == writes)
        #expect(runs.map(\.access.value) == (0..<writes).map(UInt64.init))
        #expect(runs.last?.count == 6 && runs.dropLast().allSatisfy { $0.count == 1 })
        #expect(Array(log.accesses).count == writes + 5)
    }

    /// Without `eventLimit` every event is listed; with 0 the key is absent, the counts stay.
    @Test func eventsAreListedOnlyWhenAsked() throws {
        var log = TrapLog()
        for pc in [UInt64(0x10), 0x14, 0x10] {
            log.record(TrappedAccess(.register(.sctlrEL1), direction: .write, value: 0, loaded: 0, path: .fullExit, pc: pc))
        }
        let site: (UInt64) -> String = { "s\($0)" }
        #expect(TrapSummary(log, site: site).events?.count == 3)
        #expect(TrapSummary(log, site: site, events: 2).events?.map(\.site) == ["s16", "s20"])
        let none = TrapSummary(log, site: site, events: 0)
        #expect(none.events == nil)
        #expect(none.bySite == ["s16": 2, "s20": 1])
        let json = String(decoding: try JSONEncoder().encode(none), as: UTF8.self)
        #expect(!json.contains("events"))
    }
}
