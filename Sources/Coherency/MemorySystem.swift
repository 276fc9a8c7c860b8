import AArch64

/// One byte with the write that produced it (0: the initial contents).
public struct VersionedByte: Hashable, Sendable {
    public var value: UInt8
    public var version: Int
}

/// A cache line (64 bytes, CTR_EL0.DminLine = 4 words of 16).
public struct CacheLine: Hashable, Sendable {
    public var bytes: [VersionedByte]
    public var dirty: Bool
}

/// A failure the model observed.
public struct CoherencyFailure: Hashable, Sendable {
    public enum Kind: String, Sendable, Codable, CustomStringConvertible {
        case staleRead = "stale-read", lostWrite = "lost-write"
        public var description: String { rawValue }
    }
    public let kind: Kind
    /// stale-read: who read; lost-write: whose write was lost.
    public let observer: String
    /// The first byte involved (for stale reads, the first stale byte).
    public let address: UInt64
    /// The region it lies in.
    public let region: String
    /// Human detail: which bytes, what they were, what they should have been / who overwrote.
    public let detail: String
}

/// Observed memory: the bytes at the Point of Coherency, one cache level shared by the guest's
/// cacheable accesses and the VMM, and the coherent reference every read is checked against
/// (the value of the latest write to each byte, in the order the run performed them).
public struct MemorySystem: Sendable {
    public static let lineSize: UInt64 = 64
    /// Sets of the modelled cache (for set/way operations): set = PA bits [12:6]. Ways are
    /// unbounded: lines leave only by maintenance or by an explored eviction.
    public static let sets: UInt64 = 128

    public struct Region: Hashable, Sendable {
        public let name: String
        public let base: UInt64
        public let size: UInt64

        public init(name: String, base: UInt64, size: UInt64) {
            self.name = name
            self.base = base
            self.size = size
        }

        public func contains(_ address: UInt64) -> Bool { address >= base && address - base < size }
    }

    public let regions: [Region]
    private var memory: [UInt64: VersionedByte] = [:]
    private var reference: [UInt64: VersionedByte] = [:]
    public private(set) var cache: [UInt64: CacheLine] = [:]
    private var writers: [Int: Observer] = [:]
    private var nextVersion = 1
    public private(set) var failures: [CoherencyFailure] = []
    /// Lines touched by a cacheable access, and by a non-cacheable one (incl. non-coherent DMA).
    public private(set) var cacheableLines: Set<UInt64> = []
    public private(set) var nonCacheableLines: Set<UInt64> = []

    public init(regions: [Region], initial: [UInt64: UInt8] = [:]) {
        self.regions = regions
        for (address, value) in initial {
            memory[address] = VersionedByte(value: value, version: 0)
            reference[address] = VersionedByte(value: value, version: 0)
        }
    }

    public static func line(of address: UInt64) -> UInt64 { address & ~(lineSize - 1) }

    public func region(of address: UInt64) -> Region? { regions.first { $0.contains(address) } }

    /// Lines touched both cacheably and non-cacheably: where eviction timing can matter.
    public var candidateLines: Set<UInt64> { cacheableLines.intersection(nonCacheableLines) }

    private func atPoC(_ address: UInt64) -> VersionedByte { memory[address] ?? VersionedByte(value: 0, version: 0) }

    private func fill(_ line: UInt64) -> CacheLine {
        CacheLine(bytes: (0..<Self.lineSize).map { atPoC(line + $0) }, dirty: false)
    }

    // MARK: accesses

