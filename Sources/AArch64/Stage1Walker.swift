// Stage 1 of the EL1&0 translation regime, 4KB granule (Arm ARM, "VMSAv8-64 translation
// table format", TCR_EL1 and TTBRn_EL1 field descriptions; pseudocode AArch64.S1Translate,
// AArch64.GetVARange, AArch64.S1Walk).

/// Which translation table base register a stage 1 walk used.
public enum TranslationTableBase: Hashable, Sendable, CustomStringConvertible {
    case ttbr0
    case ttbr1

    public var description: String { self == .ttbr0 ? "TTBR0_EL1" : "TTBR1_EL1" }
}

/// What a stage 1 walk found: the leaf descriptor and the walk that led to it.
public struct Stage1Walk: Hashable, Sendable {
    public let translationTableBase: TranslationTableBase
    /// 1 or 2 for a block, 3 for a page.
    public let level: Int
    public let descriptor: UInt64
    /// Every descriptor read, first level first.
    public let descriptorAddresses: [UInt64]
    /// 1GB, 2MB or 4KB.
    public let blockSize: UInt64
    /// Bits [4:2]: the MAIR_EL1 attribute index.
    public let attrIndx: Int
    /// Bits [9:8].
    public let shareability: Shareability
    /// AP[2:1] (bits [7:6]) after the tables' APTable restrictions: bit 1 = read-only,
    /// bit 0 = EL0 access.
    public let accessPermissions: UInt8
    /// nG, bit 11.
    public let notGlobal: Bool
    /// PXN, bit 53, or PXNTable on the way.
    public let privilegedExecuteNever: Bool
    /// UXN, bit 54, or UXNTable on the way.
    public let unprivilegedExecuteNever: Bool
}

/// A stage 1 translation: the output address (an IPA under stage 2) and its stage 1 attributes.
public struct Stage1Translation: Hashable, Sendable {
    public let virtualAddress: UInt64
    public let outputAddress: UInt64
    /// MAIR_EL1[AttrIndx] and SH for a walk; the disabled-stage-1 defaults otherwise.
    public let attributes: Stage1Attributes
    /// `nil` when stage 1 is disabled (SCTLR_EL1.M = 0 or HCR_EL2.DC = 1): a flat mapping.
    public let walk: Stage1Walk?
}

/// Translates EL1&0 virtual addresses the way the PE's stage 1 would, from raw register values.
public struct Stage1Walker: Hashable, Sendable {
    public let tcrEL1: UInt64
    public let ttbr0EL1: UInt64
    public let ttbr1EL1: UInt64
    public let sctlrEL1: UInt64
    public let mair: MAIR
    public let hcrEL2: UInt64
    /// ID_AA64MMFR0_EL1.PARange: the implemented physical address size.
    public let physicalAddressRange: PhysicalAddressSize
    /// The features MAIR bytes are decoded with.
    public let features: CPUFeatures

    public init(
        tcrEL1: UInt64, ttbr0EL1: UInt64, ttbr1EL1: UInt64, sctlrEL1: UInt64, mairEL1: UInt64,
        hcrEL2: UInt64 = 0, physicalAddressRange: PhysicalAddressSize = .bits48, features: CPUFeatures = []
    ) {
        self.tcrEL1 = tcrEL1
        self.ttbr0EL1 = ttbr0EL1
        self.ttbr1EL1 = ttbr1EL1
        self.sctlrEL1 = sctlrEL1
        self.mair = MAIR(rawValue: mairEL1)
        self.hcrEL2 = hcrEL2
        self.physicalAddressRange = physicalAddressRange
        self.features = features
    }

    /// Stage 1 translates when SCTLR_EL1.M = 1 and HCR_EL2.DC = 0 (DC = 1 makes the PE behave as
    /// if SCTLR_EL1.M were 0 for everything but reading it).
    public var isTranslationEnabled: Bool { SCTLR_EL1.M.isSet(in: sctlrEL1) && !HCR_EL2.DC.isSet(in: hcrEL2) }

    /// The effective output address size (TCR_EL1.IPS bounded by PARange and the 4KB granule).
    public var outputAddressSize: Int {
        PhysicalAddressSize.effectiveOutputSize(configured: UInt8(tcrEL1.bits(34, 32)), implemented: physicalAddressRange)
    }

    /// The TCR_EL1 fields of one VA range (TTBR0 or TTBR1 half).
    private struct RangeParameters {
        let base: TranslationTableBase
        let ttbr: UInt64
        let granuleField: String
        let granuleIs4KB: Bool
        let granuleEncoding: UInt8
        let txsz: UInt64
        let walkDisabled: Bool
        let topByteIgnored: Bool
        let hierarchicalPermissionsDisabled: Bool
    }

    /// AArch64.GetVARange: VA bit 55 selects the range, whatever TBI says.
    private func parameters(for virtualAddress: UInt64) -> RangeParameters {
        if virtualAddress.bit(55) {
            // TG1 encodes the granule differently from TG0: 0b10 is 4KB.
            let tg1 = UInt8(tcrEL1.bits(31, 30))
            return RangeParameters(
                base: .ttbr1, ttbr: ttbr1EL1, granuleField: "TCR_EL1.TG1", granuleIs4KB: tg1 == 0b10,
                granuleEncoding: tg1, txsz: tcrEL1.bits(21, 16), walkDisabled: tcrEL1.bit(23),
                topByteIgnored: tcrEL1.bit(38), hierarchicalPermissionsDisabled: tcrEL1.bit(42)
            )
        }
        let tg0 = UInt8(tcrEL1.bits(15, 14))
        return RangeParameters(
            base: .ttbr0, ttbr: ttbr0EL1, granuleField: "TCR_EL1.TG0", granuleIs4KB: tg0 == 0b00,
            granuleEncoding: tg0, txsz: tcrEL1.bits(5, 0), walkDisabled: tcrEL1.bit(7),
            topByteIgnored: tcrEL1.bit(37), hierarchicalPermissionsDisabled: tcrEL1.bit(41)
        )
    }

