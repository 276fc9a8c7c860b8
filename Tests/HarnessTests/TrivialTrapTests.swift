import AArch64
import Foundation
import Hypervisor
import Testing
import Unicorn
@testable import Harness

/// Trapped MAIR_EL1 writes whose handling depends on their value alone are taken in C
/// (`mairlab_mair_write`): the same decisions, records and order as the Swift controller.
@Suite struct TrivialTrapTests {
    /// The C rewrite against `MAIRRewrite.loaded`, for every rule and the two scopes C takes:
    /// each byte value at each index, and pseudo-random 64-bit values (a fixed LCG).
    @Test func theCRewriteIsMAIRRewrite() {
        var values: [UInt64] = []
        for index in 0..<8 { for byte in 0...255 { values.append(UInt64(byte) << (8 * UInt64(index))) } }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<4096 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // Zero bytes now and then, so that `defined` has a tail to leave alone.
            values.append(state & (state >> 17 & 1 == 0 ? 0x0000_FFFF_FFFF_FFFF : ~0))
        }
        for rule in MAIRRewriteRule.allCases {
            for scope in [MAIRRewriteScope.all, .defined] {
                let table = MAIRRewrite.table(rule)
                let wrong = values.filter {
                    FastPath.loadedMAIR($0, table: table, definedIndicesOnly: scope == .defined)
                        != MAIRRewrite.loaded(rule, scope: scope, to: $0)
                }
                #expect(wrong.isEmpty, "rule \(rule.rawValue), scope \(scope.rawValue): \(wrong.prefix(3).map { String($0, radix: 16) })")
            }
        }
    }

    /// What the controller hands to C: nothing once TVM is clear; never SCTLR_EL1 (its write
    /// may turn the caches on, `kvm_toggle_cache`); under the `used` scope not the registers
    /// whose writes scan the guest's tables; under `until caches on` only while the caches are
    /// off.
    @Test func onlyValueOnlyWritesAreTrivial() throws {
        var kvm = TrapController(policy: .kvm2015, resetSCTLR: 0)
        let kvmTrivial = try #require(kvm.trivialWrites)
        #expect(kvmTrivial.path == .fullExit && !kvmTrivial.mairRewritten)
        #expect(Set(kvmTrivial.registers) == Set(SystemRegister.allCases.filter { $0.isTrappedByTVM && $0 != .sctlrEL1 }))
        _ = kvm.write(.sctlrEL1, value: 0b101)   // M and C: TVM is cleared
        #expect(kvm.trivialWrites == nil)
        let rfc = TrapController(policy: .rfc2015, resetSCTLR: 0b101)   // traps always
        #expect(rfc.trivialWrites?.mairRewritten == true)
        #expect(rfc.trivialWrites?.path == .fastPath)
        #expect(rfc.trivialWrites?.mairTable == MAIRRewrite.table(Policy.rfc2015.rewrite))
        let used = TrapController(policy: .rfc2015.variant("scope=used") { $0.rewriteScope = .used }, resetSCTLR: 0)
        let usedRegisters = Set(try #require(used.trivialWrites).registers)
        #expect(usedRegisters.isDisjoint(with: [.mairEL1, .tcrEL1, .ttbr0EL1, .ttbr1EL1, .sctlrEL1]))
        #expect(usedRegisters.contains(.contextidrEL1))
        // The C side names every register TVM covers (mairlab_vm_register_index).
        #expect(Set(GuestExecution.vmRegisterBits) == Set(SystemRegister.virtualMemoryControlRegisters))
    }

    static func report(_ loaded: LoadedSnippet, _ policy: Policy, fast: Bool) throws -> RunReport {
        var options = RunOptions(policy: policy)
        options.trivialTrapsInC = fast
        options.plainLines = fast
        let execution = try GuestExecution(loaded, options: options)
        try execution.run()
        var report = try execution.report()
        report.cost.hostNsPerTrap = nil   // a measurement, not a result
        return report
    }

    static let shippedNames = ((try? FileManager.default.contentsOfDirectory(atPath: Fixtures.guestImages.path)) ?? [])
        .filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }.sorted()

    /// Every shipped snippet under each trap regime that C can take writes under (TVM until
    /// the caches are on, always with and without the EL2 fast path, the other rules and
    /// scopes): the same report, every trap event in order included, with the fast paths
    /// (trivial traps in C, plain lines of shared memory) and without.
    @Test(arguments: shippedNames) func shippedSnippetsReportTheSameEitherWay(_ name: String) throws {
        let policies = [Policy.kvm2015, .rfc2015, .rfc2015NoFastPath,
                        Policy.rfc2015.variant("scope=defined") { $0.rewriteScope = .defined },
                        Policy.rfc2015NoFastPath.variant("rewrite=all-cacheable") { $0.rewrite = .allCacheable }]
        let loaded = try Fixtures.shipped(name)
        for policy in policies {
            let fast = try Self.report(loaded, policy, fast: true)
            let slow = try Self.report(loaded, policy, fast: false)
            #expect(fast == slow, "\(name) under \(policy.name)")
        }
    }

    @Test func everyShippedSnippetIsCompared() { #expect(Self.shippedNames.count > 20) }

    /// One MAIR_EL1 value written again and again from one site (one run in C), then two values
    /// written alternately from two sites, more times than the C side keeps runs (1024): every
    /// write is recorded, in order, the rewrite of each counted at its site, and a TRVM read
    /// afterwards answers the guest's last value.
    @Test func alternatingWritesKeepTheirOrder() throws {
        let iterations = 1500, repeats = 100
        let snippet = try Fixtures.snippet("alternate", """
                    ldr     x1, =0x000000ff440c0400
                    ldr     x2, =0x0000000000000044
                    mov     x3, #\(repeats)
            same:   msr     mair_el1, x1
                    subs    x3, x3, #1
                    b.ne    same
                    mov     x3, #\(iterations)
            loop:
            first:  msr     mair_el1, x1
            second: msr     mair_el1, x2
                    subs    x3, x3, #1
                    b.ne    loop
                    mrs     x4, mair_el1
                    cmp     x4, x2
                    cset    x0, ne
                    hvc     #0
            """)
        let policy = Policy.rfc2015.variant("trvm=on") { $0.trvm = true }
        let report = try Fixtures.run(snippet, options: RunOptions(policy: policy))
        #expect(report.outcome.exitStatus == 0)   // the read returned the guest's own 0x44
        let events = report.traps.events ?? []
        #expect(events.count == repeats + 2 * iterations + 1)
        #expect(events.prefix(repeats).allSatisfy { $0.site == "same" && $0.value == "0x000000ff440c0400" })
        let writes = events.dropFirst(repeats).prefix(2 * iterations)
        #expect(writes.map(\.site) == Array(repeating: ["first", "second"], count: iterations).flatMap { $0 })
        #expect(writes.map(\.value) == Array(repeating: ["0x000000ff440c0400", "0x0000000000000044"], count: iterations).flatMap { $0 })
        #expect(events.last?.direction == .read && events.last?.value == "0x0000000000000044")
        #expect(report.rewrites.map(\.site) == ["same", "first", "second"])
        #expect(report.rewrites.map(\.count) == [repeats, iterations, iterations])
        #expect(report.traps.byPath == ["fast-path": repeats + 2 * iterations + 1])
    }
}

