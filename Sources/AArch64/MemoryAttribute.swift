// Memory attributes as MAIR_ELx encodes them (Arm ARM DDI 0487, MAIR_EL1 register description
// and the VMSA chapter "Memory region attributes"; pseudocode S1DecodeMemAttrs).

/// The Device memory subtypes. `rawValue` is the `dd` field of the `0b0000dd00` encoding.
///
/// The order is strictness: `nGnRnE < nGnRE < nGRE < GRE`, so the stricter of two types is
/// their minimum (that is how S2CombineS1Device picks the combined type).
public enum DeviceType: UInt8, CaseIterable, Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Non-Gathering, non-Reordering, no Early write acknowledgement.
    case nGnRnE = 0b00
    /// Non-Gathering, non-Reordering, Early write acknowledgement.
    case nGnRE = 0b01
    /// Non-Gathering, Reordering, Early write acknowledgement.
    case nGRE = 0b10
    /// Gathering, Reordering, Early write acknowledgement.
    case GRE = 0b11

    init(dd: UInt8) {
        // Four cases for a two-bit field: indexing by the masked value is total.
        self = DeviceType.allCases[Int(dd & 0b11)]
    }

    public static func < (lhs: DeviceType, rhs: DeviceType) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The subtype in the architecture's spelling, e.g. `nGnRnE`.
    public var name: String {
        switch self {
        case .nGnRnE: "nGnRnE"
        case .nGnRE: "nGnRE"
        case .nGRE: "nGRE"
        case .GRE: "GRE"
        }
    }

    public var description: String { "Device-\(name)" }
}

/// Cacheability of one level (inner or outer) of Normal memory.
///
/// Ordered from most to least restrictive, so that the more restrictive of two is their minimum
/// (S2CombineS1AttrHints: Non-cacheable if either is, else Write-Through if either is, else
/// Write-Back).
public enum Cacheability: Int, CaseIterable, Comparable, Hashable, Sendable, CustomStringConvertible {
    case nonCacheable = 0
    case writeThrough = 1
    case writeBack = 2

    public static func < (lhs: Cacheability, rhs: Cacheability) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The short form used in tables: `NC`, `WT`, `WB`.
    public var abbreviation: String {
        switch self {
        case .nonCacheable: "NC"
        case .writeThrough: "WT"
        case .writeBack: "WB"
        }
    }

    public var description: String {
        switch self {
        case .nonCacheable: "Non-cacheable"
        case .writeThrough: "Write-Through"
        case .writeBack: "Write-Back"
        }
    }
}

/// One nibble of a Normal MAIR attribute: cacheability, the transient hint and the
/// read/write-allocate hints.
///
/// Only encodable combinations can be built: Non-cacheable (`0b0100`) carries no hints, and a
/// transient Write-Through/Write-Back attribute needs at least one allocate hint, because
/// `0b0000` and `0b0100` are taken by Device and Non-cacheable.
public struct NormalCacheAttribute: Hashable, Sendable, CustomStringConvertible {
    public let cacheability: Cacheability
    public let isTransient: Bool
    public let readAllocate: Bool
    public let writeAllocate: Bool

    private init(unchecked cacheability: Cacheability, isTransient: Bool, readAllocate: Bool, writeAllocate: Bool) {
        self.cacheability = cacheability
        self.isTransient = isTransient
        self.readAllocate = readAllocate
        self.writeAllocate = writeAllocate
    }

    /// Builds an attribute, or `nil` when MAIR has no encoding for the combination.
    public init?(cacheability: Cacheability, isTransient: Bool = false, readAllocate: Bool = false, writeAllocate: Bool = false) {
        switch cacheability {
        case .nonCacheable:
            guard !isTransient, !readAllocate, !writeAllocate else { return nil }
        case .writeThrough, .writeBack:
            // 00RW / 01RW with RW = 00 are the Device and Non-cacheable encodings.
            guard !isTransient || readAllocate || writeAllocate else { return nil }
        }
        self.init(unchecked: cacheability, isTransient: isTransient, readAllocate: readAllocate, writeAllocate: writeAllocate)
    }

    /// Decodes a MAIR nibble (`oooo` or `iiii`). Returns `nil` for `0b0000`, which is not a Normal
    /// cacheability (it selects the Device or the `0xX0` encodings) and for values above `0xF`.
    public init?(nibble: UInt8) {
        guard nibble != 0, nibble <= 0xF else { return nil }
        if nibble == 0b0100 {
            self = .nonCacheable
            return
        }
        // 00RW: WT transient, 01RW: WB transient, 10RW: WT, 11RW: WB (R = bit 1, W = bit 0).
        let kind = nibble >> 2
        self.init(
            unchecked: kind & 0b01 == 0 ? .writeThrough : .writeBack,
            isTransient: kind & 0b10 == 0,
            readAllocate: nibble & 0b10 != 0,
            writeAllocate: nibble & 0b01 != 0
        )
    }

