import Testing
@testable import AArch64

/// Physical memory as a dictionary of 64-bit words; absent words read as 0 (an invalid
/// descriptor); addresses in `failing` throw, as a bus error would.
struct FakeMemory: TranslationTableReader {
    struct BusError: Error {}

    var words: [UInt64: UInt64] = [:]
    var failing: Set<UInt64> = []

    func readDescriptor(at physicalAddress: UInt64) throws -> UInt64 {
        if failing.contains(physicalAddress) { throw BusError() }
        return words[physicalAddress] ?? 0
    }

    mutating func set(table: UInt64, index: UInt64, _ descriptor: UInt64) {
        words[table + 8 * index] = descriptor
    }
}

// Descriptor builders from the VMSAv8-64 format: bits [1:0] 11 table/page, 01 block;
// AttrIndx [4:2] (stage 2: MemAttr [5:2]), AP/S2AP [7:6], SH [9:8], AF 10, nG 11, PXN 53, UXN/XN 54.
func table(_ next: UInt64, attributes: UInt64 = 0) -> UInt64 { next | attributes | 0b11 }

func leaf(_ output: UInt64, page: Bool, attr: UInt64, ap: UInt64 = 0, sh: UInt64 = 0b11, af: Bool = true,
          nG: Bool = false, pxn: Bool = false, uxn: Bool = false) -> UInt64 {
    output | attr << 2 | ap << 6 | sh << 8 | (af ? 1 << 10 : 0) | (nG ? 1 << 11 : 0)
        | (pxn ? 1 << 53 : 0) | (uxn ? 1 << 54 : 0) | (page ? 0b11 : 0b01)
}

func block(_ output: UInt64, attr: UInt64, ap: UInt64 = 0, sh: UInt64 = 0b11, af: Bool = true) -> UInt64 {
    leaf(output, page: false, attr: attr, ap: ap, sh: sh, af: af)
}

func page(_ output: UInt64, attr: UInt64, ap: UInt64 = 0, sh: UInt64 = 0b11, af: Bool = true) -> UInt64 {
    leaf(output, page: true, attr: attr, ap: ap, sh: sh, af: af)
}

