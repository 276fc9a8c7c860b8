/// Every write to shared memory in the order the run performed them: version n is the n-th
/// write (version 0 is a region's initial contents). A byte's value is found from its version.
public struct WriteLog: Sendable {
    /// Write n-1 (version n): where, how many bytes, who, and the bytes themselves: in
    /// `value` (little-endian) for a write of 8 bytes or fewer, else at `first` in `bytes`.
    /// Flat: a write allocates nothing, and neither a write nor a lookup copies an observer.
    private struct Entry {
        let start: UInt64
        let value: UInt64
        /// -1: the bytes are in `value`.
        let first: Int
        let count: UInt32
        let writer: UInt32
    }

    private var entries: [Entry] = []
    private var bytes: [UInt8] = []
    private var observers: [Observer] = []
    private var observerIDs: [Observer: UInt32] = [:]
    /// The first detail seen for each failure, for the report.
    public let details = FailureDetails()
    /// The initial byte of each region, by region base.
    private let regions: [(base: UInt64, size: UInt64, initial: UInt8)]

    public init(regions: [(base: UInt64, size: UInt64, initial: UInt8)]) {
        self.regions = regions
    }

    /// The number that stands for `observer` in this log (`record(writer:...)`).
    public mutating func id(of observer: Observer) -> UInt32 {
        if let id = observerIDs[observer] { return id }
        let id = UInt32(observers.count)
        observers.append(observer)
        observerIDs[observer] = id
        return id
    }

    /// Records a write; returns its version.
    public mutating func record(_ observer: Observer, start: UInt64, bytes written: [UInt8]) -> UInt32 {
        entries.append(Entry(start: start, value: 0, first: bytes.count, count: UInt32(written.count), writer: id(of: observer)))
        bytes += written
        return UInt32(entries.count)
    }

    /// Records a write of the `count` low bytes of `value` (little-endian); returns its version.
    public mutating func record(_ observer: Observer, start: UInt64, value: UInt64, count: Int) -> UInt32 {
        record(writer: id(of: observer), start: start, value: value, count: count)
    }

    /// `record` by the observer numbered `writer` (`id(of:)`).
    public mutating func record(writer: UInt32, start: UInt64, value: UInt64, count: Int) -> UInt32 {
        precondition(count <= 8)
        entries.append(Entry(start: start, value: value, first: -1, count: UInt32(count), writer: writer))
        return UInt32(entries.count)
    }

    public var count: Int { entries.count }

    /// The value of the byte at `address` as write `version` left it (0 for a version that
    /// did not write it: a line kept up to renaming no longer knows its stale values).
    public func value(at address: UInt64, version: UInt32) -> UInt8 {
        guard version > 0 else { return regions.first { address >= $0.base && address - $0.base < $0.size }?.initial ?? 0 }
        let index = Int(version) - 1
        guard index < entries.count else { return 0 }
        let entry = entries[index]
        guard address >= entry.start, address - entry.start < UInt64(entry.count) else { return 0 }
        let offset = Int(address - entry.start)
        return entry.first < 0 ? UInt8(truncatingIfNeeded: entry.value >> (8 * UInt64(offset))) : bytes[entry.first + offset]
    }

    /// Who made write `version` (nil for the initial contents).
    public func writer(of version: UInt32) -> Observer? {
        version > 0 ? observers[Int(entries[Int(version) - 1].writer)] : nil
    }

    /// The values of `range` of the line at `line` under `bytes`.
    public func values(_ bytes: LineBytes, line: UInt64, range: Range<Int>) -> [UInt8] {
        range.map { value(at: line + UInt64($0), version: bytes[$0]) }
    }
}

/// The write log as one line sees it: the line numbers its writes 1, 2, ... in its own order
/// (`versions[n]` is the run's version of the line's n-th write, `versions[0]` = 0), so that
/// lines with the same history hold equal states whatever else the run wrote.
public struct LineLog {
    public let log: WriteLog
    public let versions: [UInt32]

    public var details: FailureDetails { log.details }

    func global(_ version: UInt32) -> UInt32 { Int(version) < versions.count ? versions[Int(version)] : 0 }

    public func value(at address: UInt64, version: UInt32) -> UInt8 { log.value(at: address, version: global(version)) }

    public func writer(of version: UInt32) -> Observer? { log.writer(of: global(version)) }

    public func values(_ bytes: LineBytes, line: UInt64, range: Range<Int>) -> [UInt8] {
        range.map { value(at: line + UInt64($0), version: bytes[$0]) }
    }
}

/// The first human detail seen for each failure (which bytes, what they were and should have
/// been, who overwrote them). A reference, so that the value types that find failures can note
/// them; only the first note of a failure is kept, and notes are made in the run's order.
public final class FailureDetails: @unchecked Sendable {
    public struct Detail: Sendable {
        /// The first byte involved.
        public let address: UInt64
        public let text: String
    }

    private struct Key: Hashable {
        let failure: LineFailure
        let line: UInt64
    }

    private var details: [Key: Detail] = [:]

    public init() {}

    func note(_ failure: LineFailure, line: UInt64, address: UInt64, _ text: () -> String) {
        let key = Key(failure: failure, line: line)
        if details[key] == nil { details[key] = Detail(address: address, text: text()) }
    }

    public func detail(_ failure: LineFailure, line: UInt64) -> Detail? { details[Key(failure: failure, line: line)] }
}
