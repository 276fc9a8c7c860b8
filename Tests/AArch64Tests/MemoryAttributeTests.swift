import Testing
@testable import AArch64

/// An independent reading of the MAIR_ELx.Attr<n> encoding table (Arm ARM, MAIR_EL1), written as
/// strings so that it shares no code with the decoder.
private enum Reference: Equatable {
    case device(String)
    case normal(inner: String, outer: String)
    case tagged
    case featureXS
    case unpredictable
}

/// The 16 nibble meanings from the table: `oooo`/`iiii` = 00RW WT transient, 0100 NC,
/// 01RW WB transient, 10RW WT, 11RW WB (R = read-allocate, W = write-allocate).
private let nibbleTable: [String?] = [
    nil, "WT transient W", "WT transient R", "WT transient RW",
    "NC", "WB transient W", "WB transient R", "WB transient RW",
    "WT", "WT W", "WT R", "WT RW",
    "WB", "WB W", "WB R", "WB RW",
]

/// The table for a PE with FEAT_MTE2 and without FEAT_XS (`features: .mte2`).
private func referenceClass(_ byte: Int) -> Reference {
    if byte == 0xF0 { return .tagged }
    if byte == 0x40 || byte == 0xA0 { return .featureXS }
    if byte < 0x10 {
        let subtype = ["nGnRnE", "nGnRE", "nGRE", "GRE"][byte / 4]
        switch byte % 4 {
        case 0: return .device(subtype)
        case 1: return .featureXS
        default: return .unpredictable
        }
    }
    if byte % 16 == 0 { return .unpredictable }
    return .normal(inner: nibbleTable[byte % 16]!, outer: nibbleTable[byte / 16]!)
}

private func spelled(_ attribute: NormalCacheAttribute) -> String {
    var text = attribute.cacheability.abbreviation
    if attribute.isTransient { text += " transient" }
    let hints = (attribute.readAllocate ? "R" : "") + (attribute.writeAllocate ? "W" : "")
    if !hints.isEmpty { text += " " + hints }
    return text
}

private func implementationClass(_ attribute: MemoryAttribute) -> Reference {
    switch attribute {
    case .device(let type): .device(type.name)
    case .normal(let inner, let outer): .normal(inner: spelled(inner), outer: spelled(outer))
    case .taggedNormal: .tagged
    case .unpredictable(_, let reason): reason.requiredFeature == "FEAT_XS" ? .featureXS
        : reason.requiredFeature == "FEAT_MTE2" ? .tagged : .unpredictable
    }
}

@Suite("MAIR attribute bytes")
struct MemoryAttributeTests {
    @Test("every byte decodes as the encoding table says", arguments: 0...255)
    func everyByte(byte: Int) {
        let attribute = MemoryAttribute(mairByte: UInt8(byte), features: .mte2)
        #expect(implementationClass(attribute) == referenceClass(byte))
    }

    @Test("every byte round-trips through encode", arguments: 0...255)
    func roundTrip(byte: Int) {
        #expect(MemoryAttribute(mairByte: UInt8(byte)).encoding == UInt8(byte))
    }

    @Test func deviceBytes() {
        #expect(MemoryAttribute(mairByte: 0x00) == .device(.nGnRnE))
        #expect(MemoryAttribute(mairByte: 0x04) == .device(.nGnRE))
        #expect(MemoryAttribute(mairByte: 0x08) == .device(.nGRE))
        #expect(MemoryAttribute(mairByte: 0x0C) == .device(.GRE))
    }