func expectFault(_ kind: TranslationFault.Kind, level: Int, visited: [UInt64]? = nil,
                 _ body: () throws(TranslationError) -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        try body()
        Issue.record("expected \(kind) at level \(level), got a translation", sourceLocation: sourceLocation)
    } catch .fault(let fault) {
        #expect(fault.kind == kind, sourceLocation: sourceLocation)
        #expect(fault.level == level, sourceLocation: sourceLocation)
        if let visited { #expect(fault.descriptorAddresses == visited, sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected \(kind) at level \(level), got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("stage 1 walk, 4KB granule")
struct Stage1WalkerTests {
    // TCR_EL1: T0SZ = T1SZ = 16 (48-bit VAs, start level 0), TG0 = 0b00 and TG1 = 0b10 (4KB),
    // IPS = 0b101 (48 bits).
    static let tcr48: UInt64 = 16 | 16 << 16 | 0b10 << 30 | 0b101 << 32
    /// SCTLR_EL1.M and .C: the MMU and the data caches on (with C = 0 every Normal data
    /// access would be Non-cacheable; `cachesOffMakeNormalNonCacheable` checks that).
    static let mOn: UInt64 = 0b101
    // MAIR: index 3 Normal NC (0x44), index 4 Normal WB (0xFF), index 0 Device-nGnRnE.
    static let mair: UInt64 = 0x0000_00FF_4400_0000

    // Tables: TTBR0 L0 at 0x1000_0000 -> L1 at 0x1000_1000 -> L2 at 0x1000_2000 -> L3 at 0x1000_3000.
    static let l0: UInt64 = 0x1000_0000, l1: UInt64 = 0x1000_1000, l2: UInt64 = 0x1000_2000, l3: UInt64 = 0x1000_3000
    // TTBR1 L0 at 0x2000_0000 -> L1 at 0x2000_1000.
    static let upperL0: UInt64 = 0x2000_0000, upperL1: UInt64 = 0x2000_1000

    static var memory: FakeMemory {
        var memory = FakeMemory()
        memory.set(table: l0, index: 0, table(l1))
        memory.set(table: l1, index: 1, block(0x8000_0000, attr: 4))            // VA 0x4000_0000: 1GB block
        memory.set(table: l1, index: 2, table(l2))
        memory.set(table: l2, index: 1, block(0x4060_0000, attr: 3, sh: 0b10))  // VA 0x8020_0000: 2MB block
        memory.set(table: l2, index: 2, table(l3))
        memory.set(table: l3, index: 5, page(0x4100_0000, attr: 4))             // VA 0x8040_5000
        memory.set(table: l3, index: 6, page(0x4100_0000, attr: 3))             // VA 0x8040_6000: alias, NC
        memory.set(table: upperL0, index: 511, table(upperL1))
        memory.set(table: upperL1, index: 511, block(0x4000_0000, attr: 0, sh: 0b10))  // VA 0xFFFF_FFFF_C000_0000
        return memory
    }

    func walker(tcr: UInt64 = tcr48, ttbr0: UInt64 = l0, ttbr1: UInt64 = upperL0, sctlr: UInt64 = mOn,
                hcr: UInt64 = 0, range: PhysicalAddressSize = .bits48) -> Stage1Walker {
        Stage1Walker(tcrEL1: tcr, ttbr0EL1: ttbr0, ttbr1EL1: ttbr1, sctlrEL1: sctlr, mairEL1: Self.mair,
                     hcrEL2: hcr, physicalAddressRange: range)
    }

    @Test func level1Block() throws {
        let translation = try walker().translate(0x4012_3456, reader: Self.memory)
        #expect(translation.outputAddress == 0x8012_3456)
        let walk = try #require(translation.walk)
        #expect(walk.level == 1)
        #expect(walk.blockSize == 1 << 30)
        #expect(walk.attrIndx == 4)
        #expect(walk.translationTableBase == .ttbr0)
        #expect(walk.descriptorAddresses == [Self.l0, Self.l1 + 8])
        #expect(translation.attributes == Stage1Attributes(attribute: MemoryAttribute(mairByte: 0xFF), shareability: .innerShareable))
    }

    @Test func level2Block() throws {
        let translation = try walker().translate(0x8020_1234, reader: Self.memory)
        #expect(translation.outputAddress == 0x4060_1234)
        let walk = try #require(translation.walk)
        #expect(walk.level == 2)
        #expect(walk.blockSize == 2 << 20)
        #expect(walk.shareability == .outerShareable)
        #expect(walk.descriptorAddresses == [Self.l0, Self.l1 + 16, Self.l2 + 8])
        #expect(translation.attributes.attribute == MemoryAttribute(mairByte: 0x44))
    }

    @Test func level3PagesAliasingOnePhysicalAddress() throws {
        let cached = try walker().translate(0x8040_5ABC, reader: Self.memory)
        let uncached = try walker().translate(0x8040_6ABC, reader: Self.memory)
        #expect(cached.outputAddress == 0x4100_0ABC)
        #expect(uncached.outputAddress == 0x4100_0ABC)
        #expect(cached.walk?.level == 3)
        #expect(cached.walk?.blockSize == 4096)
        #expect(cached.walk?.descriptorAddresses == [Self.l0, Self.l1 + 16, Self.l2 + 16, Self.l3 + 40])
        #expect(cached.walk?.attrIndx == 4)
        #expect(uncached.walk?.attrIndx == 3)
        #expect(cached.attributes.attribute.encoding == 0xFF)
        #expect(uncached.attributes.attribute.encoding == 0x44)
    }

    @Test func ttbr1Addresses() throws {
        let translation = try walker().translate(0xFFFF_FFFF_C000_1000, reader: Self.memory)
        #expect(translation.outputAddress == 0x4000_1000)
        #expect(translation.walk?.translationTableBase == .ttbr1)
        #expect(translation.walk?.descriptorAddresses == [Self.upperL0 + 511 * 8, Self.upperL1 + 511 * 8])
        #expect(translation.attributes == Stage1Attributes(attribute: .device(.nGnRnE), shareability: .outerShareable))
    }

    @Test func thirtyNineBitVAsStartAtLevel1() throws {
        // T0SZ = 25: 39-bit VAs, the TTBR0 table is a level 1 table.
        let tcr: UInt64 = 25 | 16 << 16 | 0b10 << 30 | 0b101 << 32
        let translation = try walker(tcr: tcr, ttbr0: Self.l1).translate(0x8040_5000, reader: Self.memory)
        #expect(translation.outputAddress == 0x4100_0000)
        #expect(translation.walk?.descriptorAddresses == [Self.l1 + 16, Self.l2 + 16, Self.l3 + 40])
        // Bit 39 is outside a 39-bit range.
        expectFault(.translation, level: 0, visited: []) { () throws(TranslationError) in
            _ = try walker(tcr: tcr, ttbr0: Self.l1).translate(0x80_0000_0000, reader: Self.memory)
        }
    }

    @Test func leafFieldsAndHierarchicalPermissions() throws {
        var memory = Self.memory
        // L1[3] -> L2 table at 0x1000_4000 with APTable = 0b10 (read-only) and PXNTable.
        memory.set(table: Self.l1, index: 3, table(0x1000_4000, attributes: 1 << 62 | 1 << 59))
        memory.set(table: 0x1000_4000, index: 0, leaf(0x5000_0000, page: false, attr: 4, ap: 0b01, nG: true, uxn: true))
        let walk = try #require(try walker().translate(0xC000_0000, reader: memory).walk)
        #expect(walk.accessPermissions == 0b11)  // AP[2] forced to 1: EL1 and EL0 read-only
        #expect(walk.privilegedExecuteNever)
        #expect(walk.unprivilegedExecuteNever)
        #expect(walk.notGlobal)
        // TCR_EL1.HPD0 (bit 41) disables the table controls.
        let hpd = try #require(try walker(tcr: Self.tcr48 | 1 << 41).translate(0xC000_0000, reader: memory).walk)
        #expect(hpd.accessPermissions == 0b01)
        #expect(hpd.privilegedExecuteNever == false)
        // APTable[0] (bit 61) removes EL0 access: AP[1] cleared.
        memory.set(table: Self.l1, index: 3, table(0x1000_4000, attributes: 1 << 61))
        let noEL0 = try #require(try walker().translate(0xC000_0000, reader: memory).walk)
        #expect(noEL0.accessPermissions == 0b00)
    }

    @Test func topByteIgnored() throws {
        // TBI0 (bit 37): bits [63:56] do not take part in the range check.
        let translation = try walker(tcr: Self.tcr48 | 1 << 37).translate(0xAB00_0000_4000_1000, reader: Self.memory)
        #expect(translation.outputAddress == 0x8000_1000)
        expectFault(.translation, level: 0, visited: []) { () throws(TranslationError) in
            _ = try walker().translate(0xAB00_0000_4000_1000, reader: Self.memory)
        }
    }

    @Test func translationFaultAtEachLevel() {
        let memory = Self.memory
        expectFault(.translation, level: 0, visited: [Self.l0 + 8]) { () throws(TranslationError) in
            _ = try walker().translate(0x0000_0080_0000_0000, reader: memory)
        }
        expectFault(.translation, level: 1, visited: [Self.l0, Self.l1 + 24]) { () throws(TranslationError) in
            _ = try walker().translate(0xC000_0000, reader: memory)
        }
        expectFault(.translation, level: 2, visited: [Self.l0, Self.l1 + 16, Self.l2 + 24]) { () throws(TranslationError) in
            _ = try walker().translate(0x8060_0000, reader: memory)
        }
        expectFault(.translation, level: 3, visited: [Self.l0, Self.l1 + 16, Self.l2 + 16, Self.l3 + 56]) { () throws(TranslationError) in
            _ = try walker().translate(0x8040_7000, reader: memory)
        }
    }

    @Test func blocksWhereTheGranuleAllowsNone() {
        var memory = Self.memory
        memory.set(table: Self.l0, index: 2, block(0, attr: 4))       // a level 0 block: needs FEAT_LPA2
        memory.set(table: Self.l3, index: 8, block(0x4200_0000, attr: 4))  // level 3 `01`: reserved
        expectFault(.translation, level: 0) { () throws(TranslationError) in
            _ = try walker().translate(0x0000_0100_0000_0000, reader: memory)
        }
        expectFault(.translation, level: 3) { () throws(TranslationError) in
            _ = try walker().translate(0x8040_8000, reader: memory)
        }
    }

    @Test func addressOutsideBothRanges() {
        for va: UInt64 in [0x0001_0000_0000_0000, 0xFFFE_0000_0000_0000, 0x8000_0000_0000_0000, 0x00FF_FFFF_FFFF_FFFF] {
            expectFault(.translation, level: 0, visited: []) { () throws(TranslationError) in
                _ = try walker().translate(va, reader: Self.memory)
            }
        }
    }

    @Test func epdDisablesWalks() throws {
        expectFault(.translation, level: 0, visited: []) { () throws(TranslationError) in
            _ = try walker(tcr: Self.tcr48 | 1 << 7).translate(0x4000_0000, reader: Self.memory)
        }
        expectFault(.translation, level: 0, visited: []) { () throws(TranslationError) in
            _ = try walker(tcr: Self.tcr48 | 1 << 23).translate(0xFFFF_FFFF_C000_0000, reader: Self.memory)
        }
        // EPD0 leaves the TTBR1 range walking.
        #expect(try walker(tcr: Self.tcr48 | 1 << 7).translate(0xFFFF_FFFF_C000_0000, reader: Self.memory).outputAddress == 0x4000_0000)
    }

    @Test func txszOutOfRange() {
        for t0sz: UInt64 in [15, 40] {
            expectFault(.translation, level: 0, visited: []) { () throws(TranslationError) in
                _ = try walker(tcr: Self.tcr48 & ~0x3F | t0sz).translate(0x1000, reader: Self.memory)
            }
        }
    }

    @Test func addressSizeFaults() {
        // IPS = 0b000: 32-bit output.
        let tcr32 = Self.tcr48 & ~(0b111 << 32)
        var memory = Self.memory
        memory.set(table: Self.l1, index: 3, block(0x1_0000_0000, attr: 4))
        expectFault(.addressSize, level: 1, visited: [Self.l0, Self.l1 + 24]) { () throws(TranslationError) in
            _ = try walker(tcr: tcr32).translate(0xC000_0000, reader: memory)
        }
        // A next-level table beyond the output size faults at the level of the table descriptor.
        memory.set(table: Self.l0, index: 3, table(0x1_0000_0000))
        expectFault(.addressSize, level: 0, visited: [Self.l0 + 24]) { () throws(TranslationError) in
            _ = try walker(tcr: tcr32).translate(0x0000_0180_0000_0000, reader: memory)
        }
        // TTBR0 base beyond the output size: level 0, before any read.
        expectFault(.addressSize, level: 0, visited: []) { () throws(TranslationError) in
            _ = try walker(tcr: tcr32, ttbr0: 0x1_0000_0000).translate(0x4000_0000, reader: memory)
        }
        // IPS says 48 bits but PARange implements 40.
        memory.set(table: Self.l1, index: 4, block(0x100_0000_0000, attr: 4))
        expectFault(.addressSize, level: 1) { () throws(TranslationError) in
            _ = try walker(range: .bits40).translate(0x1_0000_0000, reader: memory)
        }
    }

    @Test func accessFlagFault() {
        var memory = Self.memory
        memory.set(table: Self.l2, index: 4, block(0x4080_0000, attr: 4, af: false))
        expectFault(.accessFlag, level: 2, visited: [Self.l0, Self.l1 + 16, Self.l2 + 32]) { () throws(TranslationError) in
            _ = try walker().translate(0x8080_0000, reader: memory)
        }
        memory.set(table: Self.l3, index: 9, page(0x4300_0000, attr: 4, af: false))
        expectFault(.accessFlag, level: 3) { () throws(TranslationError) in
            _ = try walker().translate(0x8040_9000, reader: memory)
        }
    }

    @Test func externalAbortOnWalk() {
        var memory = Self.memory
        memory.failing = [Self.l1 + 16]
        expectFault(.synchronousExternalAbortOnWalk, level: 1, visited: [Self.l0, Self.l1 + 16]) { () throws(TranslationError) in
            _ = try walker().translate(0x8040_5000, reader: memory)
        }
    }

    @Test func unsupportedGranules() {
        let cases: [(UInt64, UInt64, String, UInt8)] = [
            (Self.tcr48 | 0b01 << 14, 0x1000, "TCR_EL1.TG0", 0b01),                          // 64KB
            (Self.tcr48 | 0b10 << 14, 0x1000, "TCR_EL1.TG0", 0b10),                          // 16KB
            (Self.tcr48 & ~(0b11 << 30) | 0b01 << 30, 0xFFFF_FFFF_C000_0000, "TCR_EL1.TG1", 0b01),  // 16KB
            (Self.tcr48 | 0b11 << 30, 0xFFFF_FFFF_C000_0000, "TCR_EL1.TG1", 0b11),          // 64KB
        ]
        for (tcr, va, field, encoding) in cases {
            #expect(throws: TranslationError.unsupportedGranule(field: field, encoding: encoding)) {
                try walker(tcr: tcr).translate(va, reader: Self.memory)
            }
        }
        // TG1 = 0b00 is no 4KB encoding for TG1, but it does not concern TTBR0 addresses.
        #expect(throws: Never.self) {
            try walker(tcr: Self.tcr48 & ~(0b11 << 30)).translate(0x4000_0000, reader: Self.memory)
        }
    }

    /// Arm ARM, SCTLR_EL1.C: with the MMU on and C = 0, Normal data accesses are Non-cacheable
    /// whatever MAIR says; Device stays Device; SCTLR_EL1.I does the same for fetches.
    @Test func cachesOffMakeNormalNonCacheable() throws {
        let cachesOff = walker(sctlr: 1)
        let data = try cachesOff.translate(0x4012_3456, reader: Self.memory)
        #expect(data.attributes.attribute == .normal(inner: .nonCacheable, outer: .nonCacheable))
        #expect(data.attributes.shareability == .outerShareable)
        let fetch = try cachesOff.translate(0x4012_3456, access: .instructionFetch, reader: Self.memory)
        #expect(fetch.attributes.attribute == .normal(inner: .nonCacheable, outer: .nonCacheable))
        let iOn = try walker(sctlr: 1 | 1 << 12).translate(0x4012_3456, access: .instructionFetch, reader: Self.memory)
        #expect(iOn.attributes.attribute == MemoryAttribute(mairByte: 0xFF))
        let device = try cachesOff.translate(0xFFFF_FFFF_C000_0000, reader: Self.memory)
        #expect(device.attributes.attribute == .device(.nGnRnE))
    }

    @Test func stage1Disabled() throws {
        let off = walker(sctlr: 0)
        #expect(off.isTranslationEnabled == false)
        let data = try off.translate(0x4000_1000, reader: FakeMemory())
        #expect(data.outputAddress == 0x4000_1000)
        #expect(data.walk == nil)
        #expect(data.attributes.attribute == .device(.nGnRnE))
        let fetch = try walker(sctlr: 1 << 12).translate(0x4000_1000, access: .instructionFetch, reader: FakeMemory())
        #expect(fetch.attributes.attribute.encoding == 0xAA)
        // HCR_EL2.DC = 1 disables stage 1 even with SCTLR_EL1.M = 1.
        let dc = try walker(hcr: 1 << 12).translate(0x4000_1000, reader: Self.memory)
        #expect(dc.walk == nil)
        #expect(dc.attributes == Stage1Attributes(attribute: MemoryAttribute(mairByte: 0xFF), shareability: .nonShareable))
        // A VA beyond the implemented PA size is an Address size fault.
        expectFault(.addressSize, level: 0, visited: []) { () throws(TranslationError) in
            _ = try off.translate(0x0001_0000_0000_0000, reader: FakeMemory())
        }
    }

    @Test func faultStatusCodes() {
        let codes: [(TranslationFault.Kind, Int, UInt8)] = [
            (.addressSize, 0, 0b000000), (.addressSize, 3, 0b000011),
            (.translation, 0, 0b000100), (.translation, 2, 0b000110),
            (.accessFlag, 1, 0b001001), (.accessFlag, 3, 0b001011),
            (.synchronousExternalAbortOnWalk, 1, 0b010101),
        ]
        for (kind, level, code) in codes {
            let fault = TranslationFault(kind: kind, stage: .stage1, level: level, inputAddress: 0, descriptorAddresses: [])
            #expect(fault.faultStatusCode == code)
        }
    }

    @Test func physicalAddressSizes() {
        #expect((0...7).map { PhysicalAddressSize(encoding: UInt8($0))?.bits } == [32, 36, 40, 42, 44, 48, 52, nil])
        #expect(PhysicalAddressSize.bits44.encoding == 0b100)
        // IPS = 52 bits needs FEAT_LPA2 with 4KB: 48. A reserved IPS takes the implemented size.
        #expect(walker(tcr: Self.tcr48 | 0b110 << 32).outputAddressSize == 48)
        #expect(walker(tcr: Self.tcr48 | 0b111 << 32, range: .bits40).outputAddressSize == 40)
        #expect(walker(tcr: Self.tcr48 & ~(0b111 << 32) | 0b010 << 32).outputAddressSize == 40)
    }
}

