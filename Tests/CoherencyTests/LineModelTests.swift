import AArch64
import Testing
@testable import Coherency

/// Line by line, the model against the architecture's rules: expectations come from the rule
/// named in each test (Arm ARM: Non-cacheable and Device accesses go to the PoC; a cache may
/// allocate, write back or evict a line at any moment; allocation hints are hints; the
/// mismatched-attributes rules), never from a previous run.
@Suite struct LineModelTests {
    static let fb = SharedMemoryModel.Region(name: "fb", base: 0x1000, size: 0x1000, initial: 0, hostCacheable: true)
    static let device = SharedMemoryModel.Region(name: "regs", base: 0x4000, size: 0x1000, initial: 0, hostCacheable: false)
    static let guest = Observer.guest(site: "loop")
    static let nic = Observer.dma(name: "nic", coherent: false)

    static func model(_ regions: [SharedMemoryModel.Region] = [fb, device]) -> SharedMemoryModel {
        SharedMemoryModel(regions: regions)
    }

    /// The failures every final state of `line` can end with.
    static func outcomes(_ model: SharedMemoryModel, _ line: UInt64) -> Set<[String]> {
        var model = model
        model.finish()
        return Set(model.lines[line]!.outcomes.map { $0.failures.map { "\($0.kind) \($0.observer)" } })
    }

    /// The framebuffer of 2015: the guest writes through Normal-NC, the VMM reads through its
    /// Write-Back mapping. Its line may have come into the cache before the write (speculation
    /// through the VMM's mapping), so the read may be stale; or not.
    @Test func aNonCacheableWriterAndACacheableReaderMayDisagree() {
        var model = Self.model()
        model.write(.nonCacheable, address: 0x1000, bytes: [1, 2, 3, 4], by: Self.guest, label: "")
        _ = model.read(.writeBack, address: 0x1000, count: 4, by: .vmm, label: "", chooser: nil)
        #expect(Self.outcomes(model, 0x1000) == [[], ["stale-read vmm"]])
    }

    /// Device memory no host maps cacheable: no copy can ever be cached, the model keeps one
    /// state and every read is coherent.
    @Test func aLineNoAgentCachesHasOneState() {
        var model = Self.model()
        model.write(.nonCacheable, address: 0x4000, bytes: [9], by: Self.guest, label: "")
        #expect(model.read(.nonCacheable, address: 0x4000, count: 1, by: .vmm, label: "", chooser: nil) == [9])
        model.finish()
        #expect(model.lines[0x4000]!.states.count == 1)
        #expect(Self.outcomes(model, 0x4000) == [[]])
    }

    /// A dirty line (the VMM's write) written back after the guest's newer Non-cacheable write
    /// of the same line reverts it: the Arm ARM's "bytes written without the Write-Back
    /// attribute ... might have their values reverted".
    @Test func aLateWriteBackLosesANewerNonCacheableWrite() {
        var model = Self.model()
        model.write(.writeBack, address: 0x1040, bytes: [0x11], by: .vmm, label: "")
        model.write(.nonCacheable, address: 0x1048, bytes: [0x22], by: Self.guest, label: "")
        #expect(Self.outcomes(model, 0x1040) == [[], ["lost-write guest"]])
        let detail = model.log.details.detail(LineFailure(kind: .lostWrite, observer: "guest"), line: 0x1040)
        #expect(detail?.address == 0x1048)
        #expect(detail?.text.hasPrefix("1 byte(s) that guest at loop wrote at 0x1048 were overwritten") == true)
    }

    /// DC CVAC between the two writes puts the VMM's data in memory: the later write-back has
    /// nothing older to bring back... but the line can still be refilled and is clean.
    @Test func aCleanBeforeTheNonCacheableWriteLosesNothing() {
        var model = Self.model()
        model.write(.writeBack, address: 0x1040, bytes: [0x11], by: .vmm, label: "")
        model.maintain(.cleanToPoC, address: 0x1040, count: 1, label: "")
        model.write(.nonCacheable, address: 0x1048, bytes: [0x22], by: Self.guest, label: "")
        // A spontaneous write-back before the clean is not ruled out: the clean only forces it.
        #expect(Self.outcomes(model, 0x1040) == [[]])
    }