    @Test func normalBytes() throws {
        let nc = try #require(NormalCacheAttribute(cacheability: .nonCacheable))
        #expect(MemoryAttribute(mairByte: 0x44) == .normal(inner: nc, outer: nc))
        let wtRWA = try #require(NormalCacheAttribute(cacheability: .writeThrough, readAllocate: true, writeAllocate: true))
        #expect(MemoryAttribute(mairByte: 0xBB) == .normal(inner: wtRWA, outer: wtRWA))
        let wbRWA = try #require(NormalCacheAttribute(cacheability: .writeBack, readAllocate: true, writeAllocate: true))
        #expect(MemoryAttribute(mairByte: 0xFF) == .normal(inner: wbRWA, outer: wbRWA))
        // 0x4F: outer NC, inner WB RA WA.
        #expect(MemoryAttribute(mairByte: 0x4F) == .normal(inner: wbRWA, outer: nc))
        // 0x11: outer and inner WT transient, write-allocate only.
        let wtTransientW = try #require(NormalCacheAttribute(cacheability: .writeThrough, isTransient: true, writeAllocate: true))
        #expect(MemoryAttribute(mairByte: 0x11) == .normal(inner: wtTransientW, outer: wtTransientW))
        // 0x7C: outer WB transient RA WA, inner WB non-transient, no allocation.
        let wbTransientRWA = try #require(NormalCacheAttribute(cacheability: .writeBack, isTransient: true, readAllocate: true, writeAllocate: true))
        let wbNoAllocate = try #require(NormalCacheAttribute(cacheability: .writeBack))
        #expect(MemoryAttribute(mairByte: 0x7C) == .normal(inner: wbNoAllocate, outer: wbTransientRWA))
    }

    @Test func taggedAndFeatureDependentBytes() throws {
        // Arm ARM, MAIR_ELx: 0xF0 is Tagged Normal only with FEAT_MTE2 (ID_AA64PFR1_EL1.MTE >= 2).
        #expect(MemoryAttribute(mairByte: 0xF0, features: .mte2) == .taggedNormal)
        #expect(MemoryAttribute(mairByte: 0xF0) == .unpredictable(0xF0, .taggedWithoutMTE))
        #expect(CPUFeatures(idAA64PFR1: 0x200, idAA64ISAR1: 0) == .mte2)
        #expect(CPUFeatures(idAA64PFR1: 0x100, idAA64ISAR1: 1 << 56) == .xs)   // MTE 1 is FEAT_MTE only
        // With FEAT_XS the XS forms are defined (XS itself is not modelled).
        #expect(MemoryAttribute(mairByte: 0x01, features: .xs) == .device(.nGnRnE))
        #expect(MemoryAttribute(mairByte: 0x40, features: .xs) == .normal(inner: .nonCacheable, outer: .nonCacheable))
        let nc = try #require(NormalCacheAttribute(cacheability: .nonCacheable))
        #expect(MemoryAttribute(mairByte: 0x40) == .unpredictable(0x40, .normalWithXSZero(nc)))
        let wtRA = try #require(NormalCacheAttribute(cacheability: .writeThrough, readAllocate: true))
        #expect(MemoryAttribute(mairByte: 0xA0) == .unpredictable(0xA0, .normalWithXSZero(wtRA)))
        #expect(MemoryAttribute(mairByte: 0x01) == .unpredictable(0x01, .deviceWithXSZero(.nGnRnE)))
        #expect(MemoryAttribute(mairByte: 0x0D) == .unpredictable(0x0D, .deviceWithXSZero(.GRE)))
        #expect(MemoryAttribute(mairByte: 0x02) == .unpredictable(0x02, .reservedDevice))
        #expect(MemoryAttribute(mairByte: 0x0B) == .unpredictable(0x0B, .reservedDevice))
        #expect(MemoryAttribute(mairByte: 0x10) == .unpredictable(0x10, .reservedNormal))
        #expect(MemoryAttribute(mairByte: 0xE0) == .unpredictable(0xE0, .reservedNormal))
        #expect(UnpredictableReason.deviceWithXSZero(.nGnRE).requiredFeature == "FEAT_XS")
        #expect(UnpredictableReason.reservedNormal.requiredFeature == nil)
    }

