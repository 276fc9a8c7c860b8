// Bit-field helpers in the Arm ARM's [high:low] notation, shared by the decoders.

extension UInt64 {
    /// Bits [high:low], shifted down to bit 0.
    func bits(_ high: Int, _ low: Int) -> UInt64 {
        let shifted = self >> UInt64(low)
        let width = high - low + 1
        return width >= 64 ? shifted : shifted & ((1 << UInt64(width)) - 1)
    }

    /// Bit [position].
    func bit(_ position: Int) -> Bool { (self >> UInt64(position)) & 1 != 0 }

    /// `value` truncated to the width of [high:low] and placed there.
    static func field(_ value: some BinaryInteger, _ high: Int, _ low: Int) -> UInt64 {
        UInt64(truncatingIfNeeded: value).bits(high - low, 0) << UInt64(low)
    }

    /// A mask of bits [high:low].
    static func mask(_ high: Int, _ low: Int) -> UInt64 { UInt64.max.bits(high - low, 0) << UInt64(low) }
}

/// Upper-case hexadecimal, zero-padded: the spelling used in every description of this module.
func hex<T: BinaryInteger>(_ value: T, digits: Int) -> String {
    let text = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}
