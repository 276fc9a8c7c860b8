import AArch64
import Testing
@testable import Hypervisor

/// Expectations written from the variant definitions (issue 4) and the MAIR encodings
/// (Arm ARM, MAIR_EL1): Device 0b0000dd00; Normal nibbles 0100 NC, 10RW WT, 11RW WB, 00RW WT
/// transient, 01RW WB transient.
@Suite struct MAIRRewriteTests {
    static let linux2015: UInt64 = 0x0000_00FF_440C_0400

    @Test(arguments: [
        // (rule, byte, expected byte)
        (MAIRRewriteRule.none, UInt8(0x00), UInt8(0x00)),
        (.none, 0x44, 0x44),
        (.ncOnly, 0x00, 0x00),        // Device untouched
        (.ncOnly, 0x44, 0xFF),        // NC/NC -> WB RWA
        (.ncOnly, 0x4F, 0xFF),        // outer NC, inner WB: only the NC nibble changes
        (.ncOnly, 0xF4, 0xFF),
        (.ncOnly, 0xBB, 0xBB),        // WT untouched
        (.uncached, 0x00, 0xFF),      // Device-nGnRnE -> WB RWA
        (.uncached, 0x04, 0xFF),
        (.uncached, 0x08, 0xFF),
        (.uncached, 0x0C, 0xFF),
        (.uncached, 0x44, 0xFF),
        (.uncached, 0xBB, 0xBB),      // WT is cached: untouched
        (.uncached, 0xFF, 0xFF),
        (.allCacheable, 0xBB, 0xFF),  // WT RA WA -> WB RA WA
        (.allCacheable, 0xAA, 0xEE),  // WT RA -> WB RA (hints kept)
        (.allCacheable, 0x22, 0x66),  // WT transient RA -> WB transient RA
        (.allCacheable, 0x44, 0xFF),
        (.allCacheable, 0x0C, 0xFF),
        (.allCacheable, 0xEE, 0xEE),  // already WB
        (.allCacheable, 0xF0, 0xF0),  // Tagged Normal stays Tagged
        (.uncached, 0x01, 0x01),      // UNPREDICTABLE (FEAT_XS form): never rewritten
        (.allCacheable, 0x40, 0x40),
    ])
    func oneByte(rule: MAIRRewriteRule, byte: UInt8, expected: UInt8) {
        #expect(MAIRRewrite.rewrite(byte, rule) == expected)
    }

    /// Under `uncached` the 2015 layout's indices 0-3 (Device-*, NC) become WB and index 4 is
    /// WB already. The zero bytes of indices 5-7 are 0x00, Device-nGnRnE by encoding: the
    /// default `all` scope rewrites them too (the RFC's aim: cached stage 1 mappings only);
    /// `defined` keeps them, taking them for the unused tail of Linux's MAIR() layout.
    @Test func linux2015UnderUncached() {
        let (loaded, changes) = MAIRRewrite.apply(.uncached, to: Self.linux2015)
        #expect(loaded == 0xFFFF_FFFF_FFFF_FFFF)
        #expect(changes.map(\.loaded) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(changes[0].effects == [.deviceOrderingWeakened, .gatheringOrSpeculationAllowed, .cacheabilityRaised])
        #expect(changes[3].effects == [.writeCombiningLost, .cacheabilityRaised])
        #expect(changes[4].effects.isEmpty && changes[4].isUnchanged)
        #expect(changes[5].effects == changes[0].effects)
        let (tail, tailChanges) = MAIRRewrite.apply(.uncached, scope: .defined, to: Self.linux2015)
        #expect(tail == 0x0000_00FF_FFFF_FFFF)
        #expect(tailChanges[5].isUnchanged && tailChanges[7].isUnchanged)
    }

    /// `used`: only the indices live descriptors use are rewritten.
    @Test func theUsedScopeRewritesOnlyLiveIndices() {
        let (loaded, changes) = MAIRRewrite.apply(.uncached, scope: .used, to: Self.linux2015, usedIndices: [3, 5])
        #expect(loaded == 0x0000_FFFF_FF0C_0400)   // index 4 is 0xFF already
        #expect(changes.filter { !$0.isUnchanged }.map(\.attrIndx) == [3, 5])
    }

    @Test func linux2015UnderEveryVariant() {
        #expect(MAIRRewrite.apply(.none, to: Self.linux2015).loaded == Self.linux2015)
        #expect(MAIRRewrite.apply(.ncOnly, to: Self.linux2015).loaded == 0x0000_00FF_FF0C_0400)
        #expect(MAIRRewrite.apply(.allCacheable, to: Self.linux2015).loaded == 0xFFFF_FFFF_FFFF_FFFF)
        #expect(MAIRRewrite.apply(.allCacheable, scope: .defined, to: Self.linux2015).loaded == 0x0000_00FF_FFFF_FFFF)
    }

    /// Property over all 256 bytes: after `uncached` or `all-cacheable` nothing decodes as
    /// Device or Non-cacheable unless it was UNPREDICTABLE; `none` is the identity.
    @Test func noUncachedAttributeSurvives() {
        for byte in UInt8.min...UInt8.max {
            #expect(MAIRRewrite.rewrite(byte, .none) == byte)
            for rule in [MAIRRewriteRule.uncached, .allCacheable] {
                switch MemoryAttribute(mairByte: MAIRRewrite.rewrite(byte, rule)) {
                case .device: Issue.record("0x\(String(byte, radix: 16)) stays Device under \(rule)")
                case .normal(let inner, let outer):
                    #expect(inner.cacheability != .nonCacheable && outer.cacheability != .nonCacheable)
                    if rule == .allCacheable {
                        #expect(inner.cacheability == .writeBack && outer.cacheability == .writeBack)
                    }
                case .taggedNormal: #expect(byte == 0xF0)
                case .unpredictable: #expect(MAIRRewrite.rewrite(byte, rule) == byte)
                }
            }
        }
    }
}
