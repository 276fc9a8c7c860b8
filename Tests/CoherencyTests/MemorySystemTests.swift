import AArch64
import Testing
@testable import Coherency

/// Scenarios written from the architecture's rules (Arm ARM B2.7: Non-cacheable and Device
/// accesses go to the PoC and do not look up the caches; a write-back line reaches memory only
/// when it is cleaned or evicted) and from the record (seed 004: stale framebuffer, stale
/// flash, DMA after the rewrite).
@Suite struct MemorySystemTests {
    static let fb = MemorySystem.Region(name: "fb", base: 0x1000, size: 0x1000)
    static let wb = CachePolicy.writeBack(readAllocate: true, writeAllocate: true)
    static let guest = Observer.guest(site: "loop")

    func system() -> MemorySystem { MemorySystem(regions: [Self.fb]) }

    @Test func cachePolicyFollowsTheInnerAttribute() {
        #expect(CachePolicy(MemoryAttribute(mairByte: 0x44)) == .nonCacheable)
        #expect(CachePolicy(MemoryAttribute(mairByte: 0x00)) == .nonCacheable)
        #expect(CachePolicy(MemoryAttribute(mairByte: 0xFF)) == .writeBack(readAllocate: true, writeAllocate: true))
        #expect(CachePolicy(MemoryAttribute(mairByte: 0xAA)) == .writeThrough(readAllocate: true))
        #expect(CachePolicy(MemoryAttribute(mairByte: 0x4E)) == .writeBack(readAllocate: true, writeAllocate: false))
    }

    /// The VMM read the framebuffer once (a clean line now in the cache); the guest then writes
    /// it through a Non-cacheable mapping (to memory); the VMM's next read hits its line.
    @Test func aNonCacheableWriteLeavesACachedReaderStale() {
        var m = system()
        _ = m.read(0x1000, size: 8, policy: Self.wb, by: .vmm)
        m.write(0x1000, size: 4, value: 0xAABB_CCDD, policy: .nonCacheable, by: Self.guest)
        #expect(m.read(0x1000, size: 4, policy: Self.wb, by: .vmm) == 0)
        #expect(m.failures.map(\.kind) == [.staleRead])
        #expect(m.failures.first?.observer == "vmm")
        #expect(m.failures.first?.address == 0x1000)
        #expect(m.failures.first?.detail.contains("should have been dd cc bb aa") == true)
        // Once the line is gone, the VMM reads memory and sees the guest's data.
        m.evict(line: 0x1000)
        #expect(m.read(0x1000, size: 4, policy: Self.wb, by: .vmm) == 0xAABB_CCDD)
        #expect(m.failures.count == 1)
    }

    /// A dirty line (the VMM's write) written back after the guest's newer Non-cacheable write
    /// to the same line overwrites it: the guest's write is lost, whole line.
    @Test func aDirtyWriteBackLosesANewerNonCacheableWrite() {
        var m = system()
        m.write(0x1040, size: 1, value: 0x11, policy: Self.wb, by: .vmm)
        m.write(0x1048, size: 8, value: 0x2222_2222_2222_2222, policy: .nonCacheable, by: Self.guest)
        m.evict(line: 0x1040)
        let lost = m.failures.filter { $0.kind == .lostWrite }
        #expect(lost.count == 1)
        #expect(lost.first?.observer == "guest")
        #expect(lost.first?.address == 0x1048)
        #expect(lost.first?.detail.hasPrefix("8 byte(s) that guest at loop wrote at 0x1048 were overwritten") == true)
    }

    @Test func aCleanBeforeTheNonCacheableWriteLosesNothing() {
        var m = system()
        m.write(0x1040, size: 1, value: 0x11, policy: Self.wb, by: .vmm)
        m.clean(line: 0x1040)
        m.write(0x1048, size: 8, value: 0x22, policy: .nonCacheable, by: Self.guest)
        m.evict(line: 0x1040)   // clean now: nothing written back
        #expect(m.failures.isEmpty)
    }

    /// The 2015 thread's DMA question: after the rewrite the guest's buffer is cacheable, so a
    /// non-coherent device reads memory without the data unless the guest cleans to PoC.
    @Test func nonCoherentDMANeedsACleanCoherentDMASnoops() {
        var m = system()
        m.write(0x1100, size: 8, value: 0x5A5A, policy: Self.wb, by: Self.guest)
        let device = Observer.dma(name: "nic", coherent: false)
        _ = m.read(0x1100, size: 8, policy: .nonCacheable, by: device)
        #expect(m.failures.map(\.observer) == ["nic"])
        var cleaned = system()
        cleaned.write(0x1100, size: 8, value: 0x5A5A, policy: Self.wb, by: Self.guest)
        cleaned.clean(line: 0x1100)
        #expect(cleaned.read(0x1100, size: 8, policy: .nonCacheable, by: device) == 0x5A5A)
        var snooped = system()
        snooped.write(0x1100, size: 8, value: 0x5A5A, policy: Self.wb, by: Self.guest)
        #expect(snooped.read(0x1100, size: 8, policy: .nonCacheable, by: .dma(name: "gpu", coherent: true)) == 0x5A5A)
        #expect(snooped.failures.isEmpty && cleaned.failures.isEmpty)
    }

