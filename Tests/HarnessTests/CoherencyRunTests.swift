import Coherency
import Foundation
import Hypervisor
import Testing
@testable import Harness

/// The coherency model on real guest code: the record's scenarios and one snippet per rule the
/// model must follow (sound verdicts: every execution the architecture allows is explored).
/// Expected verdicts come from the rule each manifest cites, never from a previous run.
@Suite struct CoherencyRunTests {
    /// Seed 004's framebuffer under KVM's 2015 default: the VMM may read stale data (its line
    /// may be in the cache before the guest's Non-cacheable writes), or not.
    @Test func theFramebufferIsStaleSometimesAndTheWitnessReplaysIt() throws {
        let loaded = try Fixtures.shipped("framebuffer-nc")
        let report = try Runner.run(loaded, options: RunOptions(policy: .kvm2015))
        let stale = try #require(report.outcome.failures.first { $0.kind == .staleRead })
        #expect(stale.observer == "vmm" && stale.region == "fb")
        #expect(report.outcome.conditions.map(\.observation) == [.sometimes, .never])
        #expect(report.outcome.conditions.allSatisfy { $0.holds == true })
        // The failure's schedule, replayed, shows it in one concrete execution.
        let (_, trace) = try Runner.replay(loaded, options: RunOptions(policy: .kvm2015),
                                           schedule: try ScheduleID(parsing: stale.schedule))
        #expect(trace.last?.failures == ["stale-read(vmm)"])
        #expect(trace.contains { $0.what.hasPrefix("vmm at sync 1 read 64 byte(s)") })
    }

    /// After the rewrite (or with FWB) every access to the framebuffer is Write-Back: coherent.
    @Test(arguments: [Policy.rfc2015, .fwbHost])
    func theFramebufferIsCoherentWithWriteBack(policy: Policy) throws {
        let report = try Fixtures.run(shipped: "framebuffer-nc", policy)
        #expect(report.outcome.failures.isEmpty)
        #expect(report.outcome.conditions.map(\.observation) == [.never, .never])
    }