    @Test("every non-zero nibble round-trips", arguments: 1...15)
    func nibbleRoundTrip(nibble: Int) throws {
        let attribute = try #require(NormalCacheAttribute(nibble: UInt8(nibble)))
        #expect(attribute.nibble == UInt8(nibble))
    }

    @Test func unencodableNibblesAreRejected() {
        #expect(NormalCacheAttribute(nibble: 0) == nil)
        #expect(NormalCacheAttribute(nibble: 0x10) == nil)
        #expect(NormalCacheAttribute(cacheability: .nonCacheable, readAllocate: true) == nil)
        #expect(NormalCacheAttribute(cacheability: .nonCacheable, isTransient: true) == nil)
        #expect(NormalCacheAttribute(cacheability: .writeBack, isTransient: true) == nil)
        #expect(NormalCacheAttribute(cacheability: .writeThrough, isTransient: true) == nil)
        #expect(NormalCacheAttribute(cacheability: .writeThrough, isTransient: true, readAllocate: true)?.nibble == 0b0010)
    }

    @Test func descriptions() {
        #expect(MemoryAttribute(mairByte: 0x00).description == "Device-nGnRnE")
        #expect(MemoryAttribute(mairByte: 0x44).description == "Normal Non-cacheable")
        #expect(MemoryAttribute(mairByte: 0xFF).description == "Normal Write-Back RA WA")
        #expect(MemoryAttribute(mairByte: 0x4F).description == "Normal Inner Write-Back RA WA, Outer Non-cacheable")
        #expect(MemoryAttribute(mairByte: 0x02).description == "UNPREDICTABLE (0x02: 0b0000dd1x is UNPREDICTABLE)")
    }
}

@Suite("MAIR_EL1 register")
struct MAIRTests {
    // Linux's 2015 layout: 0 nGnRnE, 1 nGnRE, 2 GRE, 3 NC, 4 Normal WB, computed from the layout.
    let linux2015 = MAIR(rawValue: 0x0000_00FF_440C_0400)

    @Test func attributesByIndex() {
        #expect(linux2015[attrIndx: 0] == .device(.nGnRnE))
        #expect(linux2015[attrIndx: 1] == .device(.nGnRE))
        #expect(linux2015[attrIndx: 2] == .device(.GRE))
        #expect(linux2015[attrIndx: 3] == MemoryAttribute(mairByte: 0x44))
        #expect(linux2015[attrIndx: 4] == MemoryAttribute(mairByte: 0xFF))
        #expect(linux2015[attrIndx: 7] == .device(.nGnRnE))
        #expect(linux2015.attributes.map(\.encoding) == [0x00, 0x04, 0x0C, 0x44, 0xFF, 0x00, 0x00, 0x00])
        #expect(linux2015.byte(attrIndx: 3) == 0x44)
    }

    @Test func replacingAByteLeavesTheOthers() {
        // The RFC's rewrite: Normal-NC at index 3 becomes Normal WB.
        let rewritten = linux2015.replacingByte(attrIndx: 3, with: 0xFF)
        #expect(rewritten.rawValue == 0x0000_00FF_FF0C_0400)
        var edited = linux2015
        edited[attrIndx: 7] = .taggedNormal
        #expect(edited.rawValue == 0xF000_00FF_440C_0400)
        #expect(linux2015.description == "MAIR 0x000000FF440C0400")
    }
}

