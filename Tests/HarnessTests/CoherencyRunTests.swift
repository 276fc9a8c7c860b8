import Foundation
import Hypervisor
import Testing
@testable import Harness

/// Coherency outcomes of the record's snippets. Each expected verdict and count is derived in
/// the comments from the scenario (decision points: before and after the host acts at each
/// sync point, and at the end; at each, every resident candidate line is evicted or kept).
@Suite struct CoherencyRunTests {
    /// kvm-2015: the VMM's read at sync 1 allocates line L (clean). Choices: after sync 1 (A),
    /// before sync 2 if kept (B), after sync 2 (C, the line is back after the read), at the end
    /// if kept (D). A = evict: 3 schedules (C evict; C keep x D), all coherent. A = keep, B =
    /// evict: 3 coherent. A = keep, B = keep: the sync-2 read hits frame 1, 3 stale. 9 in all.
    @Test func framebufferIsStaleSometimesUnderKVM2015() throws {
        let report = try Fixtures.run(shipped: "framebuffer-nc", .kvm2015)
        #expect(report.outcome.schedules.explored == 9)
        #expect(!report.outcome.schedules.cutShort)
        #expect(report.outcome.schedules.candidateLines == ["0x50000000"])
        #expect(report.outcome.failures.map(\.kind) == [.staleRead])
        let stale = try #require(report.outcome.failures.first)
        #expect(stale.observer == "vmm" && stale.address == "0x50000000" && stale.schedules == 3)
        #expect(stale.detail.contains("should have been 22 22"))
        #expect(report.outcome.conditions.allSatisfy { $0.holds })
        #expect(report.outcome.conditions.first?.observation == .sometimes)
    }

    /// After the rewrite (or with FWB) every access to the framebuffer is Write-Back: no line is
    /// touched both ways, so there is nothing to explore and nothing stale.
    @Test(arguments: [Policy.rfc2015, .fwbHost])
    func framebufferIsCoherentWithWriteBack(policy: Policy) throws {
        let report = try Fixtures.run(shipped: "framebuffer-nc", policy)
        #expect(report.outcome.schedules.explored == 1)
        #expect(report.outcome.failures.isEmpty)
        #expect(report.outcome.conditions.map(\.observation) == [.never, .never])
    }

    /// rfc-2015: the guest's (rewritten) WB writes leave line L dirty. Before the doorbell's
    /// read: evict (1 schedule, the device reads the data) or keep; kept, the device reads
    /// zeros, then after sync 1 evict (1) or keep and at the end evict or keep (2): 3 stale of 4.
    @Test func nonCoherentDMAIsStaleAfterTheRewrite() throws {
        let rfc = try Fixtures.run(shipped: "dma-noncoherent", .rfc2015)
        #expect(rfc.outcome.schedules.explored == 4)
        #expect(rfc.outcome.failures.map { [$0.kind.rawValue, $0.observer, $0.address] } == [["stale-read", "dev", "0x50000000"]])
        #expect(rfc.outcome.failures.first?.schedules == 3)
        // kvm-2015: S1 NC x S2 WB = NC, nothing cacheable touches the buffer: one schedule.
        let kvm = try Fixtures.run(shipped: "dma-noncoherent", .kvm2015)
        #expect(kvm.outcome.schedules.explored == 1)
        #expect(kvm.outcome.failures.isEmpty)
    }

    /// DC CVAC before the doorbell: the line is clean (its data at the PoC) in every schedule.
    @Test func cleaningBeforeTheDoorbellIsCoherent() throws {
        let report = try Fixtures.run(shipped: "dma-noncoherent-cvac", .rfc2015)
        #expect(report.outcome.failures.isEmpty)
        #expect(report.outcome.conditions.map(\.observation) == [.never])
    }

    /// The lost write: the VMM's reply at sync 2 dirties line 0x50000000, which still holds the
    /// guest's words 0 and 2 as it last read them; the guest's MMU-off (Device) write of word 2
    /// goes to memory, and a later write-back of the line overwrites it.
    @Test func aDirtyVMMLineLosesTheGuestsDeviceWrite() throws {
        let report = try Fixtures.run(shipped: "mmu-off-writes", .kvm2015)
        let lost = report.outcome.failures.filter { $0.kind == .lostWrite }
        let status = try #require(lost.first { $0.address == "0x50000010" })
        #expect(status.observer == "guest")
        #expect(status.detail.hasPrefix("8 byte(s) that guest at status wrote at 0x50000010 were overwritten when line 0x50000000 was written back"))
        #expect(status.schedules > 0 && status.schedules < report.outcome.schedules.explored)
        // FWB: every access Write-Back, one cache: nothing lost, nothing stale.
        #expect(try Fixtures.run(shipped: "mmu-off-writes", .fwbHost).outcome.failures.isEmpty)
    }