    /// The lost write of the MMU-off mailbox: the VMM's dirty reply is written back over the
    /// guest's newer Device write.
    @Test func aDirtyVMMLineLosesTheGuestsDeviceWrite() throws {
        let report = try Fixtures.run(shipped: "mmu-off-writes", .kvm2015)
        let lost = try #require(report.outcome.failures.first { $0.kind == .lostWrite })
        #expect(lost.observer == "guest")
        #expect(lost.detail.contains("were overwritten when line 0x50000000 was written back (dirty data from vmm)"))
        #expect(try Fixtures.run(shipped: "mmu-off-writes", .fwbHost).outcome.failures.isEmpty)
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
                #expect(verdict.holds == true, "\(snippet) under \(name): \(verdict.condition) was \(verdict.observation) \(verdict.positive) \(verdict.negative)")
            }
        }
    }

    /// KVM's set/way rules (kvm_set_way_flush, kvm_toggle_cache, FWB's no-op flush), counted
    /// from the snippet: DC CISW before the MMU is on, the boot's MAIR, TCR, TTBR0 and SCTLR
    /// writes, DC CISW with the caches on, then one TTBR0 write.
    @Test func setWayOperationsFollowKVMUnderEveryPolicy() throws {
        let loaded = try Fixtures.shipped("set-way-and-ivac")
        let expected: [(Policy, flushes: Int, exits: Int)] = [
            // TVM set from reset: the early CISW flushes nothing; SCTLR turns the caches on
            // (a flush, TVM cleared); the late CISW finds TVM clear (a flush, TVM set); the
            // TTBR0 write traps and, caches on, clears TVM again.
            (.kvm2015, 2, 7),
            // TVM for life: only the caches' toggle flushes; the RFC's fast path takes the
            // MAIR, TCR and both TTBR0 writes.
            (.rfc2015, 1, 3),
            // No TVM at reset, but a trapped set/way sets it whatever the policy; with FWB the
            // flush does nothing, so none is counted.
            (.fwbHost, 0, 7),
        ]
        for (policy, flushes, exits) in expected {
            let report = try Runner.run(loaded, options: RunOptions(policy: policy))
            #expect(report.traps.byRegister == ["DC CISW": 2, "MAIR_EL1": 1, "TCR_EL1": 1, "TTBR0_EL1": 2, "SCTLR_EL1": 1],
                    "\(policy.name)")
            #expect(report.traps.stage2Flushes == flushes, "\(policy.name)")
            #expect(report.traps.exits == exits, "\(policy.name)")
        }
    }

    /// Under `reset = kvm` MAIR_EL1 holds KVM's reset_unknown value 0x1de7ec7edbadc0de, whose
    /// index 4 (0x7e) is Write-Back: nothing is UNKNOWN and the buffer is coherent.
    @Test func kvmsResetValuesDecideWhatUnknownCannot() throws {
        let loaded = try Fixtures.shipped("reset-unknown-mair")
        let unknown = try Runner.run(loaded, options: RunOptions(policy: .kvm2015))
        #expect(unknown.outcome.undecided.contains { $0.contains("depends on MAIR_EL1, which the guest never wrote") })
        let kvm = try Runner.run(loaded, options: RunOptions(policy: .kvm2015.variant("reset=kvm") { $0.reset = .kvm }))
        #expect(kvm.outcome.undecided.isEmpty)
        #expect(kvm.outcome.failures.isEmpty)
        #expect(kvm.finalRegisters["MAIR_EL1"] == "0x1de7ec7edbadc0de")
    }

    /// The rewrite's scopes on index 5 (0x00 above the highest non-zero byte): `all` (the
    /// default) and `used` (index 5 is in a live descriptor once the MMU is on) rewrite it;
    /// `defined` takes it for an unused tail and leaves it Device.
    @Test func theRewritesScopeDecidesIndexFive() throws {
        let loaded = try Fixtures.shipped("mair-index-zero")
        func staleUnder(_ scope: MAIRRewriteScope) throws -> Bool {
            let policy = Policy.rfc2015.variant("scope=\(scope.rawValue)") { $0.rewriteScope = scope }
            return try !Runner.run(loaded, options: RunOptions(policy: policy)).outcome.failures.isEmpty
        }
        #expect(try !staleUnder(.all))
        #expect(try !staleUnder(.used))
        #expect(try staleUnder(.defined))
    }

    /// A cap that cuts the exploration short decides no Never: a guest whose read of shared
    /// memory can see two values needs two executions, and a cap of 1 allows one.
    @Test func theCapCutsExplorationShortAndSaysSo() throws {
        let snippet = try Fixtures.snippet("poll", """
                    boot_2015 0x50000000, MT_NORMAL_NC
                    mairlab_sync 1                      // the VMM writes the mailbox
                    ldr     x1, =0x50000000
            poll:   ldr     x2, [x1]
                    mairlab_end 0
            """, manifest: Fixtures.defaultManifest.replacingOccurrences(of: "budget = 10_000", with: "budget = 10_000\nschedule_cap = 1") + """

            [[observed]]
            name = "box"
            kind = "ram"
            base = 0x50000000
            size = 0x1000

            [[host]]
            at = 1
            observer = "vmm"
            action = "write"
            region = "box"
            value = 7

            [[expect]]
            policy = "kvm-2015"
            condition = "~exists lost-write"
            reason = "the guest only reads"
            """)
        let report = try Fixtures.run(snippet, options: RunOptions(policy: .kvm2015))
        #expect(report.outcome.schedules?.explored == 1)
        #expect(report.outcome.schedules?.cutShort == true)
        #expect(report.outcome.conditions.first?.holds == nil)
        #expect(report.outcome.conditions.first?.observation == .undecided)
    }

    /// MAIR byte 0x01 is a FEAT_XS form, UNPREDICTABLE without FEAT_XS (the emulated CPUs have
    /// none): the access is reported with its site, and the run goes on, undecided.
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
        #expect(report.outcome.undecided.contains { $0.hasPrefix("UNPREDICTABLE effective attribute for the access at weird") })
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

    /// A condition naming a region or observer the snippet does not have could never match:
    /// it is an error, not a condition that passes.
    @Test func conditionsNameOnlyWhatTheSnippetHas() throws {
        let manifest = Fixtures.defaultManifest + """

            [[observed]]
            name = "fb"
            kind = "ram"
            base = 0x50000000
            size = 0x1000

            [[expect]]
            policy = "kvm-2015"
            condition = "~exists stale-read(vmm, fbb)"
            reason = "typo"
            """
        let snippet = try Fixtures.snippet("typo", "mairlab_end 0", manifest: manifest)
        #expect {
            try Fixtures.run(snippet)
        } throws: { error in
            (error as? HarnessError)?.description == "\(snippet.displayManifest):18: field 'expect[0].condition': no [[observed]] region is named 'fbb' (fb)"
        }
        let observer = try Fixtures.snippet("typo2", "mairlab_end 0",
                                            manifest: manifest.replacingOccurrences(of: "(vmm, fbb)", with: "(vm, fb)"))
        #expect {
            try Fixtures.run(observer)
        } throws: { error in
            (error as? HarnessError)?.description == "\(observer.displayManifest):18: field 'expect[0].condition': 'vm' is not an observer of this snippet (guest, vmm)"
        }
    }
}

@Suite struct ObservedAccessTests {
    /// Every access size the guest uses, pairs, and an unaligned access straddling two lines go
    /// through the model and read back what was written (the guest counts mismatches) in the
    /// first execution, which sees the latest write wherever it can. (Later executions may see
    /// stale values through a Non-cacheable or Device alias of RAM the VMM maps cacheable.)
    /// On Device memory the unaligned store is an alignment fault (Arm ARM B2.7.2).
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
            cross:  str     x4, [x1, #0x3c]            // bytes 0x3c-0x43: two lines
                    ldr     x6, [x1, #0x3c]
                    cmp     x6, x4
                    cinc    x10, x10, ne
                    ldr     w6, [x1, #0x40]            // the second line's half (little-endian)
                    ldr     w8, =0x11223344
                    cmp     w6, w8
                    cinc    x10, x10, ne
                    ldr     x6, [x1, #0x3e]            // unaligned, read as two aligned reads
                    ldr     x8, =0x0000000011223344
                    lsr     x9, x4, #16
                    cmp     x6, x9
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
        if attribute == "MT_DEVICE_nGnRE" {
            #expect(report.outcome.fault?.kind == .alignmentFault)
            #expect(report.outcome.fault?.site == "cross")
            #expect(report.outcome.fault?.address == "0x5000003c")
        } else {
            #expect(report.outcome.status == .completed)
            #expect(report.outcome.exitStatus == 0)
        }
        #expect(!report.outcome.failures.contains { $0.kind == .lostWrite })
        if attribute == "MT_NORMAL" { #expect(report.outcome.failures.isEmpty) }
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
