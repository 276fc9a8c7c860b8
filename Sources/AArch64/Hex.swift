// How every module spells numbers for people and records (one formatter, so that a value
// reads the same in a report, a JSON record and an error message).

/// `0x1f`: the shortest lower-case form, for addresses and sizes.
public func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

/// `0x000000000000001f`: 16 digits, for 64-bit register values in records (exact in JSON,
/// comparable by eye with the Arm ARM's register layouts).
public func hex64(_ value: UInt64) -> String { "0x" + hex(value, digits: 16).lowercased() }

/// Bytes as contiguous lower-case hex pairs, lowest address first: `0a1b2c`.
public func hexBytes(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
