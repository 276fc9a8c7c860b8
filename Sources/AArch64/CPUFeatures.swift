// The architectural features a decode depends on, read from the PE's ID registers (Arm ARM,
// ID_AA64PFR1_EL1.MTE and ID_AA64ISAR1_EL1.XS).

/// Features that give otherwise UNPREDICTABLE MAIR encodings a meaning.
public struct CPUFeatures: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// FEAT_MTE2: 0xF0 is Tagged Normal memory.
    public static let mte2 = CPUFeatures(rawValue: 1 << 0)
    /// FEAT_XS: 0b0000dd01, 0x40 and 0xA0 are Device / Normal with the XS attribute 0.
    public static let xs = CPUFeatures(rawValue: 1 << 1)

    /// ID_AA64PFR1_EL1.MTE is bits [11:8] (2 or more: FEAT_MTE2); ID_AA64ISAR1_EL1.XS is bits
    /// [59:56] (1: FEAT_XS).
    public init(idAA64PFR1: UInt64, idAA64ISAR1: UInt64) {
        var features: CPUFeatures = []
        if idAA64PFR1.bits(11, 8) >= 2 { features.insert(.mte2) }
        if idAA64ISAR1.bits(59, 56) >= 1 { features.insert(.xs) }
        self = features
    }

    /// The names `--features` takes: `mte2`, `xs`.
    public static let names: [(String, CPUFeatures)] = [("mte2", .mte2), ("xs", .xs)]

    public init?(names text: String) {
        var features: CPUFeatures = []
        for name in text.split(separator: ",") where !name.isEmpty {
            guard let feature = Self.names.first(where: { $0.0 == name })?.1 else { return nil }
            features.insert(feature)
        }
        self = features
    }

    public var description: String {
        let names = Self.names.filter { contains($0.1) }.map(\.0)
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }
}