    @Test func aPassthroughRegisterStaysDevice() throws {
        for policy in [Policy.kvm2015, .rfc2015, .fwbHost] {
            let report = try Fixtures.run(shipped: "passthrough-register", policy)
            #expect(report.outcome.conditions.allSatisfy { $0.holds }, "\(policy.name)")
        }
    }

    /// Every snippet's stated conditions hold under every policy they name.
    @Test(arguments: try Snippet.all(in: Fixtures.guestImages).map(\.name))
    func everyStatedConditionHolds(snippet: String) throws {
        let loaded = try Fixtures.shipped(snippet)
        let policies = Set(loaded.manifest.expectations.flatMap(\.policies))
        for name in policies.sorted() {
            let policy = try #require(Policy.named(name), "\(snippet) names unknown policy \(name)")
            let report = try Runner.run(loaded, options: RunOptions(policy: policy))
            for verdict in report.outcome.conditions {
                #expect(verdict.holds, "\(snippet) under \(name): \(verdict.condition) was \(verdict.observation) \(verdict.positive) \(verdict.negative)")
            }
        }
    }

    @Test func theCapCutsExplorationShortAndSaysSo() throws {
        let text = try String(contentsOf: Fixtures.guestImages.appendingPathComponent("framebuffer-nc.toml"), encoding: .utf8)
        let source = try String(contentsOf: Fixtures.guestImages.appendingPathComponent("framebuffer-nc.S"), encoding: .utf8)
        let snippet = try Fixtures.snippet("capped", source, manifest: text.replacingOccurrences(
            of: "budget = 100_000", with: "budget = 100_000\nschedule_cap = 4"), rawSource: true)
        let report = try Fixtures.run(snippet, options: RunOptions(policy: .kvm2015))
        #expect(report.outcome.schedules.explored == 4)
        #expect(report.outcome.schedules.cutShort)
    }

    /// MAIR byte 0x01 is a FEAT_XS form: UNPREDICTABLE without FEAT_XS. The access is reported
    /// with its site, served past the cache, and the run goes on.
    @Test func anUnpredictableAttributeIsReportedNotFatal() throws {
        let snippet = try Fixtures.snippet("xs", """
                    boot_2015 0x50000000, 5
                    ldr     x9, =0x000001ff440c0400   // index 5 = 0x01
                    msr     mair_el1, x9
                    isb
                    ldr     x1, =0x50000000
            weird:  str     x1, [x1]
                    mairlab_end 0
            """, manifest: Fixtures.defaultManifest + """

            [[observed]]
            name = "odd"
            kind = "ram"
            base = 0x50000000
            size = 0x1000
            """)
        let report = try Fixtures.run(snippet, options: RunOptions(policy: .kvm2015))
        #expect(report.outcome.status == .completed)
        #expect(report.outcome.unpredictable == ["weird"])
    }

    @Test func observedRegionMistakesNameTheLine() throws {
        let bad = Fixtures.defaultManifest + """

            [[observed]]
            name = "fb"
            kind = "framebuffer"
            base = 0x50000000
            size = 0x1000
            """
        let snippet = try Fixtures.snippet("badkind", "mairlab_end 0", manifest: bad)
        #expect {
            try Fixtures.run(snippet)
        } throws: { error in
            (error as? HarnessError)?.description == "\(snippet.displayManifest):12: field 'observed[0].kind': 'framebuffer' is not one of ram, flash, device, pcie-bar, vga-bar, gicv, cacheable-device"
        }
        let unknownRegion = Fixtures.defaultManifest + """

            [[host]]
            at = 1
            observer = "vmm"
            action = "read"
            region = "nowhere"
            """
        let other = try Fixtures.snippet("badregion", "mairlab_end 0", manifest: unknownRegion)
        #expect {
            try Fixtures.run(other)
        } throws: { error in
            (error as? HarnessError)?.description == "\(other.displayManifest):14: field 'host[0].region': no [[observed]] region is named 'nowhere'"
        }
    }
}

