// Combining stage 1 and stage 2 memory attributes (Arm ARM, "Combining the stage 1 and stage 2
// attributes"; pseudocode S2CombineS1MemAttrs, S2CombineS1Device, S2CombineS1AttrHints,
// S2CombineS1Shareability, S2ApplyFWBMemAttrs, EffectiveShareability).

/// What kind of access a stage 1 default applies to: with stage 1 disabled, data and instruction
/// accesses get different attributes.
public enum AccessKind: Hashable, Sendable {
    case data
    case instructionFetch
}

/// The attributes stage 1 assigns to an access: a MAIR attribute and the descriptor's SH.
public struct Stage1Attributes: Hashable, Sendable, CustomStringConvertible {
    public var attribute: MemoryAttribute
    public var shareability: Shareability

    public init(attribute: MemoryAttribute, shareability: Shareability) {
        self.attribute = attribute
        self.shareability = shareability
    }

    /// The attributes stage 1 assigns when it is disabled (Arm ARM, "The effects of disabling an
    /// address translation stage", behaviour when stage 1 is disabled):
    /// - HCR_EL2.DC = 1: Normal Non-shareable, Inner/Outer Write-Back Read-Write-Allocate, for
    ///   data and instruction accesses alike (HCR_EL2.DCT's tagged variant is not modelled);
    /// - otherwise data accesses are Device-nGnRnE;
    /// - instruction fetches are Normal Outer Shareable: Non-cacheable when SCTLR_EL1.I = 0,
    ///   Inner/Outer Write-Through Read-Allocate no-Write-Allocate when SCTLR_EL1.I = 1.
    /// Device and Non-cacheable are reported Outer Shareable, as the architecture treats them.
    /// (QEMU's `get_phys_addr_disabled` encodes the I = 1 case as 0xEE, which is Write-Back by
    /// the MAIR encoding; the Arm ARM's text says Write-Through, 0xAA, which is used here.)
    public static func translationDisabled(access: AccessKind, sctlrEL1: UInt64, hcrEL2: UInt64) -> Stage1Attributes {
        if HCR_EL2.DC.isSet(in: hcrEL2) {
            let writeBack = NormalCacheAttribute.writeBackReadWriteAllocate
            return Stage1Attributes(attribute: .normal(inner: writeBack, outer: writeBack), shareability: .nonShareable)
        }
        switch access {
        case .data:
            return Stage1Attributes(attribute: .device(.nGnRnE), shareability: .outerShareable)
        case .instructionFetch:
            let nibble: NormalCacheAttribute = SCTLR_EL1.I.isSet(in: sctlrEL1) ? .writeThroughReadAllocate : .nonCacheable
            return Stage1Attributes(attribute: .normal(inner: nibble, outer: nibble), shareability: .outerShareable)
        }
    }

    public var description: String { "\(attribute), \(shareability)" }
}

/// The attributes stage 2 assigns: MemAttr decoded under the FWB in force, and the SH field.
public struct Stage2Attributes: Hashable, Sendable, CustomStringConvertible {
    public var attribute: Stage2MemoryAttribute
    public var shareability: Shareability

    public init(attribute: Stage2MemoryAttribute, shareability: Shareability) {
        self.attribute = attribute
        self.shareability = shareability
    }

    public init(memAttr: UInt8, fwb: Bool, shareability: Shareability) {
        self.init(attribute: Stage2MemoryAttribute(memAttr: memAttr, fwb: fwb), shareability: shareability)
    }

    public var description: String { "\(attribute), \(shareability)" }
}

/// Inner and outer cacheability of a Normal attribute, as a rule sentence names it.
public struct CacheabilityPair: Hashable, Sendable, CustomStringConvertible {
    public let inner: Cacheability
    public let outer: Cacheability

    public init(inner: Cacheability, outer: Cacheability) {
        self.inner = inner
        self.outer = outer
    }

