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
}