@Suite("stage 2 walk, 4KB granule")
struct Stage2WalkerTests {
    // VTCR_EL2: T0SZ = 24 (40-bit IPA), SL0 = 0b01 (start at level 1, two concatenated tables),
    // TG0 = 0b00 (4KB), PS = 0b010 (40 bits).
    static let vtcr40: UInt64 = 24 | 0b01 << 6 | 0b010 << 16
    static let base: UInt64 = 0x3000_0000     // 8KB: two level 1 tables
    static let l2: UInt64 = 0x3000_4000, l3: UInt64 = 0x3000_5000

    static var memory: FakeMemory {
        var memory = FakeMemory()
        // IPA 0x80_4000_0000: L1 index 513, in the second concatenated table.
        memory.set(table: base, index: 513, block(0xC0_0000_0000, attr: 0xF, ap: 0b11))
        memory.set(table: base, index: 1, table(l2))
        memory.set(table: l2, index: 0, block(0x5000_0000, attr: 0x5, ap: 0b01, sh: 0b10))  // IPA 0x4000_0000
        memory.set(table: l2, index: 1, table(l3))
        memory.set(table: l3, index: 2, leaf(0x6000_0000, page: true, attr: 0x1, ap: 0b11, sh: 0b00, uxn: true))  // IPA 0x4020_2000
        return memory
    }

