/// The 64 bytes of a cache line as versions: byte i holds the value written by write number
/// `versions[i]` (0: the region's initial contents). Values are looked up in the `WriteLog`;
/// keeping only versions makes copies and comparisons cheap and tells which write each byte
/// came from, which is what stale reads and lost writes are about.
public struct LineBytes: Hashable, Sendable {
    public static let count = 64
    // Four 16-lane vectors: a fixed 256-byte value with no heap storage.
    private var a = SIMD16<UInt32>(), b = SIMD16<UInt32>(), c = SIMD16<UInt32>(), d = SIMD16<UInt32>()

    public init() {}

    /// A 64-bit digest of the 256 bytes, folded word by word (the explorer hashes every state
    /// it reaches: one Hasher call instead of 64).
    public var digest: UInt64 {
        withUnsafeBytes(of: self) { raw in
            var h: UInt64 = 0x9E37_79B9_7F4A_7C15
            for offset in stride(from: 0, to: raw.count, by: 8) {
                h = (h ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 29
            }
            return h
        }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(digest) }

    public static func == (a: LineBytes, b: LineBytes) -> Bool {
        a.a == b.a && a.b == b.b && a.c == b.c && a.d == b.d
    }

    /// Every byte at `version`.
    public init(repeating version: UInt32) {
        a = SIMD16(repeating: version)
        b = a
        c = a
        d = a
    }

    public subscript(index: Int) -> UInt32 {
        get {
            switch index >> 4 {
            case 0: a[index & 15]
            case 1: b[index & 15]
            case 2: c[index & 15]
            default: d[index & 15]
            }
        }
        set {
            switch index >> 4 {
            case 0: a[index & 15] = newValue
            case 1: b[index & 15] = newValue
            case 2: c[index & 15] = newValue
            default: d[index & 15] = newValue
            }
        }
    }

    /// These bytes with `range` set to `version`.
    public func writing(_ version: UInt32, at range: Range<Int>) -> LineBytes {
        var result = self
        result.write(version, at: range)
        return result
    }

    /// Sets `range` to `version` in place (through the 64 words directly: the model does this
    /// on every write).
    public mutating func write(_ version: UInt32, at range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= Self.count)
        withUnsafeMutableBytes(of: &self) { raw in
            let words = raw.bindMemory(to: UInt32.self)
            for index in range { words[index] = version }
        }
    }

    /// These bytes with `range` taken from `other`.
    public func merging(_ other: LineBytes, at range: Range<Int>) -> LineBytes {
        var result = self
        for index in range { result[index] = other[index] }
        return result
    }

    public func versions(in range: Range<Int>) -> [UInt32] { range.map { self[$0] } }

    /// The offsets in `range` where `other` holds a newer write than these bytes.
    public func offsets(in range: Range<Int>, olderThan other: LineBytes) -> [Int] {
        range.filter { self[$0] < other[$0] }
    }
}