    /// A read of `size` bytes; returns the little-endian value and records a stale read when any
    /// byte is not the latest write's.
    public mutating func read(_ address: UInt64, size: Int, policy: CachePolicy, by observer: Observer) -> UInt64 {
        readBytes(address, count: size, policy: policy, by: observer).enumerated()
            .reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// A read of `count` bytes as one observation (one stale-read failure at most).
    public mutating func readBytes(_ address: UInt64, count: Int, policy: CachePolicy, by observer: Observer) -> [UInt8] {
        let bytes = (0..<UInt64(count)).map { readByte(address + $0, policy: policy, by: observer) }
        checkStale(address, bytes, by: observer)
        return bytes.map(\.value)
    }

    private mutating func readByte(_ address: UInt64, policy: CachePolicy, by observer: Observer) -> VersionedByte {
        let line = Self.line(of: address), offset = Int(address - line)
        note(line, cacheable: policy.isCacheable || observer.snoops)
        if let cached = cache[line], policy.isCacheable || observer.snoops { return cached.bytes[offset] }
        switch policy {
        case .writeThrough(readAllocate: true), .writeBack(readAllocate: true, _):
            let filled = fill(line)
            cache[line] = filled
            return filled.bytes[offset]
        default:
            return atPoC(address)
        }
    }

    public mutating func write(_ address: UInt64, size: Int, value: UInt64, policy: CachePolicy, by observer: Observer) {
        write(address, bytes: (0..<UInt64(size)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }, policy: policy, by: observer)
    }

    /// One write event (one version) of `bytes` from `address`.
    public mutating func write(_ address: UInt64, bytes: [UInt8], policy: CachePolicy, by observer: Observer) {
        let version = nextVersion
        nextVersion += 1
        writers[version] = observer
        for (offset, value) in bytes.enumerated() {
            let byte = VersionedByte(value: value, version: version)
            writeByte(address + UInt64(offset), byte, policy: policy, by: observer)
            reference[address + UInt64(offset)] = byte
        }
    }

    private mutating func writeByte(_ address: UInt64, _ byte: VersionedByte, policy: CachePolicy, by observer: Observer) {
        let line = Self.line(of: address), offset = Int(address - line)
        note(line, cacheable: policy.isCacheable || observer.snoops)
        switch policy {
        case .writeBack(_, let writeAllocate) where cache[line] != nil || writeAllocate:
            var entry = cache[line] ?? fill(line)
            entry.bytes[offset] = byte
            entry.dirty = true
            cache[line] = entry
        case .writeThrough, .writeBack:
            // Write-through (or a write-back miss without write-allocate): memory, and the line
            // if it is present.
            cache[line]?.bytes[offset] = byte
            memory[address] = byte
        case .nonCacheable:
            // A coherent master's write keeps a cached copy coherent (snoop); anyone else's
            // goes to the PoC past the cache.
            if observer.snoops { cache[line]?.bytes[offset] = byte }
            memory[address] = byte
        }
    }

    private mutating func note(_ line: UInt64, cacheable: Bool) {
        if cacheable { cacheableLines.insert(line) } else { nonCacheableLines.insert(line) }
    }

    private mutating func checkStale(_ address: UInt64, _ bytes: [VersionedByte], by observer: Observer) {
        let stale = bytes.indices.filter { bytes[$0].version != (reference[address + UInt64($0)]?.version ?? 0) }
        guard let first = stale.first else { return }
        let expected = stale.map { reference[address + UInt64($0)]?.value ?? 0 }
        let observed = stale.map { bytes[$0].value }
        let latest = writers[reference[address + UInt64(first)]?.version ?? 0].map { " (written by \($0))" } ?? ""
        failures.append(CoherencyFailure(
            kind: .staleRead, observer: observer.observer, address: address + UInt64(first),
            region: region(of: address)?.name ?? "?",
            detail: "\(observer) read \(stale.count) stale byte(s) at offsets \(ranges(stale)) of \(hex(address)): saw \(hexDump(observed)), should have been \(hexDump(expected))\(latest)"))
    }

    // MARK: maintenance and eviction

    /// Writes a dirty line back to the PoC (clean); records a lost write for each byte whose
    /// memory copy is newer than the line's (a later non-cacheable write overwritten).
    public mutating func clean(line: UInt64) {
        guard let entry = cache[line], entry.dirty else { return }
        var lost: [Int: [UInt64]] = [:]
        for (offset, byte) in entry.bytes.enumerated() {
            let address = line + UInt64(offset)
            let current = atPoC(address)
            if current.version > byte.version { lost[current.version, default: []].append(address) }
            memory[address] = byte
        }
        cache[line]?.dirty = false
        let dirtyWriters = Set(Set(entry.bytes.map(\.version)).compactMap { writers[$0]?.description }).sorted()
        for (version, addresses) in lost.sorted(by: { $0.key < $1.key }) {
            guard let observer = writers[version] else { continue }
            failures.append(CoherencyFailure(
                kind: .lostWrite, observer: observer.observer, address: addresses[0],
                region: region(of: line)?.name ?? "?",
                detail: "\(addresses.count) byte(s) that \(observer) wrote at \(hex(addresses[0])) were overwritten when line \(hex(line)) was written back (dirty data from \(dirtyWriters.isEmpty ? "its fill" : dirtyWriters.joined(separator: ", ")))"))
        }
    }

    public mutating func invalidate(line: UInt64) { cache[line] = nil }

    public mutating func cleanAndInvalidate(line: UInt64) {
        clean(line: line)
        invalidate(line: line)
    }

    /// A spontaneous eviction: dirty data is written back, the line leaves the cache.
    public mutating func evict(line: UInt64) { cleanAndInvalidate(line: line) }

    /// A decision point: each resident line of `candidates`, in address order, evicted or kept
    /// as `chooser` says.
    public mutating func evict(choosingAmong candidates: Set<UInt64>, with chooser: EvictionChooser) {
        for line in candidates.sorted() where cache[line] != nil {
            if chooser.nextChoice() { evict(line: line) }
        }
    }

    /// The hypervisor's clean+invalidate of the whole VM to PoC (`stage2_flush_vm`,
    /// `__flush_dcache_area` on every page).
    public mutating func cleanAndInvalidateAll() {
        for line in cache.keys.sorted() { cleanAndInvalidate(line: line) }
    }

    /// Clean and invalidate a page of lines (KVM's clean to PoC when stage 2 maps a page).
    public mutating func cleanAndInvalidate(page: UInt64) {
        for line in cache.keys.sorted() where line & ~0xFFF == page & ~0xFFF { cleanAndInvalidate(line: line) }
    }

    /// Lines of set `set` (DC ISW/CSW/CISW; ways are unbounded, so the way field names all).
    public func lines(inSet set: UInt64) -> [UInt64] {
        cache.keys.filter { ($0 / Self.lineSize) % Self.sets == set }.sorted()
    }

    /// Bytes at the PoC (what a non-coherent observer would see), for the final state.
    public func memoryContents(_ region: Region) -> [UInt8] {
        (0..<region.size).map { atPoC(region.base + $0).value }
    }
}

/// Bytes as hex, the first 16 and a count of the rest.
func hexDump(_ bytes: [UInt8]) -> String {
    let shown = bytes.prefix(16).map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined(separator: " ")
    return bytes.count > 16 ? shown + " ... (\(bytes.count) bytes)" : shown
}

/// Offsets as ranges: 0-7,12.
func ranges(_ offsets: [Int]) -> String {
    var parts: [String] = []
    var index = 0
    while index < offsets.count {
        var end = index
        while end + 1 < offsets.count && offsets[end + 1] == offsets[end] + 1 { end += 1 }
        parts.append(end == index ? "\(offsets[index])" : "\(offsets[index])-\(offsets[end])")
        index = end + 1
    }
    return parts.joined(separator: ",")
}