    func walker(vtcr: UInt64 = vtcr40, range: PhysicalAddressSize = .bits48) -> Stage2Walker {
        Stage2Walker(vtcrEL2: vtcr, vttbrEL2: Self.base | 0x0005_0000_0000_0000, physicalAddressRange: range)
    }

    @Test func concatenatedStartTablesAndLevel1Block() throws {
        let translation = try walker().translate(0x80_4000_1234, reader: Self.memory)
        #expect(translation.outputAddress == 0xC0_0000_1234)
        #expect(translation.level == 1)
        #expect(translation.descriptorAddresses == [Self.base + 513 * 8])
        #expect(translation.memAttr == 0xF)
        #expect(translation.s2ap == 0b11)
        #expect(translation.attributes(fwb: false) == Stage2Attributes(attribute: .normal(inner: .writeBack, outer: .writeBack), shareability: .innerShareable))
        #expect(translation.attributes(fwb: true).attribute.isReserved)
    }

    @Test func level2BlockAndLevel3Page() throws {
        let blockTranslation = try walker().translate(0x4001_0000, reader: Self.memory)
        #expect(blockTranslation.outputAddress == 0x5001_0000)
        #expect(blockTranslation.level == 2)
        #expect(blockTranslation.blockSize == 2 << 20)
        #expect(blockTranslation.attributes(fwb: true) == Stage2Attributes(attribute: .nonCacheable, shareability: .outerShareable))
        let pageTranslation = try walker().translate(0x4020_2FF8, reader: Self.memory)
        #expect(pageTranslation.outputAddress == 0x6000_0FF8)
        #expect(pageTranslation.level == 3)
        #expect(pageTranslation.descriptorAddresses == [Self.base + 8, Self.l2 + 8, Self.l3 + 16])
        #expect(pageTranslation.attributes(fwb: false).attribute == .device(.nGnRE))
        #expect(pageTranslation.shareability == .nonShareable)
        #expect(pageTranslation.executeNever)
    }

