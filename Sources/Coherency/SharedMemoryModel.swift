import AArch64

/// Every line of the memory more than one observer touches, each explored on its own (or, in
/// replay mode, following one witness and recording a trace). Accesses are split at line
/// boundaries; a read whose value differs between explored states asks a `ValueChooser` which
/// value the guest sees, so that an execution is one guest path.
public struct SharedMemoryModel {
    public struct Region: Sendable {
        public let name: String
        public let base: UInt64
        public let size: UInt64
        public let initial: UInt8
        /// Whether some agent maps the region cacheable from the start (the VMM's mapping of
        /// guest RAM): its lines may be brought into a cache at any moment.
        public let hostCacheable: Bool

        public init(name: String, base: UInt64, size: UInt64, initial: UInt8, hostCacheable: Bool) {
            self.name = name
            self.base = base
            self.size = size
            self.initial = initial
            self.hostCacheable = hostCacheable
        }

        func contains(_ address: UInt64) -> Bool { address >= base && address - base < size }
    }

    public static let lineSize: UInt64 = 64

    public let regions: [Region]
    public private(set) var log: WriteLog
    public private(set) var lines: [UInt64: LineModel] = [:]
    /// Lines in the order first touched (iteration never goes through the dictionary).
    public private(set) var lineOrder: [UInt64] = []
    /// Replay mode: the witness of each line (lines not named follow no spontaneous step).
    private let replay: [UInt64: [WitnessStep]]?
    /// Replay mode: what happened, in order.
    public private(set) var trace: [TraceEntry] = []
    /// Results of events on lines with the same history, shared between them (nil: every line
    /// explored on its own, as the tests compare).
    public let memo: LineMemo?
    /// Accesses that bypass the caches on lines no cache can hold are taken without exploring
    /// (`LineModel.plainRead`/`plainWrite`; false: explored like any other, as the tests compare).
    public let plainLines: Bool

    public init(regions: [Region], replay: [UInt64: [WitnessStep]]? = nil, memoize: Bool = true, plainLines: Bool = true) {
        self.regions = regions
        self.replay = replay
        self.plainLines = plainLines
        memo = memoize && replay == nil ? LineMemo() : nil
        log = WriteLog(regions: regions.map { ($0.base, $0.size, $0.initial) })
    }

    public static func line(of address: UInt64) -> UInt64 { address & ~(lineSize - 1) }

    public func region(of address: UInt64) -> Region? { regions.first { $0.contains(address) } }

    public var isReplay: Bool { replay != nil }

    /// `body` on the line's model in place (made on first touch): a copy would copy its
    /// growing arrays on every event.
    private mutating func withModel<R>(_ line: UInt64, _ body: (inout LineModel) -> R) -> R {
        if lines[line] == nil { _ = model(line) }
        return body(&lines[line]!)
    }

    /// The line's model, made on first touch.
    private mutating func model(_ line: UInt64) -> LineModel {
        if let model = lines[line] { return model }
        let region = region(of: line)
        let cacheable = region?.hostCacheable ?? false
        let model = memo.map {
            LineModel(line: line, region: region?.name ?? "?", initial: $0.initial(cacheable: cacheable), cacheable: cacheable)
        } ?? LineModel(line: line, region: region?.name ?? "?", initial: LineBytes(), cacheable: cacheable,
                       replay: replay.map { $0[line] ?? [] })
        lines[line] = model
        lineOrder.append(line)
        return model
    }

    /// The parts of [address, address + count) by line: (line, byte range in the line, offset
    /// into the access).
    static func parts(_ address: UInt64, count: Int) -> [(line: UInt64, range: Range<Int>, offset: Int)] {
        var parts: [(UInt64, Range<Int>, Int)] = []
        var offset = 0
        while offset < count {
            let here = address + UInt64(offset), line = Self.line(of: here)
            let start = Int(here - line), end = min(Int(lineSize), start + count - offset)
            parts.append((line, start..<end, offset))
            offset += end - start
        }
        return parts
    }

    // MARK: accesses