    /// `NC` when both levels agree, else `inner WB/outer NC`.
    public var description: String {
        inner == outer ? inner.abbreviation : "inner \(inner.abbreviation)/outer \(outer.abbreviation)"
    }
}

/// The rule of the Arm ARM that decided a combined attribute.
public enum CombiningRule: Hashable, Sendable, CustomStringConvertible {
    /// The stage 1 MAIR byte has no fixed meaning: the result cannot be stated.
    case unpredictableStage1(mairByte: UInt8, reason: UnpredictableReason)
    /// The stage 2 MemAttr is reserved: the result cannot be stated.
    case reservedStage2(memAttr: UInt8, fwb: Bool)
    /// Both stages Device: the stricter subtype.
    case strongerDeviceType(stage1: DeviceType, stage2: DeviceType)
    /// FWB = 0, stage 1 Device, stage 2 Normal: Device from stage 1.
    case stage1Device(DeviceType)
    /// Stage 1 Normal, stage 2 Device (FWB = 0 or 1): Device from stage 2.
    case stage2Device(DeviceType)
    /// FWB = 0, both Normal: per level, the more restrictive cacheability.
    case moreRestrictiveCacheability(stage1: CacheabilityPair, stage2: CacheabilityPair)
    /// FWB = 1, stage 2 `0b101`, stage 1 Normal: Non-cacheable.
    case forcedNonCacheable
    /// FWB = 1, stage 2 `0b101`, stage 1 Device: the stage 1 Device type stands.
    case stage1DeviceOverNonCacheable(DeviceType)
    /// FWB = 1, stage 2 `0b110`: Write-Back whatever stage 1 says.
    case forcedWriteBack
    /// FWB = 1, stage 2 `0b111`: stage 1 unchanged.
    case stage1Unchanged

    /// The Arm ARM pseudocode function that states the rule.
    public var pseudocode: String {
        switch self {
        case .unpredictableStage1: "S1DecodeMemAttrs (MAIR_ELx.Attr<n> encodings)"
        case .reservedStage2: "S2AttrDecode / S2ApplyFWBMemAttrs (reserved MemAttr)"
        case .strongerDeviceType: "S2CombineS1Device"
        case .stage1Device, .stage2Device: "S2CombineS1MemAttrs"
        case .moreRestrictiveCacheability: "S2CombineS1AttrHints"
        case .forcedNonCacheable, .stage1DeviceOverNonCacheable, .forcedWriteBack, .stage1Unchanged: "S2ApplyFWBMemAttrs"
        }
    }

    /// A human sentence naming the rule.
    public var description: String {
        switch self {
        case .unpredictableStage1(let byte, let reason):
            return "S1 MAIR byte 0x\(hex(byte, digits: 2)) has no defined meaning (\(reason)): the combined attribute is UNPREDICTABLE"
        case .reservedStage2(let memAttr, let fwb):
            return "S2 MemAttr 0x\(hex(memAttr, digits: 1)) is reserved with FWB = \(fwb ? 1 : 0): the combined attribute is UNPREDICTABLE"
        case .strongerDeviceType(let stage1, let stage2):
            return "S1 \(stage1) with S2 \(stage2): both Device, the stricter Device type (\(min(stage1, stage2))) wins"
        case .stage1Device(let type):
            return "S1 \(type) with S2 Normal: Device is more restrictive than Normal, so stage 1's \(type) wins"
        case .stage2Device(let type):
            return "S1 Normal with S2 \(type): Device is more restrictive than Normal, so stage 2's \(type) wins"
        case .moreRestrictiveCacheability(let stage1, let stage2):
            let result = CacheabilityPair(inner: min(stage1.inner, stage2.inner), outer: min(stage1.outer, stage2.outer))
            return "S1 Normal-\(stage1) with S2 Normal-\(stage2): the more restrictive cacheability (\(result)) wins, per nibble; allocation hints come from stage 1"
        case .forcedNonCacheable:
            return "FWB: S2 MemAttr 0b101 makes a Normal stage 1 attribute Non-cacheable"
        case .stage1DeviceOverNonCacheable(let type):
            return "FWB: S2 MemAttr 0b101 is Non-cacheable unless stage 1 is Device, so stage 1's \(type) stands"
        case .forcedWriteBack:
            return "FWB: S2 MemAttr 0b110 forces Normal Write-Back whatever stage 1 says; stage 1's hints are kept where it was WT/WB, else Read-Write-Allocate"
        case .stage1Unchanged:
            return "FWB: S2 MemAttr 0b111 uses the stage 1 attribute unchanged"
        }
    }
}

