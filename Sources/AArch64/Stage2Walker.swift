// Stage 2 of the EL1&0 translation regime, 4KB granule (Arm ARM, VTCR_EL2 and VTTBR_EL2 field
// descriptions, stage 2 block and page descriptors; pseudocode AArch64.S2Translate,
// AArch64.S2Walk, AArch64.S2InvalidSL, AArch64.S2InconsistentSL).

/// A stage 2 translation: IPA to PA, with the stage 2 descriptor's fields.
public struct Stage2Translation: Hashable, Sendable {
    public let intermediatePhysicalAddress: UInt64
    public let outputAddress: UInt64
    /// 1 or 2 for a block, 3 for a page.
    public let level: Int
    public let descriptor: UInt64
    /// Every descriptor read, first level first.
    public let descriptorAddresses: [UInt64]
    /// 1GB, 2MB or 4KB.
    public let blockSize: UInt64
    /// MemAttr[3:0], bits [5:2]: decode with `attributes(fwb:)`.
    public let memAttr: UInt8
    /// S2AP, bits [7:6]: bit 0 = read allowed, bit 1 = write allowed.
    public let s2ap: UInt8
    /// SH, bits [9:8].
    public let shareability: Shareability
    /// XN, bit 54 (XN[1] with FEAT_XNX, whose XN[0] in bit 53 is not modelled).
    public let executeNever: Bool

    /// The stage 2 attributes under the HCR_EL2.FWB in force.
    public func attributes(fwb: Bool) -> Stage2Attributes {
        Stage2Attributes(memAttr: memAttr, fwb: fwb, shareability: shareability)
    }
}

/// Translates IPAs the way stage 2 would, from raw VTCR_EL2 and VTTBR_EL2 values.
public struct Stage2Walker: Hashable, Sendable {
    public let vtcrEL2: UInt64
    public let vttbrEL2: UInt64
    /// ID_AA64MMFR0_EL1.PARange: the implemented physical address size.
    public let physicalAddressRange: PhysicalAddressSize

    public init(vtcrEL2: UInt64, vttbrEL2: UInt64, physicalAddressRange: PhysicalAddressSize = .bits48) {
        self.vtcrEL2 = vtcrEL2
        self.vttbrEL2 = vttbrEL2
        self.physicalAddressRange = physicalAddressRange
    }

    /// The effective output address size (VTCR_EL2.PS bounded by PARange and the 4KB granule).
    public var outputAddressSize: Int {
        PhysicalAddressSize.effectiveOutputSize(configured: UInt8(vtcrEL2.bits(18, 16)), implemented: physicalAddressRange)
    }

    /// The start level VTCR_EL2.SL0 selects with the 4KB granule, or `nil` when the value is
    /// invalid here (AArch64.S2InvalidSL): `0b10` (level 0) needs a PA range of at least 44 bits,
    /// `0b11` (level 3) needs FEAT_TTST, which is not modelled.
    private var startLevel: Int? {
        switch vtcrEL2.bits(7, 6) {
        case 0b00: 2
        case 0b01: 1
        case 0b10 where physicalAddressRange >= .bits44: 0
        default: nil
        }
    }

    /// Translates `intermediatePhysicalAddress`.
    public func translate(_ intermediatePhysicalAddress: UInt64, reader: some TranslationTableReader) throws(TranslationError) -> Stage2Translation {
        let tg0 = UInt8(vtcrEL2.bits(15, 14))
        guard tg0 == 0b00 else { throw .unsupportedGranule(field: "VTCR_EL2.TG0", encoding: tg0) }
        let levelZeroTranslationFault = TranslationFault.levelZero(.translation, stage: .stage2, inputAddress: intermediatePhysicalAddress)
        let t0sz = vtcrEL2.bits(5, 0)
        guard TableWalk.validTxSZ.contains(t0sz) else { throw levelZeroTranslationFault }
        let inputSize = 64 - Int(t0sz)
        // An IPA beyond the size T0SZ gives is a level 0 Translation fault.
        guard intermediatePhysicalAddress >> UInt64(inputSize) == 0 else { throw levelZeroTranslationFault }
        // AArch64.S2InconsistentSL: the start level must resolve the top IPA bit with between 1
        // and 16 concatenated tables, i.e. inputSize between the levels below the start level
        // plus one bit and that plus 12 bits (9 for a full table, 4 for 16 tables, less one).
        guard let startLevel else { throw levelZeroTranslationFault }
        let smallestInput = TableWalk.levelShift(startLevel) + 1
        guard (smallestInput...(smallestInput + 12)).contains(inputSize) else { throw levelZeroTranslationFault }

        let walk = TableWalk(
            stage: .stage2,
            inputAddress: intermediatePhysicalAddress,
            inputSize: inputSize,
            startLevel: startLevel,
            baseRegister: vttbrEL2,
            outputSize: outputAddressSize
        )
        let leaf = try walk.run(reader: reader)
        // Stage 2 table descriptors carry no hierarchical attributes: only the leaf's fields count.
        return Stage2Translation(
            intermediatePhysicalAddress: intermediatePhysicalAddress,
            outputAddress: leaf.outputAddress,
            level: leaf.level,
            descriptor: leaf.descriptor,
            descriptorAddresses: leaf.descriptorAddresses,
            blockSize: leaf.blockSize,
            memAttr: UInt8(leaf.descriptor.bits(5, 2)),
            s2ap: UInt8(leaf.descriptor.bits(7, 6)),
            shareability: Shareability(sh: UInt8(leaf.descriptor.bits(9, 8))),
            executeNever: leaf.descriptor.bit(54)
        )
    }
}
