/// Puts guest accesses to an MMIO-served region back together. The MMIO callbacks see only
/// the physical address and a piece of the access (Unicorn 2.0.1 splits an 8-byte access into
/// two 4-byte callbacks); the memory hook, called first, saw the whole access's VA and size.
/// A read is performed on its first piece and served to the later ones; a write is performed
/// once its last piece has arrived.
struct AccessAssembler {
    /// The access the memory hook saw last.
    private var access: (va: UInt64, size: Int)?
    /// The part of that access already seen: where it starts, and the bytes read or written.
    private var piece: (pa: UInt64, bytes: [UInt8], filled: Int)?

    /// The memory hook saw a guest access begin.
    mutating func begin(virtualAddress: UInt64, size: Int) {
        access = (virtualAddress, size)
        piece = nil
    }

    /// A whole access: its first byte's PA, its size, and the VA the guest used (the PA when
    /// the memory hook saw none).
    struct Whole {
        let pa: UInt64
        let count: Int
        let virtualAddress: UInt64
    }

    /// A read piece: `perform` is called once per whole access and must return its bytes.
    mutating func read(pa: UInt64, size: Int, perform: (Whole) -> [UInt8]) -> UInt64 {
        startIfNew(pa: pa, size: size, fill: perform)
        let offset = Int(pa - piece!.pa)
        return piece!.bytes[offset..<offset + size].enumerated()
            .reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// A write piece: `perform` is called with the whole access once all its pieces arrived.
    mutating func write(pa: UInt64, size: Int, value: UInt64, perform: (Whole, [UInt8]) -> Void) {
        startIfNew(pa: pa, size: size) { [UInt8](repeating: 0, count: $0.count) }
        let offset = Int(pa - piece!.pa)
        for index in 0..<size { piece!.bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
        piece!.filled += size
        if piece!.filled >= piece!.bytes.count {
            perform(Whole(pa: piece!.pa, count: piece!.bytes.count, virtualAddress: access?.va ?? piece!.pa), piece!.bytes)
            piece = nil
        }
    }

    private mutating func startIfNew(pa: UInt64, size: Int, fill: (Whole) -> [UInt8]) {
        let whole = access.map { max($0.size, size) } ?? size
        if let piece, pa >= piece.pa, pa + UInt64(size) <= piece.pa + UInt64(whole) { return }
        piece = (pa, fill(Whole(pa: pa, count: whole, virtualAddress: access?.va ?? pa)), 0)
    }
}