    @Test func faults() {
        var memory = Self.memory
        memory.set(table: Self.l2, index: 2, block(0x5040_0000, attr: 0xF, af: false))
        memory.set(table: Self.l2, index: 3, block(0x100_0000_0000, attr: 0xF))
        memory.failing = [Self.l3 + 24]
        // IPA beyond T0SZ.
        expectFault(.translation, level: 0, visited: []) { () throws(TranslationError) in
            _ = try walker().translate(0x100_0000_0000, reader: memory)
        }
        expectFault(.translation, level: 1, visited: [Self.base + 16]) { () throws(TranslationError) in
            _ = try walker().translate(0x8000_0000, reader: memory)
        }
        expectFault(.translation, level: 3, visited: [Self.base + 8, Self.l2 + 8, Self.l3]) { () throws(TranslationError) in
            _ = try walker().translate(0x4020_0000, reader: memory)
        }
        expectFault(.accessFlag, level: 2) { () throws(TranslationError) in
            _ = try walker().translate(0x4040_0000, reader: memory)
        }
        // Output 0x100_0000_0000 is beyond PS = 40 bits.
        expectFault(.addressSize, level: 2) { () throws(TranslationError) in
            _ = try walker().translate(0x4060_0000, reader: memory)
        }
        expectFault(.synchronousExternalAbortOnWalk, level: 3) { () throws(TranslationError) in
            _ = try walker().translate(0x4020_3000, reader: memory)
        }
    }

