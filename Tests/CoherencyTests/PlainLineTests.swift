import AArch64
import Testing
@testable import Coherency

/// Lines no cache can hold are taken without exploring (`LineModel.plainRead`/`plainWrite`):
/// every state, witness, event count, version and value must be what exploring gives.
@Suite struct PlainLineTests {
    static let guest = Observer.guest(site: "poke")
    static let nic = Observer.dma(name: "nic", coherent: false)
    static let gpu = Observer.dma(name: "gpu", coherent: true)

    /// A pseudo-random history (80 events) over 4 lines of a region nobody maps cacheable: mostly
    /// accesses that bypass the caches (Device/NC from the guest, a non-coherent master), now
    /// and then one that does not (a Write-Back or an inner-NC/outer-WB alias, the VMM, a
    /// coherent master), maintenance, and reads by the guest (the values they return).
    static func history(_ model: inout SharedMemoryModel, seed start: UInt64) -> [[UInt8]] {
        var seed = start
        func next(_ bound: UInt64) -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (seed >> 33) % bound
        }
        let base: UInt64 = 0x2000
        var reads: [[UInt8]] = []
        for step in 0..<80 {
            let line = base + 64 * next(4), size = [1, 2, 4, 8][Int(next(4))]
            let address = line + next(UInt64(64 - size + 1))
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: step &+ $0) }
            // Accesses that may cache only the first line, every 16th event (so that the others
            // stay plain, and the first does not grow thousands of states).
            let first = address & 63 | base
            switch step % 16 == 15 ? next(5) : 5 + next(15) {
            case 0: model.write(.writeBack, address: first, bytes: bytes, by: guest, label: "")
            case 1: model.write(.cpu(inner: .nonCacheable, outer: .writeBack), address: first, bytes: bytes, by: guest, label: "")
            case 2: _ = model.read(.writeBack, address: base, count: 64, by: .vmm, label: "", chooser: nil)
            case 3: model.write(.coherentDMA, address: address, bytes: bytes, by: gpu, label: "")
            case 4: model.maintain(.cleanAndInvalidate, address: line, count: 64, label: "")
            case 5, 6: model.write(.nonCoherentDMA, address: address, bytes: bytes, by: nic, label: "")
            case 7, 8, 9, 10, 11:
                reads.append(model.read(.nonCacheable, address: address, count: size, by: guest, label: "", chooser: LastChoice()))
            default: model.write(.nonCacheable, address: address, bytes: bytes, by: guest, label: "")
            }
        }
        model.finish()
        return reads
    }

    /// Picks the last value (the stalest, in `read`'s order), so that histories branch.
    final class LastChoice: ValueChooser {
        func choose(among count: Int) -> Int { count - 1 }
    }

    @Test(arguments: [UInt64(2), 13, 34, 55])
    func plainLinesAreExploredExactly(seed: UInt64) {
        let region = SharedMemoryModel.Region(name: "dev", base: 0x2000, size: 0x1000, initial: 0x5A, hostCacheable: false)
        var fast = SharedMemoryModel(regions: [region])
        var explored = SharedMemoryModel(regions: [region], plainLines: false)
        var alone = SharedMemoryModel(regions: [region], memoize: false, plainLines: false)
        let reads = Self.history(&fast, seed: seed)
        #expect(reads == Self.history(&explored, seed: seed))
        #expect(reads == Self.history(&alone, seed: seed))
        for other in [explored, alone] {
            #expect(fast.lineOrder == other.lineOrder)
            for address in other.lineOrder {
                let a = fast.lines[address]!, b = other.lines[address]!
                #expect(Set(a.states.states) == Set(b.states.states), "line \(hex(address))")
                #expect(a.states.witnesses.map { $0?.steps ?? [] } == b.states.witnesses.map { $0?.steps ?? [] })
                #expect(a.events == b.events && a.reference == b.reference && a.globalVersions == b.globalVersions)
                #expect(a.cacheable == b.cacheable && a.outcomes.map(\.failures) == b.outcomes.map(\.failures))
            }
        }
    }

    /// The bench's device window: a guest that only stores and loads through Device takes the
    /// plain path on every access (and the result is what exploring gives, above).
    @Test func aDeviceWindowStaysPlain() {
        let region = SharedMemoryModel.Region(name: "dev", base: 0x2000, size: 0x1000, initial: 0, hostCacheable: false)
        var model = SharedMemoryModel(regions: [region])
        for value in 1...100 {
            model.write(.nonCacheable, address: 0x2008, bytes: [UInt8(value)], by: Self.guest, label: "")
            #expect(model.read(.nonCacheable, address: 0x2008, count: 1, by: Self.guest, label: "", chooser: LastChoice()) == [UInt8(value)])
        }
        #expect(model.lines[0x2000]!.isPlain)
        #expect(model.lines[0x2000]!.events == 200)
    }

    /// C's accesses replayed by runs of one line (`replayPlain`, writers by number) leave the
    /// model as the same accesses made one by one through `plainWrite`/`plainRead` do: states,
    /// events, versions, every byte of every version and who wrote it.
    @Test(arguments: [UInt64(3), 21, 89])
    func replayEqualsAccessByAccess(seed: UInt64) {
        let region = SharedMemoryModel.Region(name: "dev", base: 0x2000, size: 0x1000, initial: 0x5A, hostCacheable: false)
        var replayed = SharedMemoryModel(regions: [region]), stepped = replayed
        let observers = [Observer.guest(site: "a"), .guest(site: "b+0x4"), Self.nic]
        for line in 0..<3 {   // lines exist (and are plain) before C may serve them
            replayed.write(.nonCacheable, address: 0x2000 + 64 * UInt64(line), bytes: [1], by: observers[0], label: "")
            stepped.write(.nonCacheable, address: 0x2000 + 64 * UInt64(line), bytes: [1], by: observers[0], label: "")
        }
        let writers = observers.map { replayed.observerID($0) }
        var seed = seed
        func next(_ bound: UInt64) -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (seed >> 33) % bound
        }
        var events: [SharedMemoryModel.PlainEvent] = []
        for _ in 0..<600 {
            // Runs of one line as C records them, now and then another line.
            let line = 0x2000 + 64 * (events.last.map { next(6) == 0 ? next(3) : ($0.address - 0x2000) / 64 } ?? 0)
            let count = [1, 2, 4, 8][Int(next(4))], address = line + next(UInt64(64 - count + 1))
            let who = Int(next(3)), access: LineAccess = who == 2 ? .nonCoherentDMA : .nonCacheable
            events.append(.init(access: access, address: address, value: next(1 << 32) << 32 | next(1 << 32), count: count,
                                isWrite: next(2) == 0, writer: writers[who]))
        }
        let replayedAll = replayed.replayPlain(events)
        #expect(replayedAll)
        for event in events {
            let observer = observers[writers.firstIndex(of: event.writer)!]
            let done = event.isWrite
                ? stepped.plainWrite(event.access, address: event.address, value: event.value, count: event.count, by: observer)
                : stepped.plainRead(event.access, address: event.address, count: event.count) != nil
            #expect(done)
        }
        #expect(replayed.log.count == stepped.log.count && replayed.log.count > 200)
        for version in 1...UInt32(replayed.log.count) {
            #expect(replayed.log.writer(of: version) == stepped.log.writer(of: version))
        }
        for line in replayed.lineOrder {
            let a = replayed.lines[line]!, b = stepped.lines[line]!
            #expect(a.isPlain && Set(a.states.states) == Set(b.states.states))
            #expect(a.events == b.events && a.reference == b.reference && a.globalVersions == b.globalVersions)
            for offset in 0..<64 {
                let version = a.globalVersions[Int(a.reference[offset])]
                #expect(replayed.log.value(at: line + UInt64(offset), version: version)
                        == stepped.log.value(at: line + UInt64(offset), version: version))
            }
        }
        // The last write of each byte is what a plain read returns.
        var latest: [UInt64: UInt8] = [:]
        for event in events where event.isWrite {
            for index in 0..<event.count { latest[event.address + UInt64(index)] = UInt8(truncatingIfNeeded: event.value >> (8 * UInt64(index))) }
        }
        for (address, byte) in latest {
            let read = replayed.plainRead(.nonCacheable, address: address, count: 1)
            #expect(read == [byte])
        }
    }
}