/// The effective attributes of an access, or the statement that the architecture gives none.
public enum EffectiveAttributes: Hashable, Sendable, CustomStringConvertible {
    /// A defined result; the attribute is never `.unpredictable`.
    case defined(MemoryAttribute, Shareability)
    /// An UNPREDICTABLE input made the result UNPREDICTABLE.
    case unpredictable

    public var description: String {
        switch self {
        case .defined(let attribute, let shareability): "\(attribute), \(shareability)"
        case .unpredictable: "UNPREDICTABLE"
        }
    }
}

/// The result of combining the two stages, with the rule that decided it.
public struct CombinedAttributes: Hashable, Sendable, CustomStringConvertible {
    public let effective: EffectiveAttributes
    public let rule: CombiningRule

    /// The effective memory attribute, `nil` when UNPREDICTABLE.
    public var attribute: MemoryAttribute? {
        if case .defined(let attribute, _) = effective { return attribute }
        return nil
    }

    /// The effective shareability, `nil` when UNPREDICTABLE.
    public var shareability: Shareability? {
        if case .defined(_, let shareability) = effective { return shareability }
        return nil
    }

    public var isUnpredictable: Bool { effective == .unpredictable }

    public var description: String { "\(effective) (\(rule))" }
}

/// Combines stage 1 and stage 2 attributes the way the Arm ARM's pseudocode does.
public enum AttributeCombiner {
    /// The effective attribute and shareability of an access, and the rule that decided them.
    ///
    /// Whether HCR_EL2.FWB is set is carried by `stage2.attribute` (see `Stage2MemoryAttribute`).
    /// Allocation and transient hints always come from stage 1: stage 2 has none.
    public static func combine(stage1: Stage1Attributes, stage2: Stage2Attributes) -> CombinedAttributes {
        let type: Stage1Type
        switch stage1.attribute {
        case .unpredictable(let byte, let reason):
            return CombinedAttributes(effective: .unpredictable, rule: .unpredictableStage1(mairByte: byte, reason: reason))
        case .device(let device):
            type = .device(device)
        case .normal(let inner, let outer):
            type = .normal(inner: inner, outer: outer)
        case .taggedNormal:
            // Tagged Normal combines as Normal WB RA WA; S2MemTagType keeps the tags only if the
            // result is still that (checked below).
            type = .normal(inner: .writeBackReadWriteAllocate, outer: .writeBackReadWriteAllocate)
        }
        let (combinedAttribute, rule) = combinedType(stage1: type, stage2: stage2.attribute)
        guard var attribute = combinedAttribute else {
            return CombinedAttributes(effective: .unpredictable, rule: rule)
        }
        if stage1.attribute == .taggedNormal, attribute.encoding == 0xFF {
            attribute = .taggedNormal
        }
        // Stage 1 Device or Non-cacheable memory is Outer Shareable whatever its SH field says:
        // AArch64.S1Translate applies EffectiveShareability to the stage 1 result before stage 2
        // combines it with S2CombineS1Shareability. It matters when FWB makes such memory
        // Write-Back (QEMU's combine_cacheattrs combines the raw SH instead).
        let stage1Shareability = isOuterShareableByType(stage1.attribute) ? .outerShareable : stage1.shareability
        let combined = Shareability.combining(stage1Shareability, stage2.shareability)
        let shareability = isOuterShareableByType(attribute) ? .outerShareable : combined
        return CombinedAttributes(effective: .defined(attribute, shareability), rule: rule)
    }