    @Test func startLevelConfigurations() throws {
        // SL0 = 0b00 (level 2) covers at most 34 bits: inconsistent with a 40-bit IPA.
        expectFault(.translation, level: 0, visited: []) { () throws(TranslationError) in
            _ = try walker(vtcr: Self.vtcr40 & ~(0b11 << 6)).translate(0x1000, reader: Self.memory)
        }
        // SL0 = 0b11 needs FEAT_TTST.
        expectFault(.translation, level: 0, visited: []) { () throws(TranslationError) in
            _ = try walker(vtcr: Self.vtcr40 | 0b11 << 6).translate(0x1000, reader: Self.memory)
        }
        // SL0 = 0b10 (level 0) with a 48-bit IPA: valid when PARange is at least 44 bits.
        let vtcr48: UInt64 = 16 | 0b10 << 6 | 0b101 << 16
        var memory = FakeMemory()
        memory.set(table: 0x7000_0000, index: 1, table(0x7000_1000))
        memory.set(table: 0x7000_1000, index: 0, block(0xC000_0000, attr: 0xF))  // a 1GB block
        let deep = Stage2Walker(vtcrEL2: vtcr48, vttbrEL2: 0x7000_0000)
        let translation = try deep.translate(0x80_0000_0042, reader: memory)
        #expect(translation.outputAddress == 0xC000_0042)
        #expect(translation.descriptorAddresses == [0x7000_0008, 0x7000_1000])
        expectFault(.translation, level: 0) { () throws(TranslationError) in
            _ = try Stage2Walker(vtcrEL2: vtcr48, vttbrEL2: 0x7000_0000, physicalAddressRange: .bits40).translate(0x80_0000_0042, reader: memory)
        }
    }

    @Test func unsupportedGranules() {
        for tg0: UInt64 in [0b01, 0b10] {
            #expect(throws: TranslationError.unsupportedGranule(field: "VTCR_EL2.TG0", encoding: UInt8(tg0))) {
                try walker(vtcr: Self.vtcr40 | tg0 << 14).translate(0x4000_0000, reader: Self.memory)
            }
        }
    }

    @Test func baseAddressBeyondPS() {
        let narrow = Stage2Walker(vtcrEL2: 32 | 0b00 << 6, vttbrEL2: 0x1_0000_0000)  // PS = 32 bits
        expectFault(.addressSize, level: 0, visited: []) { () throws(TranslationError) in
            _ = try narrow.translate(0x1000, reader: Self.memory)
        }
    }
}
