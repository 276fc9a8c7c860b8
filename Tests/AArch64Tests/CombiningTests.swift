import Testing
@testable import AArch64

/// The combining rules re-stated with plain integers, independently of the implementation:
/// Device subtypes 0 (nGnRnE, strictest) ... 3 (GRE); cacheability 0 NC, 1 WT, 2 WB.
private enum Ref: Equatable {
    case device(Int)
    case normal(inner: Int, outer: Int)
    case unpredictable
}

private func rank(ofNibble nibble: Int) -> Int {
    if nibble == 0b0100 { return 0 }
    return (nibble >> 2) % 2 == 0 ? 1 : 2  // 00RW / 10RW write-through, 01RW / 11RW write-back
}

private func referenceStage1(_ byte: Int) -> Ref {
    if [0x00, 0x04, 0x08, 0x0C].contains(byte) { return .device(byte / 4) }
    if byte == 0xF0 { return .normal(inner: 2, outer: 2) }
    if byte / 16 == 0 || byte % 16 == 0 { return .unpredictable }
    return .normal(inner: rank(ofNibble: byte % 16), outer: rank(ofNibble: byte / 16))
}

private func referenceCombine(stage1 byte: Int, stage2 memAttr: Int, fwb: Bool) -> Ref {
    let stage1 = referenceStage1(byte)
    if stage1 == .unpredictable { return .unpredictable }
    if fwb {
        switch memAttr {
        case 0...3:
            if case .device(let s1) = stage1 { return .device(min(s1, memAttr)) }
            return .device(memAttr)
        case 5:
            if case .device = stage1 { return stage1 }
            return .normal(inner: 0, outer: 0)
        case 6: return .normal(inner: 2, outer: 2)
        case 7: return stage1
        default: return .unpredictable
        }
    }
    let outerCode = memAttr >> 2, innerCode = memAttr & 3
    if outerCode == 0 {
        if case .device(let s1) = stage1 { return .device(min(s1, innerCode)) }
        return .device(innerCode)
    }
    if innerCode == 0 { return .unpredictable }
    switch stage1 {
    case .device: return stage1
    case .normal(let inner, let outer): return .normal(inner: min(inner, innerCode - 1), outer: min(outer, outerCode - 1))
    case .unpredictable: return .unpredictable
    }
}

private func referenceClass(_ combined: CombinedAttributes) -> Ref {
    switch combined.attribute {
    case .device(let type)?: .device(Int(type.rawValue))
    case .normal(let inner, let outer)?: .normal(inner: inner.cacheability.rawValue, outer: outer.cacheability.rawValue)
    case .taggedNormal?: .normal(inner: 2, outer: 2)
    case .unpredictable?, nil: .unpredictable
    }
}

/// "At least as restrictive": Device is more restrictive than Normal; a stricter subtype, or a
/// less cacheable level, is more restrictive.
private func isAtLeastAsRestrictive(_ result: Ref, as input: Ref) -> Bool {
    switch (result, input) {
    case (.device(let r), .device(let i)): r <= i
    case (.device, .normal): true
    case (.normal, .device): false
    case (.normal(let ri, let ro), .normal(let ii, let io)): ri <= ii && ro <= io
    default: false
    }
}

private func combine(_ stage1: UInt8, _ stage2: UInt8, fwb: Bool,
                     sh1: Shareability = .innerShareable, sh2: Shareability = .innerShareable) -> CombinedAttributes {
    AttributeCombiner.combine(
        stage1: Stage1Attributes(attribute: MemoryAttribute(mairByte: stage1, features: .mte2), shareability: sh1),
        stage2: Stage2Attributes(memAttr: stage2, fwb: fwb, shareability: sh2)
    )
}

private let allInputs: [(Int, Int)] = (0...255).flatMap { s1 in (0...15).map { (s1, $0) } }

@Suite("combining stage 1 and stage 2")
struct CombiningTests {
    @Test("every S1 x S2 x FWB matches the rules", arguments: [false, true])
    func everyCombination(fwb: Bool) {
        for (s1, s2) in allInputs {
            let combined = combine(UInt8(s1), UInt8(s2), fwb: fwb)
            #expect(referenceClass(combined) == referenceCombine(stage1: s1, stage2: s2, fwb: fwb), "S1 \(s1) S2 \(s2) FWB \(fwb)")
            #expect(combined.isUnpredictable == (combined.attribute == nil))
            #expect(combined.attribute?.isUnpredictable != true, "a defined result is never an unpredictable byte")
        }
    }