@Suite("stage 2 MemAttr")
struct Stage2MemoryAttributeTests {
    /// The Arm ARM's stage 2 MemAttr tables, written out: FWB = 0 then FWB = 1, MemAttr 0...15.
    static let expected: [(UInt8, Bool, Stage2MemoryAttribute)] = [
        (0x0, false, .device(.nGnRnE)), (0x1, false, .device(.nGnRE)), (0x2, false, .device(.nGRE)), (0x3, false, .device(.GRE)),
        (0x4, false, .reserved(memAttr: 0x4, fwb: false)),
        (0x5, false, .normal(inner: .nonCacheable, outer: .nonCacheable)),
        (0x6, false, .normal(inner: .writeThrough, outer: .nonCacheable)),
        (0x7, false, .normal(inner: .writeBack, outer: .nonCacheable)),
        (0x8, false, .reserved(memAttr: 0x8, fwb: false)),
        (0x9, false, .normal(inner: .nonCacheable, outer: .writeThrough)),
        (0xA, false, .normal(inner: .writeThrough, outer: .writeThrough)),
        (0xB, false, .normal(inner: .writeBack, outer: .writeThrough)),
        (0xC, false, .reserved(memAttr: 0xC, fwb: false)),
        (0xD, false, .normal(inner: .nonCacheable, outer: .writeBack)),
        (0xE, false, .normal(inner: .writeThrough, outer: .writeBack)),
        (0xF, false, .normal(inner: .writeBack, outer: .writeBack)),
        (0x0, true, .device(.nGnRnE)), (0x1, true, .device(.nGnRE)), (0x2, true, .device(.nGRE)), (0x3, true, .device(.GRE)),
        (0x4, true, .reserved(memAttr: 0x4, fwb: true)),
        (0x5, true, .nonCacheable), (0x6, true, .forceWriteBack), (0x7, true, .useStage1),
    ] + (0x8...0xF).map { (UInt8($0), true, Stage2MemoryAttribute.reserved(memAttr: UInt8($0), fwb: true)) }

    @Test func everyEncoding() {
        #expect(Self.expected.count == 32)
        for (memAttr, fwb, meaning) in Self.expected {
            let decoded = Stage2MemoryAttribute(memAttr: memAttr, fwb: fwb)
            #expect(decoded == meaning, "MemAttr \(memAttr) FWB \(fwb)")
            #expect(decoded.memAttr == memAttr)
            #expect(Stage2MemoryAttribute(memAttr: decoded.memAttr, fwb: fwb) == decoded)
        }
    }

    @Test func kvmValues() {
        // KVM: 0xF Normal WB, 0x5 Normal NC, 0x1 Device-nGnRE.
        #expect(Stage2MemoryAttribute(memAttr: 0xF, fwb: false) == .normal(inner: .writeBack, outer: .writeBack))
        #expect(Stage2MemoryAttribute(memAttr: 0x5, fwb: false) == .normal(inner: .nonCacheable, outer: .nonCacheable))
        #expect(Stage2MemoryAttribute(memAttr: 0x1, fwb: false) == .device(.nGnRE))
        #expect(Stage2MemoryAttribute(memAttr: 0x5, fwb: false).isReserved == false)
        #expect(Stage2MemoryAttribute(memAttr: 0x4, fwb: true).isReserved)
    }
}

@Suite("shareability")
struct ShareabilityTests {
    @Test func decode() {
        #expect(Shareability(sh: 0b00) == .nonShareable)
        #expect(Shareability(sh: 0b01) == .reserved)
        #expect(Shareability(sh: 0b10) == .outerShareable)
        #expect(Shareability(sh: 0b11) == .innerShareable)
        #expect(Shareability(sh: 0b110) == .outerShareable)
    }

    @Test func combiningTakesTheWiderDomain() {
        let cases: [(Shareability, Shareability, Shareability)] = [
            (.nonShareable, .nonShareable, .nonShareable),
            (.nonShareable, .innerShareable, .innerShareable),
            (.innerShareable, .nonShareable, .innerShareable),
            (.innerShareable, .outerShareable, .outerShareable),
            (.outerShareable, .nonShareable, .outerShareable),
            (.reserved, .outerShareable, .outerShareable),
            (.reserved, .innerShareable, .reserved),
            (.nonShareable, .reserved, .reserved),
        ]
        for (stage1, stage2, expected) in cases {
            #expect(Shareability.combining(stage1, stage2) == expected)
        }
    }
}