    @Test func writeThroughKeepsMemoryCurrent() {
        var m = system()
        m.write(0x1200, size: 4, value: 7, policy: .writeThrough(readAllocate: true), by: Self.guest)
        #expect(m.read(0x1200, size: 4, policy: .nonCacheable, by: .dma(name: "d", coherent: false)) == 7)
        #expect(m.failures.isEmpty)
    }

    @Test func accessesThatStraddleLinesUseBoth() {
        var m = system()
        m.write(0x103C, size: 8, value: 0x0807_0605_0403_0201, policy: Self.wb, by: Self.guest)
        #expect(m.cache.keys.sorted() == [0x1000, 0x1040])
        #expect(m.read(0x103C, size: 8, policy: Self.wb, by: .vmm) == 0x0807_0605_0403_0201)
    }

    @Test func candidateLinesAreThoseTouchedBothWays() {
        var m = system()
        _ = m.read(0x1000, size: 8, policy: Self.wb, by: .vmm)
        m.write(0x1000, size: 8, value: 1, policy: .nonCacheable, by: Self.guest)
        m.write(0x1080, size: 8, value: 1, policy: .nonCacheable, by: Self.guest)
        #expect(m.candidateLines == [0x1000])
    }

    @Test func setWayNamesLinesByPABits12To6() {
        var m = system()
        _ = m.read(0x1040, size: 1, policy: Self.wb, by: .vmm)   // set 65 (0x1040 / 64 % 128)
        #expect(m.lines(inSet: 65) == [0x1040])
        #expect(m.lines(inSet: 1).isEmpty)
    }
}

@Suite struct ExplorationTests {
    /// Two decision points give four schedules, each run once.
    @Test func everyChoiceSequenceRunsOnce() {
        var seen: [[Bool]] = []
        let result = ScheduleExplorer.explore(cap: 100) { chooser -> Int in
            let a = chooser.nextChoice(), b = chooser.nextChoice()
            seen.append([a, b])
            return (a ? 2 : 0) + (b ? 1 : 0)
        }
        #expect(result.explored == 4)
        #expect(!result.cutShort)
        #expect(Set(seen.map { $0.map { $0 ? 1 : 0 } }) == [[0, 0], [0, 1], [1, 0], [1, 1]])
        #expect(result.states.map(\.schedules) == [1, 1, 1, 1])
    }

    /// A choice can open further decision points (here: evicting first makes a second choice).
    @Test func choicesThatOpenMoreChoicesAreFollowed() {
        let result = ScheduleExplorer.explore(cap: 100) { chooser -> String in
            chooser.nextChoice() ? (chooser.nextChoice() ? "ee" : "ek") : "k"
        }
        #expect(result.explored == 3)
        #expect(Set(result.states.map(\.state)) == ["k", "ek", "ee"])
    }

    @Test func theCapCutsExplorationShortAndSaysSo() {
        let result = ScheduleExplorer.explore(cap: 5) { chooser -> Int in
            (0..<4).map { _ in chooser.nextChoice() ? 1 : 0 }.reduce(0, +)
        }
        #expect(result.explored == 5)
        #expect(result.cutShort)
    }
}

@Suite struct ConditionTests {
    static let stale = FinalState(hostReads: [], failures: [.init(kind: .staleRead, observer: "vmm", region: "fb", address: 0x10)],
                                  guestTypes: ["fb": [.normalNC]])
    static let clean = FinalState(hostReads: [], failures: [], guestTypes: ["fb": [.normalWB]])

    @Test func parseAndPrint() throws {
        #expect(try Condition(parsing: "exists stale-read(vmm, fb)").description == "exists stale-read(vmm, fb)")
        #expect(try Condition(parsing: " ~exists   lost-write ").description == "~exists lost-write")
        #expect(try Condition(parsing: "forall attribute(reg, device)").arguments == ["reg", "device"])
    }

    @Test(arguments: ["sometimes stale-read", "exists stale", "exists coherent(x)", "exists attribute(a, cached)", "exists stale-read(vmm"])
    func badConditionsSayWhy(text: String) {
        #expect(throws: Condition.ParseError.self) { try Condition(parsing: text) }
    }

    @Test func verdictsCountSchedules() throws {
        let states = [(Self.stale, 3), (Self.clean, 5)]
        let exists = try Condition(parsing: "exists stale-read(vmm)").verdict(over: states)
        #expect(exists == .init(observation: .sometimes, positive: 3, negative: 5, holds: true))
        let never = try Condition(parsing: "~exists stale-read(vmm)").verdict(over: states)
        #expect(!never.holds)
        let other = try Condition(parsing: "~exists stale-read(dma)").verdict(over: states)
        #expect(other == .init(observation: .never, positive: 0, negative: 8, holds: true))
        let all = try Condition(parsing: "forall coherent").verdict(over: [(Self.clean, 2)])
        #expect(all == .init(observation: .always, positive: 2, negative: 0, holds: true))
        #expect(try Condition(parsing: "forall attribute(fb, normal-wb)").verdict(over: states).observation == .sometimes)
    }
}