    @Test func fwbOffIsNeverLessRestrictiveThanEitherStage() {
        for (s1, s2) in allInputs {
            let result = referenceClass(combine(UInt8(s1), UInt8(s2), fwb: false))
            guard result != .unpredictable else { continue }
            let stage2: Ref = s2 >> 2 == 0 ? .device(s2 & 3) : .normal(inner: (s2 & 3) - 1, outer: (s2 >> 2) - 1)
            #expect(isAtLeastAsRestrictive(result, as: referenceStage1(s1)), "S1 \(s1) S2 \(s2)")
            #expect(isAtLeastAsRestrictive(result, as: stage2), "S1 \(s1) S2 \(s2)")
        }
    }

    @Test func fwbForceWriteBackIsAlwaysWriteBack() {
        for s1 in 0...255 {
            let combined = combine(UInt8(s1), 0b110, fwb: true)
            if referenceStage1(s1) == .unpredictable {
                #expect(combined.isUnpredictable)
                continue
            }
            #expect(combined.rule == .forcedWriteBack)
            switch combined.attribute {
            case .normal(let inner, let outer)?:
                #expect(inner.cacheability == .writeBack && outer.cacheability == .writeBack, "S1 \(s1)")
            case .taggedNormal?:
                #expect(s1 == 0xF0)
            default:
                Issue.record("S1 \(s1) with forced WB gave \(combined)")
            }
        }
    }

    @Test func fwbUseStage1IsStage1() {
        for s1 in 0...255 where referenceStage1(s1) != .unpredictable {
            let combined = combine(UInt8(s1), 0b111, fwb: true)
            #expect(combined.attribute?.encoding == UInt8(s1))
            #expect(combined.rule == .stage1Unchanged)
        }
    }