    /// The MAIR nibble for this attribute.
    public var nibble: UInt8 {
        let hints: UInt8 = (readAllocate ? 0b10 : 0) | (writeAllocate ? 0b01 : 0)
        switch (cacheability, isTransient) {
        case (.nonCacheable, _): return 0b0100
        case (.writeThrough, true): return 0b0000 | hints
        case (.writeBack, true): return 0b0100 | hints
        case (.writeThrough, false): return 0b1000 | hints
        case (.writeBack, false): return 0b1100 | hints
        }
    }

    /// Normal Non-cacheable.
    public static let nonCacheable = NormalCacheAttribute(unchecked: .nonCacheable, isTransient: false, readAllocate: false, writeAllocate: false)
    /// Write-Through, non-transient, Read-Allocate, no Write-Allocate (`0b1010`): the
    /// instruction-fetch default with the MMU off and SCTLR_EL1.I = 1.
    public static let writeThroughReadAllocate = NormalCacheAttribute(unchecked: .writeThrough, isTransient: false, readAllocate: true, writeAllocate: false)
    /// Write-Back, non-transient, Read-Allocate, Write-Allocate (`0b1111`).
    public static let writeBackReadWriteAllocate = NormalCacheAttribute(unchecked: .writeBack, isTransient: false, readAllocate: true, writeAllocate: true)

    /// The same allocation and transient hints with another cacheability. Only used for
    /// WT/WB targets, where a hint-carrying attribute stays encodable.
    func keepingHints(cacheability newCacheability: Cacheability) -> NormalCacheAttribute {
        NormalCacheAttribute(unchecked: newCacheability, isTransient: isTransient, readAllocate: readAllocate, writeAllocate: writeAllocate)
    }

    public var description: String {
        guard cacheability != .nonCacheable else { return cacheability.description }
        var words = [cacheability.description]
        if isTransient { words.append("Transient") }
        if readAllocate { words.append("RA") }
        if writeAllocate { words.append("WA") }
        return words.joined(separator: " ")
    }
}

/// Why a MAIR byte has no architecturally fixed meaning on a PE without the named feature.
public enum UnpredictableReason: Hashable, Sendable, CustomStringConvertible {
    /// `0b0000dd01`: with FEAT_XS, Device-dd with the XS attribute 0; UNPREDICTABLE without it.
    case deviceWithXSZero(DeviceType)
    /// `0x40` (Normal Non-cacheable) and `0xA0` (Normal Write-Through RA, non-transient): with
    /// FEAT_XS, these forms with the XS attribute 0; UNPREDICTABLE without it.
    case normalWithXSZero(NormalCacheAttribute)
    /// `0b0000dd1x`: UNPREDICTABLE.
    case reservedDevice
    /// `0bxxxx0000` with `xxxx` other than `0100`, `1010`, `1111`: UNPREDICTABLE.
    case reservedNormal
    /// `0xF0`: Tagged Normal with FEAT_MTE2; UNPREDICTABLE without it.
    case taggedWithoutMTE

    /// The feature whose presence would give the encoding a meaning, if any.
    public var requiredFeature: String? {
        switch self {
        case .deviceWithXSZero, .normalWithXSZero: "FEAT_XS"
        case .taggedWithoutMTE: "FEAT_MTE2"
        case .reservedDevice, .reservedNormal: nil
        }
    }

    public var description: String {
        switch self {
        case .deviceWithXSZero(let type):
            "\(type) with XS = 0 if FEAT_XS is implemented, otherwise UNPREDICTABLE"
        case .normalWithXSZero(let attribute):
            "Normal \(attribute) with XS = 0 if FEAT_XS is implemented, otherwise UNPREDICTABLE"
        case .reservedDevice:
            "0b0000dd1x is UNPREDICTABLE"
        case .reservedNormal:
            "0bxxxx0000 other than 0x40, 0xA0, 0xF0 is UNPREDICTABLE"
        case .taggedWithoutMTE:
            "Tagged Normal if FEAT_MTE2 is implemented, otherwise UNPREDICTABLE"
        }
    }
}

/// The meaning of one MAIR_ELx attribute byte (Attr<n>).
///
/// Every one of the 256 bytes decodes to a value, and `encoding` gives the byte back.
/// The FEAT_XS forms are reported as `.unpredictable` with a reason naming FEAT_XS: the
/// harness models a PE without FEAT_XS, and a finding is more useful than a guess.
public enum MemoryAttribute: Hashable, Sendable, CustomStringConvertible {
    /// `0b0000dd00`.
    case device(DeviceType)
    /// `0booooiiii`, both nibbles non-zero: outer and inner cacheability.
    case normal(inner: NormalCacheAttribute, outer: NormalCacheAttribute)
    /// `0xF0` with FEAT_MTE2: Tagged Normal, Inner/Outer Write-Back non-transient RA WA.
    case taggedNormal
    /// A byte without an architecturally fixed meaning (on a PE without FEAT_XS).
    case unpredictable(UInt8, UnpredictableReason)

