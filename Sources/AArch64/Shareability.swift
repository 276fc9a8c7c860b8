// Shareability as the SH[1:0] field of a stage 1 or stage 2 block/page descriptor encodes it.

/// A descriptor's SH[1:0] field. `rawValue` is the encoding.
public enum Shareability: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case nonShareable = 0b00
    /// `0b01` is reserved: CONSTRAINED UNPREDICTABLE. Kept as a value so that a guest which
    /// writes it is reported rather than silently corrected.
    case reserved = 0b01
    case outerShareable = 0b10
    case innerShareable = 0b11

    /// Decodes SH[1:0] (only the low two bits of `sh` are read).
    public init(sh: UInt8) {
        // Every two-bit value is a case, so the fallback is never taken.
        self = Shareability(rawValue: sh & 0b11) ?? .reserved
    }

    /// The more shareable of two stages (S2CombineS1Shareability: Outer if either is Outer,
    /// else Inner if either is Inner, else Non-shareable). A reserved input leaves the result
    /// reserved unless the other stage is Outer Shareable, the widest domain, which decides alone.
    static func combining(_ stage1: Shareability, _ stage2: Shareability) -> Shareability {
        let both = [stage1, stage2]
        if both.contains(.outerShareable) { return .outerShareable }
        if both.contains(.reserved) { return .reserved }
        if both.contains(.innerShareable) { return .innerShareable }
        return .nonShareable
    }

    /// The word used in tables: `outer`, `inner`, `non`, `reserved`.
    public var shortName: String {
        switch self {
        case .nonShareable: "non"
        case .reserved: "reserved"
        case .outerShareable: "outer"
        case .innerShareable: "inner"
        }
    }

    public var description: String {
        switch self {
        case .nonShareable: "Non-shareable"
        case .reserved: "Reserved shareability (SH = 0b01, CONSTRAINED UNPREDICTABLE)"
        case .outerShareable: "Outer Shareable"
        case .innerShareable: "Inner Shareable"
        }
    }
}
