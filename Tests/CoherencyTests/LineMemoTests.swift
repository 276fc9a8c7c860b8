import AArch64
import Testing
@testable import Coherency

/// Lines with the same history share the memo's results: the states, outcomes and failure
/// details must be exactly those of every line explored on its own.
@Suite struct LineMemoTests {
    static let guest = Observer.guest(site: "fill")
    static let nic = Observer.dma(name: "nic", coherent: false)

    /// A deterministic mix of events over 8 lines: the guest fills every line through
    /// Normal-NC (the same way, so histories meet), the VMM writes some through Write-Back
    /// and reads all, a non-coherent DMA writes one, maintenance cleans some; one line is
    /// read by the guest (a value the guest acts on: never memoized).
    static func history(_ model: inout SharedMemoryModel) {
        let base: UInt64 = 0x1000
        var seed: UInt64 = 0x9E37_79B9
        func next(_ bound: UInt64) -> UInt64 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return (seed >> 33) % bound
        }
        for frame in 0..<3 {
            for line in 0..<8 {
                for word in 0..<4 {
                    let address = base + UInt64(line) * 64 + UInt64(word) * 8
                    model.write(.nonCacheable, address: address, bytes: Array(repeating: UInt8(frame + 1), count: 8),
                                by: guest, label: "")
                }
            }
            if frame == 1 {
                model.write(.writeBack, address: base + 64 * 3 + next(56), bytes: [0xAA], by: .vmm, label: "")
                model.write(.nonCoherentDMA, address: base + 64 * 5, bytes: [0xBB, 0xBC], by: nic, label: "")
                model.maintain(.cleanToPoC, address: base + 64 * 6, count: 64, label: "")
            }
            _ = model.read(.writeBack, address: base, count: 8 * 64, by: .vmm, label: "", chooser: nil)
        }
        _ = model.read(.nonCacheable, address: base + 64 * 7, count: 8, by: guest, label: "", chooser: FirstChoice())
        model.write(.nonCacheable, address: base + 64 * 7, bytes: [4], by: guest, label: "")
        model.finish()
    }

    final class FirstChoice: ValueChooser {
        func choose(among count: Int) -> Int { 0 }
    }

    @Test func sharedResultsEqualLineByLineExploration() {
        let region = SharedMemoryModel.Region(name: "fb", base: 0x1000, size: 0x1000, initial: 0, hostCacheable: true)
        var memoized = SharedMemoryModel(regions: [region])
        var alone = SharedMemoryModel(regions: [region], memoize: false)
        Self.history(&memoized)
        Self.history(&alone)
        #expect(memoized.memo!.hits > 0)
        #expect(memoized.lineOrder == alone.lineOrder)
        for line in alone.lineOrder {
            let a = memoized.lines[line]!, b = alone.lines[line]!
            #expect(Set(a.states.states) == Set(b.states.states), "line \(hex(line))")
            #expect(a.outcomes.map(\.failures) == b.outcomes.map(\.failures), "line \(hex(line))")
            #expect(a.cutShort == b.cutShort && a.writeHitsOmitted == b.writeHitsOmitted)
            for failure in Set(b.states.states.flatMap(\.failures)) {
                let memoDetail = memoized.log.details.detail(failure, line: line)
                let aloneDetail = alone.log.details.detail(failure, line: line)
                #expect(memoDetail?.text == aloneDetail?.text, "line \(hex(line)) \(failure)")
                #expect(memoDetail?.address == aloneDetail?.address)
            }
        }
    }
}