    /// Decodes `byte` on a PE with `features`: the FEAT_XS forms and 0xF0 have a meaning only
    /// when their feature is implemented (ID_AA64ISAR1_EL1.XS, ID_AA64PFR1_EL1.MTE >= 2).
    public init(mairByte byte: UInt8, features: CPUFeatures = []) {
        switch (NormalCacheAttribute(nibble: byte >> 4), NormalCacheAttribute(nibble: byte & 0xF)) {
        case let (outer?, inner?):
            self = .normal(inner: inner, outer: outer)
        case (nil, _):
            // High nibble 0b0000: the Device region, 0b0000ddxx.
            let type = DeviceType(dd: byte >> 2)
            switch byte & 0b11 {
            case 0b00: self = .device(type)
            case 0b01: self = features.contains(.xs) ? .device(type) : .unpredictable(byte, .deviceWithXSZero(type))
            default: self = .unpredictable(byte, .reservedDevice)
            }
        case (.some, nil):
            // Low nibble 0b0000 with a non-zero high nibble: 0bxxxx0000.
            switch byte {
            case 0x40 where features.contains(.xs): self = .normal(inner: .nonCacheable, outer: .nonCacheable)
            case 0xA0 where features.contains(.xs):
                self = .normal(inner: .writeThroughReadAllocate, outer: .writeThroughReadAllocate)
            case 0x40: self = .unpredictable(byte, .normalWithXSZero(.nonCacheable))
            case 0xA0: self = .unpredictable(byte, .normalWithXSZero(.writeThroughReadAllocate))
            case 0xF0: self = features.contains(.mte2) ? .taggedNormal : .unpredictable(byte, .taggedWithoutMTE)
            default: self = .unpredictable(byte, .reservedNormal)
            }
        }
    }

    /// The MAIR byte for this attribute.
    public var encoding: UInt8 {
        switch self {
        case .device(let type): type.rawValue << 2
        case .normal(let inner, let outer): outer.nibble << 4 | inner.nibble
        case .taggedNormal: 0xF0
        case .unpredictable(let byte, _): byte
        }
    }

    public var isUnpredictable: Bool {
        if case .unpredictable = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .device(let type):
            return type.description
        case .normal(let inner, let outer) where inner == outer:
            return "Normal \(inner)"
        case .normal(let inner, let outer):
            return "Normal Inner \(inner), Outer \(outer)"
        case .taggedNormal:
            return "Tagged Normal \(NormalCacheAttribute.writeBackReadWriteAllocate)"
        case .unpredictable(let byte, let reason):
            return "UNPREDICTABLE (0x\(hex(byte, digits: 2)): \(reason))"
        }
    }
}

/// MAIR_EL1: eight attribute bytes, Attr<n> in bits [8n+7:8n], selected by a descriptor's AttrIndx.
public struct MAIR: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The attribute selected by `attrIndx` (0...7).
    public subscript(attrIndx attrIndx: Int) -> MemoryAttribute {
        get { MemoryAttribute(mairByte: byte(attrIndx: attrIndx)) }
        set { self = replacingByte(attrIndx: attrIndx, with: newValue.encoding) }
    }

    /// The attribute selected by `attrIndx` on a PE with `features`.
    public func attribute(attrIndx: Int, features: CPUFeatures) -> MemoryAttribute {
        MemoryAttribute(mairByte: byte(attrIndx: attrIndx), features: features)
    }

    /// The raw Attr<attrIndx> byte.
    public func byte(attrIndx: Int) -> UInt8 {
        precondition((0..<8).contains(attrIndx), "AttrIndx is a 3-bit field")
        return UInt8(truncatingIfNeeded: rawValue >> (8 * UInt64(attrIndx)))
    }

    /// A copy with Attr<attrIndx> replaced, the way a MAIR-rewriting policy edits a guest value.
    public func replacingByte(attrIndx: Int, with byte: UInt8) -> MAIR {
        precondition((0..<8).contains(attrIndx), "AttrIndx is a 3-bit field")
        let shift = 8 * UInt64(attrIndx)
        return MAIR(rawValue: rawValue & ~(0xFF << shift) | UInt64(byte) << shift)
    }

    /// The eight attributes, index = AttrIndx.
    public var attributes: [MemoryAttribute] { (0..<8).map { self[attrIndx: $0] } }

    public var description: String { "MAIR 0x\(hex(rawValue, digits: 16))" }
}