    @Test func allocationHintsComeFromStage1() {
        for (s1, s2) in allInputs {
            guard case .normal(let inner1, let outer1) = MemoryAttribute(mairByte: UInt8(s1), features: .mte2),
                  case .normal(let inner, let outer)? = combine(UInt8(s1), UInt8(s2), fwb: false).attribute
            else { continue }
            for (result, stage1) in [(inner, inner1), (outer, outer1)] where result.cacheability != .nonCacheable {
                #expect(result.readAllocate == stage1.readAllocate && result.writeAllocate == stage1.writeAllocate
                    && result.isTransient == stage1.isTransient, "S1 \(s1) S2 \(s2)")
            }
        }
    }

    @Test("shareability with both stages Inner Shareable", arguments: [false, true])
    func shareability(fwb: Bool) {
        for (s1, s2) in allInputs {
            let combined = combine(UInt8(s1), UInt8(s2), fwb: fwb)
            let result = referenceClass(combined)
            guard result != .unpredictable else {
                #expect(combined.shareability == nil)
                continue
            }
            // Device and NC/NC are Outer Shareable, at stage 1 (before combining) and in the result.
            let outerByType: (Ref) -> Bool = { $0 == .normal(inner: 0, outer: 0) || { if case .device = $0 { true } else { false } }($0) }
            let expected: Shareability = outerByType(result) || outerByType(referenceStage1(s1)) ? .outerShareable : .innerShareable
            #expect(combined.shareability == expected, "S1 \(s1) S2 \(s2) FWB \(fwb)")
        }
    }

    @Test func shareabilityTakesTheWiderOfTheStages() {
        #expect(combine(0xFF, 0xF, fwb: false, sh1: .nonShareable, sh2: .nonShareable).shareability == .nonShareable)
        #expect(combine(0xFF, 0xF, fwb: false, sh1: .nonShareable, sh2: .innerShareable).shareability == .innerShareable)
        #expect(combine(0xFF, 0xF, fwb: false, sh1: .outerShareable, sh2: .innerShareable).shareability == .outerShareable)
        #expect(combine(0xFF, 0x7, fwb: true, sh1: .innerShareable, sh2: .outerShareable).shareability == .outerShareable)
        // A Device or NC result is Outer Shareable whatever both SH fields say.
        #expect(combine(0x00, 0xF, fwb: false, sh1: .nonShareable, sh2: .nonShareable).shareability == .outerShareable)
        #expect(combine(0xFF, 0x5, fwb: false, sh1: .nonShareable, sh2: .nonShareable).shareability == .outerShareable)
        // Outer NC, inner WB is not "Non-cacheable" for shareability.
        #expect(combine(0x4F, 0xF, fwb: false, sh1: .nonShareable, sh2: .nonShareable).shareability == .nonShareable)
        #expect(combine(0xFF, 0xF, fwb: false, sh1: .reserved, sh2: .innerShareable).shareability == .reserved)
    }

    // One case per rule, expected values from the Arm ARM's rules.

    @Test func the2015ProblemCaseUncachedStage1Wins() throws {
        let combined = combine(0x44, 0xF, fwb: false)
        let nc = try #require(NormalCacheAttribute(cacheability: .nonCacheable))
        #expect(combined.effective == .defined(.normal(inner: nc, outer: nc), .outerShareable))
        #expect(combined.rule == .moreRestrictiveCacheability(
            stage1: CacheabilityPair(inner: .nonCacheable, outer: .nonCacheable),
            stage2: CacheabilityPair(inner: .writeBack, outer: .writeBack)))
        #expect(combined.rule.description == "S1 Normal-NC with S2 Normal-WB: the more restrictive cacheability (NC) wins, per nibble; allocation hints come from stage 1")
        #expect(combined.rule.pseudocode == "S2CombineS1AttrHints")
    }

    @Test func fwbForcesWriteBackOverUncachedStage1() throws {
        let combined = combine(0x44, 0x6, fwb: true)
        let wb = try #require(NormalCacheAttribute(cacheability: .writeBack, readAllocate: true, writeAllocate: true))
        // Stage 1 NC had no hints: forced WB is Read-Write-Allocate, Outer Shareable (stage 1 NC).
        #expect(combined.effective == .defined(.normal(inner: wb, outer: wb), .outerShareable))
        #expect(combined.rule == .forcedWriteBack)
    }

    @Test func fwbForcedWriteBackKeepsStage1Hints() throws {
        // 0xAA: WT RA at both levels; forced to WB RA (hints kept), Inner Shareable.
        let wbRA = try #require(NormalCacheAttribute(cacheability: .writeBack, readAllocate: true))
        #expect(combine(0xAA, 0x6, fwb: true).effective == .defined(.normal(inner: wbRA, outer: wbRA), .innerShareable))
        // 0x4E: outer NC -> WB RWA, inner WB RA kept.
        let wbRWA = try #require(NormalCacheAttribute(cacheability: .writeBack, readAllocate: true, writeAllocate: true))
        #expect(combine(0x4E, 0x6, fwb: true).attribute == .normal(inner: wbRA, outer: wbRWA))
    }

    @Test func deviceRules() {
        #expect(combine(0x00, 0x1, fwb: false).effective == .defined(.device(.nGnRnE), .outerShareable))
        #expect(combine(0x00, 0x1, fwb: false).rule == .strongerDeviceType(stage1: .nGnRnE, stage2: .nGnRE))
        #expect(combine(0x0C, 0x1, fwb: false).attribute == .device(.nGnRE))
        #expect(combine(0x0C, 0x2, fwb: true).attribute == .device(.nGRE))
        #expect(combine(0x04, 0xF, fwb: false).effective == .defined(.device(.nGnRE), .outerShareable))
        #expect(combine(0x04, 0xF, fwb: false).rule == .stage1Device(.nGnRE))
        #expect(combine(0xFF, 0x1, fwb: false).attribute == .device(.nGnRE))
        #expect(combine(0xFF, 0x1, fwb: false).rule == .stage2Device(.nGnRE))
        #expect(combine(0xFF, 0x0, fwb: true).rule == .stage2Device(.nGnRnE))
        #expect(combine(0x08, 0x5, fwb: true).attribute == .device(.nGRE))
        #expect(combine(0x08, 0x5, fwb: true).rule == .stage1DeviceOverNonCacheable(.nGRE))
        #expect(combine(0x0C, 0x7, fwb: true).attribute == .device(.GRE))
        #expect(combine(0x0C, 0x7, fwb: true).rule == .stage1Unchanged)
    }

    @Test func writeThroughAndNonCacheableStage2() throws {
        // S1 WB RA WA with S2 WT: WT keeping RA WA.
        let wtRWA = try #require(NormalCacheAttribute(cacheability: .writeThrough, readAllocate: true, writeAllocate: true))
        #expect(combine(0xFF, 0xA, fwb: false).effective == .defined(.normal(inner: wtRWA, outer: wtRWA), .innerShareable))
        // S1 WB with S2 outer NC, inner WB: outer NC, inner keeps WB.
        let wbRWA = try #require(NormalCacheAttribute(cacheability: .writeBack, readAllocate: true, writeAllocate: true))
        #expect(combine(0xFF, 0x7, fwb: false).attribute == .normal(inner: wbRWA, outer: .nonCacheable))
        #expect(combine(0xFF, 0x5, fwb: true).attribute == .normal(inner: .nonCacheable, outer: .nonCacheable))
        #expect(combine(0xFF, 0x5, fwb: true).rule == .forcedNonCacheable)
    }

    @Test func taggedNormal() throws {
        #expect(combine(0xF0, 0xF, fwb: false).attribute == .taggedNormal)
        #expect(combine(0xF0, 0x6, fwb: true).attribute == .taggedNormal)
        #expect(combine(0xF0, 0x7, fwb: true).attribute == .taggedNormal)
        let wtRWA = try #require(NormalCacheAttribute(cacheability: .writeThrough, readAllocate: true, writeAllocate: true))
        #expect(combine(0xF0, 0xA, fwb: false).attribute == .normal(inner: wtRWA, outer: wtRWA))
        #expect(combine(0xF0, 0x5, fwb: true).attribute == .normal(inner: .nonCacheable, outer: .nonCacheable))
    }

    @Test func unpredictableInputsPropagate() {
        #expect(combine(0x02, 0xF, fwb: false).effective == .unpredictable)
        #expect(combine(0x02, 0xF, fwb: false).rule == .unpredictableStage1(mairByte: 0x02, reason: .reservedDevice))
        #expect(combine(0x40, 0x6, fwb: true).isUnpredictable)
        #expect(combine(0xFF, 0x4, fwb: false).rule == .reservedStage2(memAttr: 0x4, fwb: false))
        #expect(combine(0xFF, 0x4, fwb: true).rule == .reservedStage2(memAttr: 0x4, fwb: true))
        #expect(combine(0xFF, 0xE, fwb: true).rule == .reservedStage2(memAttr: 0xE, fwb: true))
        #expect(combine(0xFF, 0xC, fwb: false).isUnpredictable)
    }
}

