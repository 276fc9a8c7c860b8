// `mairlab explain` and the full combining table: raw encodings in, decoded stages, the
// effective attribute and the Arm ARM rule out.

/// One stage 1 byte and one stage 2 MemAttr, decoded and combined, for a person to read.
public struct AttributeExplanation: Hashable, Sendable, CustomStringConvertible {
    /// The MAIR byte stage 1 selected.
    public let stage1Byte: UInt8
    /// The stage 2 MemAttr[3:0].
    public let stage2MemAttr: UInt8
    public let fwb: Bool
    public let stage1: Stage1Attributes
    public let stage2: Stage2Attributes
    public let combined: CombinedAttributes

    public var rule: CombiningRule { combined.rule }

    /// Decodes and combines. The descriptors' SH fields are not part of the question, so both
    /// stages are taken as Inner Shareable, the value Linux and KVM map ordinary memory with,
    /// unless given; Device and Non-cacheable results are Outer Shareable regardless.
    public static func explain(
        stage1: UInt8, stage2: UInt8, fwb: Bool, features: CPUFeatures = [],
        stage1Shareability: Shareability = .innerShareable, stage2Shareability: Shareability = .innerShareable
    ) -> AttributeExplanation {
        let stage1Attributes = Stage1Attributes(attribute: MemoryAttribute(mairByte: stage1, features: features),
                                                shareability: stage1Shareability)
        let stage2Attributes = Stage2Attributes(memAttr: stage2, fwb: fwb, shareability: stage2Shareability)
        return AttributeExplanation(
            stage1Byte: stage1,
            stage2MemAttr: stage2 & 0xF,
            fwb: fwb,
            stage1: stage1Attributes,
            stage2: stage2Attributes,
            combined: AttributeCombiner.combine(stage1: stage1Attributes, stage2: stage2Attributes)
        )
    }

    /// A few lines for a terminal: each stage decoded, the result, the rule and its pseudocode.
    public var description: String {
        [
            "Stage 1: MAIR byte 0x\(hex(stage1Byte, digits: 2)) = \(stage1.attribute), SH \(stage1.shareability)",
            "Stage 2: MemAttr 0b\(binary(stage2MemAttr)) (HCR_EL2.FWB = \(fwb ? 1 : 0)) = \(stage2.attribute), SH \(stage2.shareability)",
            "Effective: \(combined.effective)",
            "Rule: \(rule)",
            "Arm ARM pseudocode: \(rule.pseudocode)",
        ].joined(separator: "\n")
    }

    private func binary(_ value: UInt8) -> String {
        let text = String(value, radix: 2)
        return String(repeating: "0", count: max(0, 4 - text.count)) + text
    }
}

/// One row of the combining table, with exactly the JSON fields the CLI emits.
///
/// `type` is `device` or `normal` (Tagged Normal is `normal`); `device` is the subtype or null;
/// `inner`/`outer` are `nc`, `wt`, `wb` or null; `shareability` is `outer`, `inner`, `non`.
/// An UNPREDICTABLE row has `unpredictable` true and null `type`, `device`, `inner`, `outer`
/// and `shareability`: nothing a script could read as a defined result.
public struct CombiningTableEntry: Codable, Hashable, Sendable {
    public let s1: Int
    public let s2: Int
    public let fwb: Bool
    /// `device` or `normal`; null when UNPREDICTABLE.
    public let type: String?
    public let device: String?
    public let inner: String?
    public let outer: String?
    public let shareability: String?
    public let unpredictable: Bool

    /// The row for one stage 1 byte and stage 2 MemAttr, with both SH fields Inner Shareable
    /// (see `AttributeExplanation.explain`).
    public init(explanation: AttributeExplanation) {
        s1 = Int(explanation.stage1Byte)
        s2 = Int(explanation.stage2MemAttr)
        fwb = explanation.fwb
        switch explanation.combined.effective {
        case .defined(let attribute, let effectiveShareability):
            unpredictable = false
            shareability = effectiveShareability.shortName
            switch attribute {
            case .device(let deviceType):
                (type, device, inner, outer) = ("device", deviceType.name, nil, nil)
            case .normal(let innerAttribute, let outerAttribute):
                (type, device, inner, outer) = ("normal", nil, Self.name(innerAttribute), Self.name(outerAttribute))
            case .taggedNormal, .unpredictable:
                // A defined result is never `.unpredictable`; Tagged Normal is Write-Back.
                (type, device, inner, outer) = ("normal", nil, "wb", "wb")
            }
        case .unpredictable:
            unpredictable = true
            shareability = nil
            (type, device, inner, outer) = (nil, nil, nil, nil)
        }
    }

    private static func name(_ attribute: NormalCacheAttribute) -> String {
        attribute.cacheability.abbreviation.lowercased()
    }

    /// Every row: FWB = 0 then 1, stage 1 byte 0x00...0xFF, stage 2 MemAttr 0x0...0xF
    /// (with FWB = 1, values with MemAttr[3] set are reserved rows; see `Stage2MemoryAttribute`).
    public static func allEntries(features: CPUFeatures = []) -> [CombiningTableEntry] {
        [false, true].flatMap { fwb in
            (0...255).flatMap { stage1 in
                (0...15).map { stage2 in
                    CombiningTableEntry(explanation: .explain(stage1: UInt8(stage1), stage2: UInt8(stage2), fwb: fwb,
                                                              features: features))
                }
            }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case s1, s2, fwb, type, device, inner, outer, shareability, unpredictable
    }

    /// Writes every field, absent values as JSON null, so that each row has the same keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(s1, forKey: .s1)
        try container.encode(s2, forKey: .s2)
        try container.encode(fwb, forKey: .fwb)
        try container.encode(type, forKey: .type)
        try container.encode(device, forKey: .device)
        try container.encode(inner, forKey: .inner)
        try container.encode(outer, forKey: .outer)
        try container.encode(shareability, forKey: .shareability)
        try container.encode(unpredictable, forKey: .unpredictable)
    }
}