    /// A read of `count` bytes at `address`: one value, chosen by `chooser` when the explored
    /// states differ on it (the guest), or every state kept and the first value returned (the
    /// host, whose next actions do not depend on what it read).
    public mutating func read(_ access: LineAccess, address: UInt64, count: Int, by observer: Observer,
                              label: @autoclosure () -> String, chooser: ValueChooser?) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        let (log, memo, plainLines) = (self.log, self.memo, self.plainLines)
        for part in Self.parts(address, count: count) {
            let before = isReplay ? lines[part.line]?.someState ?? model(part.line).someState : nil
            let bytes: [UInt8] = withModel(part.line) { line in
                if plainLines, chooser != nil, let versions = line.plainRead(access, range: part.range) {
                    return part.range.map { log.value(at: part.line + UInt64($0), version: versions[$0]) }
                }
                guard let chooser else { return line.hostRead(access, range: part.range, by: observer, log: log, memo: memo) }
                let values = line.read(access, range: part.range, by: observer, log: log)
                let index = values.count > 1 ? chooser.choose(among: values.count) : 0
                line.keep(index)
                return values[index]
            }
            result.replaceSubrange(part.offset..<part.offset + part.range.count, with: bytes)
            if let before {
                note(label() + " read \(part.range.count) byte(s) at \(hex(part.line + UInt64(part.range.lowerBound)))",
                     line: lines[part.line]!, before: before)
            }
        }
        return result
    }

    /// A write of `bytes` at `address` by `observer` (one write: one version).
    public mutating func write(_ access: LineAccess, address: UInt64, bytes: [UInt8], by observer: Observer,
                               label: @autoclosure () -> String) {
        let version = log.record(observer, start: address, bytes: bytes)
        let (log, memo, plainLines) = (self.log, self.memo, self.plainLines)
        for part in Self.parts(address, count: bytes.count) {
            let before = isReplay ? model(part.line).someState : nil
            withModel(part.line) { line in
                guard !plainLines || !line.plainWrite(access, range: part.range, version: version) else { return }
                line.write(access, range: part.range, version: version, log: log, writer: observer.observer, memo: memo)
            }
            if let before {
                note(label() + " write \(part.range.count) byte(s) at \(hex(part.line + UInt64(part.range.lowerBound)))",
                     line: lines[part.line]!, before: before)
            }
        }
    }

    /// A write within one line that bypasses the caches, taken without exploring when the line
    /// is plain (`LineModel.isPlain`: touched before, no cache can hold it); false, and nothing
    /// done, otherwise (and in replay mode, which traces every event).
    /// (The write stores the `count` low bytes of `value`, little-endian.)
    public mutating func plainWrite(_ access: LineAccess, address: UInt64, value: UInt64, count: Int, by observer: Observer) -> Bool {
        let line = Self.line(of: address), start = Int(address - line)
        guard plainLines, !isReplay, start + count <= Int(Self.lineSize), LineModel.bypassesCaches(access),
              inPlace(line, { $0.isPlain }) == true else { return false }
        let version = log.record(observer, start: address, value: value, count: count)
        inPlace(line) { $0.appendPlainWrite(range: start..<start + count, version: version) }
        return true
    }

    /// A read by the guest within one line that bypasses the caches, when the line is plain:
    /// the one value it can return; nil, and nothing done, otherwise.
    public mutating func plainRead(_ access: LineAccess, address: UInt64, count: Int) -> [UInt8]? {
        let line = Self.line(of: address), start = Int(address - line)
        guard plainLines, !isReplay, start + count <= Int(Self.lineSize),
              let versions = inPlace(line, { $0.plainRead(access, range: start..<start + count) }) ?? nil else { return nil }
        return (start..<start + count).map { log.value(at: line + UInt64($0), version: versions[$0]) }
    }

    /// An access to a line known to be plain, already served (in C: plain.h, from the line's
    /// latest bytes): a write to record, or a read that is only an event of its line.
    public struct PlainEvent: Sendable {
        public let access: LineAccess
        public let address: UInt64
        public let value: UInt64
        public let count: Int
        public let isWrite: Bool
        /// Who: a number from `observerID(_:)` (an event copies no observer).
        public let writer: UInt32

        public init(access: LineAccess, address: UInt64, value: UInt64, count: Int, isWrite: Bool, writer: UInt32) {
            self.access = access
            self.address = address
            self.value = value
            self.count = count
            self.isWrite = isWrite
            self.writer = writer
        }
    }

    /// The number that stands for `observer` in `PlainEvent`s replayed into this model.
    public mutating func observerID(_ observer: Observer) -> UInt32 { log.id(of: observer) }

    /// `plainWrite` and `plainRead` for `events`, in order, each run of events on one line
    /// found once. False as soon as one is not on a plain line (a broken invariant, which the
    /// caller traps).
    public mutating func replayPlain(_ events: [PlainEvent]) -> Bool {
        guard plainLines, !isReplay else { return false }
        // The log out of `self` for the loop, so that it grows in place beside the line.
        var log = WriteLog(regions: [])
        swap(&log, &self.log)
        defer { swap(&log, &self.log) }
        var index = 0
        while index < events.count {
            let line = Self.line(of: events[index].address)
            var end = index + 1
            while end < events.count, Self.line(of: events[end].address) == line { end += 1 }
            let run = events[index..<end]
            // `isPlain` once for the run: a plain access leaves its line plain.
            let done = inPlace(line) { model -> Bool in
                guard model.isPlain else { return false }
                for event in run {
                    let start = Int(event.address - line)
                    guard start + event.count <= Int(Self.lineSize), LineModel.bypassesCaches(event.access) else { return false }
                    if event.isWrite {
                        let version = log.record(writer: event.writer, start: event.address, value: event.value, count: event.count)
                        model.appendPlainWrite(range: start..<start + event.count, version: version)
                    } else {
                        model.notePlainEvent()
                    }
                }
                return true
            } ?? false
            guard done else { return false }
            index = end
        }
        return true
    }

    /// `body` on the model of a line already touched, in place (reading one through the
    /// dictionary's getter would copy it); nil when the line was never touched.
    private mutating func inPlace<R>(_ line: UInt64, _ body: (inout LineModel) -> R) -> R? {
        guard let index = lines.index(forKey: line) else { return nil }
        return body(&lines.values[index])
    }

    /// Maintenance on the lines of [address, address + count) that an access has touched (a
    /// line nobody touched is in memory alone, or cached clean by speculation: maintenance
    /// changes nothing a later event could tell).
    public mutating func maintain(_ operation: LineMaintenance, address: UInt64, count: UInt64, label: String) {
        var line = Self.line(of: address)
        while line < address + count {
            if lines[line] != nil { maintain(operation, line: line, label: label) }
            line += Self.lineSize
        }
    }

    /// Maintenance on every line any agent has touched (a stage-2 flush, a migration's clean).
    public mutating func maintainAll(_ operation: LineMaintenance, label: String) {
        for line in lineOrder { maintain(operation, line: line, label: label) }
    }

    /// Maintenance on the touched lines whose set (PA bits [12:6]) is `set`.
    public mutating func maintain(_ operation: LineMaintenance, set: UInt64, sets: UInt64, label: String) {
        for line in lineOrder where (line / Self.lineSize) % sets == set {
            maintain(operation, line: line, label: label)
        }
    }

    private mutating func maintain(_ operation: LineMaintenance, line address: UInt64, label: String) {
        let before = isReplay ? model(address).someState : nil
        let (log, memo) = (self.log, self.memo)
        withModel(address) { $0.maintain(operation, log: log, memo: memo) }
        if let before { note(label, line: lines[address]!, before: before) }
    }

    /// The byte at `address` as memory holds it in the first state (for bytes the emulator
    /// fetches that no guest access asked for).
    public func peek(_ address: UInt64) -> UInt8 {
        let line = Self.line(of: address), offset = Int(address - line)
        guard let model = lines[line] else { return region(of: address)?.initial ?? 0 }
        return log.value(at: address, version: model.globalVersion(model.someState.memory[offset]))
    }

    /// The end of the run.
    public mutating func finish() {
        for address in lineOrder {
            lines[address]!.finish(log: log, memo: memo)
        }
    }

    public var cutShort: Bool { lines.values.contains { $0.cutShort } }

    /// What the lines themselves cannot vouch for.
    public var undecided: [UndecidedReason] {
        var reasons: [UndecidedReason] = []
        for address in lineOrder {
            let line = lines[address]!
            if line.guestReadAbstracted {
                reasons.append(UndecidedReason(.failures, "the guest read line \(hex(address)) after the model kept its states only up to renaming: not every stale value it could read was explored"))
            }
            if line.writeHitsOmitted {
                reasons.append(UndecidedReason(.alwaysOfFailures, "a Non-cacheable write met a cached copy of line \(hex(address)) (mismatched attributes): an update of that copy, which could only avoid a failure, is not explored"))
            }
        }
        return reasons
    }

    // MARK: trace (replay mode)

    private mutating func note(_ what: String, line: LineModel, before: LineState?) {
        guard let before else { return }
        trace.append(TraceEntry(what: what, line: line.line, steps: line.applied.map(\.description),
                                before: describe(before, in: line), after: describe(line.someState, in: line),
                                failures: line.someState.failures.map { "\($0.kind)(\($0.observer))" }))
    }

    /// A line state for a person: each copy's bytes as runs of equal values.
    func describe(_ state: LineState, in model: LineModel) -> String {
        let line = model.line, log = model.view(log)
        func bytes(_ versions: LineBytes) -> String {
            let values = log.values(versions, line: line, range: 0..<LineBytes.count)
            var runs: [String] = []
            var start = 0
            while start < values.count {
                var end = start
                while end + 1 < values.count && values[end + 1] == values[start] { end += 1 }
                runs.append(hexDump([values[start]]) + "×\(end - start + 1)")
                start = end + 1
            }
            return runs.joined(separator: " ")
        }
        func copy(_ name: String, _ copy: CachedCopy?) -> String {
            guard let copy else { return "\(name) -" }
            return "\(name) \(copy.dirty ? "dirty" : "clean") \(bytes(copy.bytes))"
        }
        return [copy("I", state.inner), copy("O", state.outer), "M \(bytes(state.memory))"].joined(separator: "; ")
    }
}

/// Picks which of a read's possible values the guest sees (an execution is one guest path).
public protocol ValueChooser: AnyObject {
    func choose(among count: Int) -> Int
}

/// One event of a replayed execution: the cache moves made before it, what happened, and the
/// line before and after (I the inner level, O the outer, M memory at the PoC).
public struct TraceEntry: Sendable {
    public let what: String
    public let line: UInt64
    public let steps: [String]
    public let before: String
    public let after: String
    /// The failures the line has shown so far.
    public let failures: [String]
}