    /// Translates `virtualAddress` for an access of kind `access`.
    public func translate(
        _ virtualAddress: UInt64, access: AccessKind = .data, reader: some TranslationTableReader
    ) throws(TranslationError) -> Stage1Translation {
        let range = parameters(for: virtualAddress)
        // The top address bit the range check reads: 55 when the top byte is ignored (TBIx).
        let topBit = range.topByteIgnored ? 55 : 63
        let levelZeroTranslationFault = TranslationFault.levelZero(.translation, stage: .stage1, inputAddress: virtualAddress)

        guard isTranslationEnabled else {
            // Stage 1 disabled: a flat map, but a VA beyond the implemented PA size is a level 0
            // Address size fault (Arm ARM, behaviour when stage 1 address translation is disabled).
            guard virtualAddress.bits(topBit, physicalAddressRange.bits) == 0 else {
                throw TranslationFault.levelZero(.addressSize, stage: .stage1, inputAddress: virtualAddress)
            }
            return Stage1Translation(
                virtualAddress: virtualAddress,
                outputAddress: virtualAddress.bits(physicalAddressRange.bits - 1, 0),
                attributes: .translationDisabled(access: access, sctlrEL1: sctlrEL1, hcrEL2: hcrEL2),
                walk: nil
            )
        }
        guard range.granuleIs4KB else {
            throw .unsupportedGranule(field: range.granuleField, encoding: range.granuleEncoding)
        }
        guard TableWalk.validTxSZ.contains(range.txsz) else { throw levelZeroTranslationFault }
        let inputSize = 64 - Int(range.txsz)
        // Bits [top:inputSize] must all equal bit 55 (all 0 for TTBR0, all 1 for TTBR1); a VA in
        // the gap between the two ranges is a level 0 Translation fault.
        let expected: UInt64 = range.base == .ttbr1 ? .max.bits(topBit - inputSize, 0) : 0
        guard virtualAddress.bits(topBit, inputSize) == expected else { throw levelZeroTranslationFault }
        // EPDx = 1: a TLB miss in this range faults without a walk.
        guard !range.walkDisabled else { throw levelZeroTranslationFault }

        let walk = TableWalk(
            stage: .stage1,
            inputAddress: virtualAddress,
            inputSize: inputSize,
            // Start at the level whose entries cover the top input bit: 0 for 40-48 bits,
            // 1 for 31-39, 2 for 25-30 (AArch64.S1StartLevel).
            startLevel: 4 - (inputSize - 4) / 9,
            baseRegister: range.ttbr,
            outputSize: outputAddressSize
        )
        let leaf = try walk.run(reader: reader)
        let found = stage1Walk(leaf, range: range)
        return Stage1Translation(
            virtualAddress: virtualAddress,
            outputAddress: leaf.outputAddress,
            attributes: cacheabilityControlled(Stage1Attributes(attribute: mair.attribute(attrIndx: found.attrIndx, features: features),
                                                                shareability: found.shareability), access: access),
            walk: found
        )
    }

    /// Reads the leaf's stage 1 fields, applying the table descriptors' hierarchical controls
    /// unless TCR_EL1.HPDx disables them: PXNTable, UXNTable, APTable[0] (no EL0 access, clears
    /// AP[1]) and APTable[1] (read-only, sets AP[2]).
    private func stage1Walk(_ leaf: TableWalk.Leaf, range: RangeParameters) -> Stage1Walk {
        let table = range.hierarchicalPermissionsDisabled ? 0 : leaf.tableAttributes
        var accessPermissions = UInt8(leaf.descriptor.bits(7, 6))
        if table.bit(2) { accessPermissions &= 0b10 }
        if table.bit(3) { accessPermissions |= 0b10 }
        return Stage1Walk(
            translationTableBase: range.base,
            level: leaf.level,
            descriptor: leaf.descriptor,
            descriptorAddresses: leaf.descriptorAddresses,
            blockSize: leaf.blockSize,
            attrIndx: Int(leaf.descriptor.bits(4, 2)),
            shareability: Shareability(sh: UInt8(leaf.descriptor.bits(9, 8))),
            accessPermissions: accessPermissions,
            notGlobal: leaf.descriptor.bit(11),
            privilegedExecuteNever: leaf.descriptor.bit(53) || table.bit(0),
            unprivilegedExecuteNever: leaf.descriptor.bit(54) || table.bit(1)
        )
    }

    /// SCTLR_EL1.C = 0 makes every EL0/EL1 data access to Normal memory Non-cacheable, at all
    /// levels, whatever MAIR_EL1 says (SCTLR_EL1.I likewise for instruction fetches): the
    /// window between the MMU and the caches being turned on that KVM traps (Arm ARM,
    /// SCTLR_EL1.C; pseudocode AArch64.S1Translate). Normal Non-cacheable is Outer Shareable.
    func cacheabilityControlled(_ attributes: Stage1Attributes, access: AccessKind) -> Stage1Attributes {
        let enabled = access == .data ? SCTLR_EL1.C.isSet(in: sctlrEL1) : SCTLR_EL1.I.isSet(in: sctlrEL1)
        switch attributes.attribute {
        case .normal where !enabled, .taggedNormal where !enabled:
            return Stage1Attributes(attribute: .normal(inner: .nonCacheable, outer: .nonCacheable), shareability: .outerShareable)
        default:
            return attributes
        }
    }
}