    private enum Stage1Type {
        case device(DeviceType)
        case normal(inner: NormalCacheAttribute, outer: NormalCacheAttribute)
    }

    /// EffectiveShareability: Device and Normal Inner/Outer Non-cacheable are Outer Shareable.
    private static func isOuterShareableByType(_ attribute: MemoryAttribute) -> Bool {
        switch attribute {
        case .device: true
        case .normal(let inner, let outer): inner == .nonCacheable && outer == .nonCacheable
        case .taggedNormal, .unpredictable: false
        }
    }

    /// The combined type and its rule; no type for a reserved stage 2 attribute.
    private static func combinedType(stage1: Stage1Type, stage2: Stage2MemoryAttribute) -> (MemoryAttribute?, CombiningRule) {
        switch (stage1, stage2) {
        case (.device(let s1), .device(let s2)):
            return (.device(min(s1, s2)), .strongerDeviceType(stage1: s1, stage2: s2))
        case (.normal, .device(let s2)):
            return (.device(s2), .stage2Device(s2))
        case (.device(let s1), .normal):
            return (.device(s1), .stage1Device(s1))
        case (.normal(let inner1, let outer1), .normal(let inner2, let outer2)):
            return (
                .normal(inner: moreRestrictive(inner1, inner2), outer: moreRestrictive(outer1, outer2)),
                .moreRestrictiveCacheability(
                    stage1: CacheabilityPair(inner: inner1.cacheability, outer: outer1.cacheability),
                    stage2: CacheabilityPair(inner: inner2, outer: outer2)
                )
            )
        case (.device(let s1), .nonCacheable):
            return (.device(s1), .stage1DeviceOverNonCacheable(s1))
        case (.normal, .nonCacheable):
            return (.normal(inner: .nonCacheable, outer: .nonCacheable), .forcedNonCacheable)
        case (.device, .forceWriteBack):
            let writeBack = NormalCacheAttribute.writeBackReadWriteAllocate
            return (.normal(inner: writeBack, outer: writeBack), .forcedWriteBack)
        case (.normal(let inner, let outer), .forceWriteBack):
            return (.normal(inner: forcedWriteBack(inner), outer: forcedWriteBack(outer)), .forcedWriteBack)
        case (.device(let s1), .useStage1):
            return (.device(s1), .stage1Unchanged)
        case (.normal(let inner, let outer), .useStage1):
            return (.normal(inner: inner, outer: outer), .stage1Unchanged)
        case (_, .reserved(let memAttr, let fwb)):
            return (nil, .reservedStage2(memAttr: memAttr, fwb: fwb))
        }
    }

    /// S2CombineS1AttrHints for one level: NC if either is NC (no hints), else WT if either is
    /// WT, else WB; a cacheable result keeps stage 1's allocation and transient hints.
    private static func moreRestrictive(_ stage1: NormalCacheAttribute, _ stage2: Cacheability) -> NormalCacheAttribute {
        let cacheability = min(stage1.cacheability, stage2)
        return cacheability == .nonCacheable ? .nonCacheable : stage1.keepingHints(cacheability: cacheability)
    }

    /// S2ApplyFWBMemAttrs for `0b110`, one level: Write-Back with stage 1's hints where stage 1
    /// was cacheable, else Read-Write-Allocate non-transient.
    private static func forcedWriteBack(_ stage1: NormalCacheAttribute) -> NormalCacheAttribute {
        stage1.cacheability == .nonCacheable ? .writeBackReadWriteAllocate : stage1.keepingHints(cacheability: .writeBack)
    }
}
