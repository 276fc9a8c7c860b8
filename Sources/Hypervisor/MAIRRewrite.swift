import AArch64

/// Which of the guest's attributes a trapped MAIR_EL1 write has replaced by a cacheable one,
/// in the style of the 2015 RFC (patch 2, "mangle MAIR register to prevent uncached guest
/// mappings"). The patch's exact byte rules are not in our record, so the rule is a parameter.
public enum MAIRRewriteRule: String, CaseIterable, Sendable, Codable {
    /// The guest's value is loaded unchanged.
    case none
    /// Normal Non-cacheable (per inner/outer nibble) becomes Write-Back Read/Write-Allocate.
    case ncOnly = "nc-only"
    /// Device-* and Normal Non-cacheable become Normal Write-Back Read/Write-Allocate.
    case uncached
    /// Everything that is not Write-Back (Device, NC, WT) becomes Write-Back; WT keeps its
    /// allocation hints and transience.
    case allCacheable = "all-cacheable"

    /// Its row in the rewrite tables.
    var tableIndex: Int {
        switch self {
        case .none: 0
        case .ncOnly: 1
        case .uncached: 2
        case .allCacheable: 3
        }
    }
}

/// Which attribute indices a rewrite touches. The RFC's stated aim was to use cached
/// mappings exclusively for stage 1, so its default is every index; its exact byte rule is not
/// in our record.
public enum MAIRRewriteScope: String, CaseIterable, Sendable, Codable {
    /// All eight indices: 0x00 is Device-nGnRnE, an architected attribute a guest may use.
    case all
    /// Only the indices the guest's live descriptors use (its tables scanned on every trapped
    /// write of MAIR_EL1, TCR_EL1, TTBR0/1_EL1 or SCTLR_EL1). Tables the guest changes without
    /// such a write are seen at the next one.
    case used
    /// Indices up to the highest non-zero byte: the zero bytes above it are taken as the unused
    /// tail of a MAIR() layout (Linux 2015 defines indices 0-4). A heuristic, kept as an option.
    case defined
}

/// What replacing one MAIR byte does to the meaning of the mappings that use it.
public enum AttributeEffect: String, CaseIterable, Sendable, Codable {
    /// Device memory became Normal: accesses may be merged, reordered and made early, and the
    /// ordering a driver relies on for a device (nGnRnE/nGnRE) is gone.
    case deviceOrderingWeakened = "device-ordering-weakened"
    /// Device memory became Normal: speculative reads, and gathering of accesses, are now allowed.
    case gatheringOrSpeculationAllowed = "gathering-or-speculation-allowed"
    /// Normal Non-cacheable (what Linux's pgprot_writecombine maps) became cacheable: writes
    /// now allocate in the cache instead of combining on the way to the device.
    case writeCombiningLost = "write-combining-lost"
    /// The mapping is now cacheable (or more cacheable): its data can sit in a cache that a
    /// non-coherent observer does not see.
    case cacheabilityRaised = "cacheability-raised"
    /// The guest wrote an encoding with no architected meaning here; it is loaded unchanged.
    case unpredictableKept = "unpredictable-kept"
}

/// One attribute index of a rewritten MAIR value: the guest asked for X, the hardware holds Y.
public struct MAIRIndexChange: Sendable, Equatable {
    public let attrIndx: Int
    public let requested: UInt8
    public let loaded: UInt8
    public let effects: [AttributeEffect]

    public var isUnchanged: Bool { requested == loaded }
}

public enum MAIRRewrite {
    /// Write-Back, non-transient, Read- and Write-Allocate, inner and outer (0xFF).
    static let writeBackRWA: UInt8 = 0xFF

    /// The value to load for a guest write of `mair`, and what changed index by index.
    public static func apply(_ rule: MAIRRewriteRule, scope: MAIRRewriteScope = .all,
                             to mair: UInt64, usedIndices: Set<Int> = []) -> (loaded: UInt64, changes: [MAIRIndexChange]) {
        let result = loaded(rule, scope: scope, to: mair, usedIndices: usedIndices)
        return (result, changes(from: mair, to: result))
    }