/// Shared memory no cache can hold, taken without resolving or exploring again
/// (`SharedMemory.plainAccess`): a device window the guest stores to and loads from in a loop
/// (8-byte accesses that Unicorn splits into 4-byte MMIO callbacks, and narrower ones), with a
/// non-coherent master writing it at a sync point.
@Suite struct PlainAccessTests {
    static let manifest = Fixtures.defaultManifest + """

        [[observed]]
        name = "regs"
        kind = "device"
        base = 0x50000000
        size = 0x1000

        [[dma]]
        name = "dev"
        coherent = false

        [[host]]
        at = 1
        observer = "dev"
        action = "write"
        region = "regs"
        offset = 16
        size = 8
        value = 0x1234
        """

    static func snippet(iterations: Int) throws -> Snippet {
        try Fixtures.snippet("window", """
                    ldr     x1, =0x50000000
                    mov     x3, #0
                    mov     x4, #\(iterations)
            1:      str     x4, [x1]
                    ldr     x5, [x1]
                    add     x3, x3, x5
                    strb    w4, [x1, #9]
                    ldrh    w6, [x1, #8]
                    add     x3, x3, x6
                    subs    x4, x4, #1
                    b.ne    1b
                    mairlab_sync 1
                    ldr     x5, [x1, #16]
                    add     x0, x3, x5
                    hvc     #0
            """, manifest: manifest)
    }

    static func run(plain: Bool, iterations: Int) throws -> (report: RunReport, plainAccesses: Int) {
        var options = RunOptions(budget: 20 * iterations + 1000, policy: .kvm2015)
        options.plainLines = plain
        let execution = try GuestExecution(try Fixtures.load(try snippet(iterations: iterations)), options: options)
        try execution.run()
        return (try execution.report(), execution.shared?.plainAccesses ?? 0)
    }

    /// The guest's sum, from its construction: each iteration reads back the 8 bytes it stored
    /// (i) and the halfword at 8, whose upper byte it stored ((i & 0xFF) << 8; byte 8 stays the
    /// region's initial 0); then the 8 bytes the device wrote. 3,000 iterations make 12,000
    /// accesses, more than C keeps records of (4,096) between two entries into Swift.
    @Test(arguments: [40, 3000]) func aDeviceWindowReadsWhatWasWrittenEitherWay(iterations: Int) throws {
        let sum = (1...iterations).reduce(0) { $0 + $1 + (($1 & 0xFF) << 8) } + 0x1234
        let fast = try Self.run(plain: true, iterations: iterations), slow = try Self.run(plain: false, iterations: iterations)
        #expect(fast.report.outcome.exitStatus == UInt64(sum))
        #expect(fast.report == slow.report)
        // The first pass of each of the loop's four accesses resolves; the rest are plain.
        #expect(fast.plainAccesses == 4 * (iterations - 1))
        #expect(slow.plainAccesses == 0)
    }
}