    /// DC IVAC under HCR_EL2.VM = 1 is performed as a clean and invalidate: the dirty data
    /// reaches memory, where a non-coherent device reads it.
    @Test func anInvalidateByVAUnderAHypervisorCleansFirst() {
        var model = Self.model()
        model.write(.writeBack, address: 0x1100, bytes: [0x5A], by: Self.guest, label: "")
        model.maintain(.cleanAndInvalidate, address: 0x1100, count: 1, label: "")
        #expect(model.read(.nonCoherentDMA, address: 0x1100, count: 1, by: Self.nic, label: "", chooser: nil) == [0x5A])
        #expect(Self.outcomes(model, 0x1100) == [[]])
    }

    /// Without maintenance a non-coherent device may read memory before the guest's Write-Back
    /// data reaches it; a coherent one snoops and sees it.
    @Test func nonCoherentDMANeedsACleanCoherentDMASnoops() {
        var model = Self.model()
        model.write(.writeBack, address: 0x1100, bytes: [0x5A], by: Self.guest, label: "")
        _ = model.read(.nonCoherentDMA, address: 0x1100, count: 1, by: Self.nic, label: "", chooser: nil)
        #expect(Self.outcomes(model, 0x1100) == [[], ["stale-read nic"]])
        var snooped = Self.model()
        snooped.write(.writeBack, address: 0x1100, bytes: [0x5A], by: Self.guest, label: "")
        #expect(snooped.read(.coherentDMA, address: 0x1100, count: 1, by: .dma(name: "gpu", coherent: true),
                             label: "", chooser: nil) == [0x5A])
        #expect(Self.outcomes(snooped, 0x1100) == [[]])
    }

    /// Inner Non-cacheable, outer Write-Back (MAIR 0xF4): the write can sit in the outer cache,
    /// which a non-coherent device does not see. With one level where "the inner attribute
    /// decides" this could never be stale.
    @Test func anOuterCacheCanHoldAnInnerNonCacheableWrite() {
        let access = LineAccess(MemoryAttribute(mairByte: 0xF4))
        #expect(access == .cpu(inner: .nonCacheable, outer: .writeBack))
        var model = Self.model()
        model.write(access, address: 0x1200, bytes: [7], by: Self.guest, label: "")
        _ = model.read(.nonCoherentDMA, address: 0x1200, count: 1, by: Self.nic, label: "", chooser: nil)
        #expect(Self.outcomes(model, 0x1200) == [[], ["stale-read nic"]])
    }

    /// Allocation hints are hints: Write-Back with no write-allocate (0xCC) behaves as 0xFF,
    /// so a no-write-allocate store may stay dirty in a cache the device does not see.
    @Test func attributesThatDifferOnlyInHintsBehaveAlike() {
        #expect(LineAccess(MemoryAttribute(mairByte: 0xCC)) == LineAccess(MemoryAttribute(mairByte: 0xFF)))
        #expect(LineAccess(MemoryAttribute(mairByte: 0x55)) == LineAccess(MemoryAttribute(mairByte: 0xFF)))
        var model = Self.model()
        model.write(LineAccess(MemoryAttribute(mairByte: 0xCC)), address: 0x1300, bytes: [1], by: Self.guest, label: "")
        _ = model.read(.nonCoherentDMA, address: 0x1300, count: 1, by: Self.nic, label: "", chooser: nil)
        #expect(Self.outcomes(model, 0x1300).contains(["stale-read nic"]))
    }

    /// Write-Through keeps memory current: a device always sees the write.
    @Test func writeThroughKeepsMemoryCurrent() {
        var model = Self.model()
        model.write(LineAccess(MemoryAttribute(mairByte: 0xAA)), address: 0x1200, bytes: [7], by: Self.guest, label: "")
        #expect(model.read(.nonCoherentDMA, address: 0x1200, count: 1, by: Self.nic, label: "", chooser: nil) == [7])
        #expect(Self.outcomes(model, 0x1200) == [[]])
    }

    /// With mismatched attributes a Non-cacheable read "might not return the value most
    /// recently written": a copy another alias left may serve it. The guest's own NC read of a
    /// line the VMM wrote back-cached can see either value.
    @Test func aNonCacheableReadMaySeeACachedCopy() {
        var model = Self.model()
        model.write(.writeBack, address: 0x1000, bytes: [0xAB], by: .vmm, label: "")
        let chooser = Recorder()
        _ = model.read(.nonCacheable, address: 0x1000, count: 1, by: Self.guest, label: "", chooser: chooser)
        #expect(chooser.offered == [2])   // memory's 0x00 or the dirty copy's 0xAB
    }

    /// An access that straddles two lines is two events, one per line.
    @Test func accessesThatStraddleLinesTouchBoth() {
        var model = Self.model()
        model.write(.writeBack, address: 0x103C, bytes: [1, 2, 3, 4, 5, 6, 7, 8], by: Self.guest, label: "")
        #expect(model.lineOrder == [0x1000, 0x1040])
        #expect(model.read(.writeBack, address: 0x103C, count: 8, by: .vmm, label: "", chooser: nil) == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    /// Set/way maintenance names lines by PA bits [12:6] and acts on the touched ones.
    @Test func setWayNamesLinesByPABits12To6() {
        var model = Self.model()
        model.write(.writeBack, address: 0x1040, bytes: [1], by: .vmm, label: "")
        model.write(.nonCacheable, address: 0x1048, bytes: [2], by: Self.guest, label: "")
        model.maintain(.cleanAndInvalidateLevel(.inner), set: 1, sets: 128, label: "")   // 0x1040 is set 65
        #expect(Self.outcomes(model, 0x1040).contains(["lost-write guest"]))
        var cleaned = Self.model()
        cleaned.write(.writeBack, address: 0x1040, bytes: [1], by: .vmm, label: "")
        // A full set/way sweep cleans every level (the line may have moved to the outer one).
        cleaned.maintain(.cleanAndInvalidateLevel(.inner), set: 65, sets: 128, label: "")
        cleaned.maintain(.cleanAndInvalidateLevel(.outer), set: 65, sets: 128, label: "")
        cleaned.write(.nonCacheable, address: 0x1048, bytes: [2], by: Self.guest, label: "")
        #expect(Self.outcomes(cleaned, 0x1040) == [[]])
    }

    /// A witness replays: following the steps of a final state with a lost write reproduces it
    /// in one concrete execution.
    @Test func aWitnessReplaysItsFailure() throws {
        var model = Self.model()
        model.write(.writeBack, address: 0x1040, bytes: [0x11], by: .vmm, label: "")
        model.write(.nonCacheable, address: 0x1048, bytes: [0x22], by: Self.guest, label: "")
        model.finish()
        let witness = try #require(model.lines[0x1040]!.outcomes.first { !$0.failures.isEmpty }?.witness)
        var replay = SharedMemoryModel(regions: [Self.fb], replay: [0x1040: witness.steps])
        replay.write(.writeBack, address: 0x1040, bytes: [0x11], by: .vmm, label: "vmm")
        replay.write(.nonCacheable, address: 0x1048, bytes: [0x22], by: Self.guest, label: "guest")
        replay.finish()
        #expect(replay.lines[0x1040]!.states.count == 1)
        #expect(replay.lines[0x1040]!.someState.failures == [LineFailure(kind: .lostWrite, observer: "guest")])
        #expect(replay.trace.map(\.what) == ["vmm write 1 byte(s) at 0x1040", "guest write 1 byte(s) at 0x1048"])
    }

    /// Renaming keeps what decides failures: two states whose stale copies came from different
    /// old writes are one once renamed.
    @Test func renamingKeepsOrderAndTheLatestWrite() {
        var old = LineState(memory: LineBytes(repeating: 5))
        old.inner = CachedCopy(bytes: LineBytes(repeating: 2), dirty: false)
        var older = old
        older.inner = CachedCopy(bytes: LineBytes(repeating: 1), dirty: false)
        let reference = LineBytes(repeating: 5)
        #expect(old.renamed(reference: reference) == older.renamed(reference: reference))
        var fresh = old
        fresh.inner = CachedCopy(bytes: LineBytes(repeating: 5), dirty: false)
        #expect(fresh.renamed(reference: reference) != old.renamed(reference: reference))
    }
}

private final class Recorder: ValueChooser {
    var offered: [Int] = []
    func choose(among count: Int) -> Int {
        offered.append(count)
        return 0
    }
}