@Suite struct ObservedAccessTests {
    /// Every access size the guest uses, pairs, and an unaligned access straddling two lines go
    /// through the model and read back what was written (the guest counts mismatches).
    @Test(arguments: ["MT_NORMAL", "MT_NORMAL_NC", "MT_DEVICE_nGnRE"])
    func accessSizesRoundTrip(attribute: String) throws {
        let snippet = try Fixtures.snippet("sizes", """
                    boot_2015 0x50000000, \(attribute)
                    ldr     x1, =0x50000000
                    mov     x10, #0
                    mov     w2, #0xab
                    strb    w2, [x1, #1]
                    ldrb    w3, [x1, #1]
                    cmp     w3, w2
                    cinc    x10, x10, ne
                    mov     w2, #0x1234
                    strh    w2, [x1, #2]
                    ldrh    w3, [x1, #2]
                    cmp     w3, w2
                    cinc    x10, x10, ne
                    ldr     x4, =0x1122334455667788
                    ldr     x5, =0x99aabbccddeeff00
                    stp     x4, x5, [x1, #0x10]
                    ldp     x6, x7, [x1, #0x10]
                    cmp     x6, x4
                    cinc    x10, x10, ne
                    cmp     x7, x5
                    cinc    x10, x10, ne
                    str     x4, [x1, #0x3c]            // bytes 0x3c-0x43: two lines
                    ldr     x6, [x1, #0x3c]
                    cmp     x6, x4
                    cinc    x10, x10, ne
                    ldr     w6, [x1, #0x40]            // the second line's half (little-endian)
                    ldr     w8, =0x11223344
                    cmp     w6, w8
                    cinc    x10, x10, ne
                    mairlab_end_reg x10
            """, manifest: Fixtures.defaultManifest + """

            [[observed]]
            name = "m"
            kind = "ram"
            base = 0x50000000
            size = 0x1000
            """)
        let report = try Fixtures.run(snippet, options: RunOptions(policy: .kvm2015))
        #expect(report.outcome.status == .completed)
        #expect(report.outcome.exitStatus == 0)
        #expect(report.outcome.failures.isEmpty)
    }
}

@Suite struct DeviceMemoryRunTests {
    /// Without FWB the 2025 policy refuses the cacheable mapping at the guest's first touch
    /// (the fault, not memslot creation): the run ends there, naming the site.
    @Test func cacheableDeviceIsRefusedWithoutFWB() throws {
        let loaded = try Fixtures.shipped("cacheable-device")
        let policy = Policy.cacheablePFNMAP2025.variant("fwb=off") { $0.fwb = false }
        let report = try Runner.run(loaded, options: RunOptions(policy: policy))
        #expect(report.outcome.status == .guestFault)
        let fault = try #require(report.outcome.fault)
        #expect(fault.kind == .stage2Refused)
        #expect(fault.site == "post+0xc")     // the first store of fill64 (ldr, ldr, mov, stp)
        #expect(fault.detail.hasPrefix("the policy refuses to map region 'window' at stage 2"))
        let fwb = try Runner.run(loaded, options: RunOptions(policy: .cacheablePFNMAP2025))
        #expect(fwb.outcome.status == .completed)
        #expect(fwb.outcome.failures.isEmpty)
    }
}

@Suite struct MigrationTests {
    /// Seed 001: a device mapped cacheable (2025, FWB) cannot move to a non-FWB host; the run
    /// ends at the sync point with the reason.
    @Test func aCacheableDeviceMappingCannotMoveToANonFWBHost() throws {
        let report = try Fixtures.run(shipped: "migrate-cacheable", .cacheablePFNMAP2025)
        #expect(report.outcome.status == .guestFault)
        #expect(report.outcome.fault?.kind == .migrationRefused)
        #expect(report.outcome.fault?.site == "use+0x4")   // the hvc #1 after the store
        #expect(report.outcome.fault?.detail.hasSuffix("a VM with a device mapped cacheable can only migrate between FWB-capable hosts") == true)
        #expect(report.outcome.migrations.isEmpty)
        #expect(report.meetsExpectations)                   // its manifest expects exactly this end
    }

    /// Device mappings move both ways: FWB -> non-FWB at sync 1, back at sync 2.
    @Test func deviceMappingsMoveBothWays() throws {
        let report = try Fixtures.run(shipped: "migrate-device", .fwbHost)
        #expect(report.outcome.status == .completed)
        #expect(report.outcome.migrations == ["at sync 1 to a non-FWB host", "at sync 2 to an FWB host"])
        let elsewhere = try Fixtures.run(shipped: "migrate-cacheable", .s2NormalNC2024)
        #expect(elsewhere.outcome.status == .completed)
        #expect(elsewhere.outcome.migrations == ["at sync 1 to a non-FWB host"])
    }
}