/// The write log: writes of up to 8 bytes kept in their entry, longer ones in the flat bytes;
/// either way each byte of each version and its writer read back.
@Suite struct WriteLogTests {
    @Test func valuesAndWritersOfEveryVersion() {
        var log = WriteLog(regions: [(base: 0x1000, size: 0x100, initial: 0xEE)])
        let a = Observer.guest(site: "a"), b = Observer.vmm
        var expected: [(start: UInt64, bytes: [UInt8], writer: Observer)] = []
        for step in 0..<50 {
            let start = 0x1000 + UInt64(step * 3 % 200), long = step % 5 == 0
            let bytes = (0..<(long ? 12 + step % 40 : 1 + step % 8)).map { UInt8(truncatingIfNeeded: step * 7 + $0) }
            let writer = step % 3 == 0 ? b : a
            let version: UInt32
            if long {
                version = log.record(writer, start: start, bytes: bytes)
            } else {
                let value = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
                version = step % 2 == 0 ? log.record(writer, start: start, value: value, count: bytes.count)
                    : log.record(writer: log.id(of: writer), start: start, value: value, count: bytes.count)
            }
            expected.append((start, bytes, writer))
            #expect(version == UInt32(expected.count))
        }
        #expect(log.writer(of: 0) == nil && log.value(at: 0x1010, version: 0) == 0xEE)
        for (index, write) in expected.enumerated() {
            let version = UInt32(index + 1)
            #expect(log.writer(of: version) == write.writer)
            for (offset, byte) in write.bytes.enumerated() {
                #expect(log.value(at: write.start + UInt64(offset), version: version) == byte)
            }
            // Bytes the write did not touch: not known to this version.
            #expect(log.value(at: write.start &- 1, version: version) == 0)
            #expect(log.value(at: write.start + UInt64(write.bytes.count), version: version) == 0)
        }
    }
}