@Suite("stage 1 disabled")
struct TranslationDisabledTests {
    let mOff: UInt64 = 0
    let iOn: UInt64 = 1 << 12
    let dcOn: UInt64 = 1 << 12

    @Test func dataIsDeviceNGnRnE() {
        let attributes = Stage1Attributes.translationDisabled(access: .data, sctlrEL1: mOff, hcrEL2: 0)
        #expect(attributes == Stage1Attributes(attribute: .device(.nGnRnE), shareability: .outerShareable))
    }

    @Test func instructionFetchesFollowSCTLRI() throws {
        let nc = try #require(NormalCacheAttribute(cacheability: .nonCacheable))
        #expect(Stage1Attributes.translationDisabled(access: .instructionFetch, sctlrEL1: mOff, hcrEL2: 0)
            == Stage1Attributes(attribute: .normal(inner: nc, outer: nc), shareability: .outerShareable))
        // I = 1: Inner/Outer Write-Through, Read-Allocate, no Write-Allocate, i.e. MAIR 0xAA.
        let fetch = Stage1Attributes.translationDisabled(access: .instructionFetch, sctlrEL1: iOn, hcrEL2: 0)
        #expect(fetch.attribute.encoding == 0xAA)
        #expect(fetch.shareability == .outerShareable)
    }

    @Test func hcrDCMakesEverythingWriteBackNonShareable() {
        for access in [AccessKind.data, .instructionFetch] {
            let attributes = Stage1Attributes.translationDisabled(access: access, sctlrEL1: mOff, hcrEL2: dcOn)
            #expect(attributes.attribute.encoding == 0xFF)
            #expect(attributes.shareability == .nonShareable)
        }
    }

    @Test func stage2StillCombines() {
        let data = Stage1Attributes.translationDisabled(access: .data, sctlrEL1: mOff, hcrEL2: 0)
        let kvmRAM = Stage2Attributes(memAttr: 0xF, fwb: false, shareability: .innerShareable)
        // The MMU-off window: the guest's accesses are Device whatever stage 2 says, without FWB.
        #expect(AttributeCombiner.combine(stage1: data, stage2: kvmRAM).attribute == .device(.nGnRnE))
        let forced = Stage2Attributes(memAttr: 0x6, fwb: true, shareability: .innerShareable)
        #expect(AttributeCombiner.combine(stage1: data, stage2: forced).attribute?.encoding == 0xFF)
        let dc = Stage1Attributes.translationDisabled(access: .data, sctlrEL1: mOff, hcrEL2: dcOn)
        let combined = AttributeCombiner.combine(stage1: dc, stage2: kvmRAM)
        #expect(combined.effective == .defined(MemoryAttribute(mairByte: 0xFF), .innerShareable))
    }
}