    /// The value to load for a guest write of `mair` (on every trapped write: a table lookup
    /// per byte, nothing allocated).
    public static func loaded(_ rule: MAIRRewriteRule, scope: MAIRRewriteScope = .all,
                              to mair: UInt64, usedIndices: Set<Int> = []) -> UInt64 {
        let guest = MAIR(rawValue: mair)
        let highestDefined = (0..<8).last { guest.byte(attrIndx: $0) != 0 } ?? -1
        let table = tables[rule.tableIndex]
        var loaded = guest
        for index in 0..<8 {
            let inScope = switch scope {
            case .all: true
            case .used: usedIndices.contains(index)
            case .defined: index <= highestDefined
            }
            if inScope { loaded = loaded.replacingByte(attrIndx: index, with: table[Int(guest.byte(attrIndx: index))]) }
        }
        return loaded.rawValue
    }

    /// What a rewrite from `requested` to `loaded` did, index by index (for reports).
    public static func changes(from requested: UInt64, to loaded: UInt64) -> [MAIRIndexChange] {
        let (guest, hardware) = (MAIR(rawValue: requested), MAIR(rawValue: loaded))
        return (0..<8).map { index in
            let (byte, replacement) = (guest.byte(attrIndx: index), hardware.byte(attrIndx: index))
            return MAIRIndexChange(attrIndx: index, requested: byte, loaded: replacement, effects: effects(from: byte, to: replacement))
        }
    }

    /// The loaded byte for every guest byte under `rule`.
    public static func table(_ rule: MAIRRewriteRule) -> [UInt8] { tables[rule.tableIndex] }

    /// Every byte under every rule, computed once.
    private static let tables: [[UInt8]] = MAIRRewriteRule.allCases.sorted { $0.tableIndex < $1.tableIndex }.map { rule in
        (0...255).map { rewrite(UInt8($0), rule) }
    }

    /// One byte under one rule.
    static func rewrite(_ byte: UInt8, _ rule: MAIRRewriteRule) -> UInt8 {
        switch (MemoryAttribute(mairByte: byte), rule) {
        case (_, .none), (.unpredictable, _), (.taggedNormal, _):
            return byte
        case (.device, .ncOnly):
            return byte
        case (.device, .uncached), (.device, .allCacheable):
            return writeBackRWA
        case (.normal(let inner, let outer), _):
            return raise(outer, rule) << 4 | raise(inner, rule)
        }
    }

    /// One Normal nibble under one rule.
    private static func raise(_ attribute: NormalCacheAttribute, _ rule: MAIRRewriteRule) -> UInt8 {
        switch (attribute.cacheability, rule) {
        case (.nonCacheable, .ncOnly), (.nonCacheable, .uncached), (.nonCacheable, .allCacheable):
            return NormalCacheAttribute.writeBackReadWriteAllocate.nibble
        case (.writeThrough, .allCacheable):
            // Same hints and transience, Write-Back instead of Write-Through.
            return NormalCacheAttribute(cacheability: .writeBack, isTransient: attribute.isTransient,
                                        readAllocate: attribute.readAllocate,
                                        writeAllocate: attribute.writeAllocate)?.nibble ?? attribute.nibble
        default:
            return attribute.nibble
        }
    }

    /// What a change of byte does to the mappings that use it (Arm ARM B2.7, memory types).
    static func effects(from requested: UInt8, to loaded: UInt8) -> [AttributeEffect] {
        let before = MemoryAttribute(mairByte: requested), after = MemoryAttribute(mairByte: loaded)
        if case .unpredictable = before { return [.unpredictableKept] }
        guard requested != loaded else { return [] }
        switch (before, after) {
        case (.device, .normal), (.device, .taggedNormal):
            return [.deviceOrderingWeakened, .gatheringOrSpeculationAllowed, .cacheabilityRaised]
        case (.normal(let inner, let outer), .normal(let newInner, let newOuter)):
            var effects: [AttributeEffect] = []
            if inner.cacheability == .nonCacheable && outer.cacheability == .nonCacheable {
                effects.append(.writeCombiningLost)
            }
            if newInner.cacheability > inner.cacheability || newOuter.cacheability > outer.cacheability {
                effects.append(.cacheabilityRaised)
            }
            return effects
        default:
            return [.cacheabilityRaised]
        }
    }
}
