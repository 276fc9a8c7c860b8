import AArch64

/// A copy of a line held in a cache level.
public struct CachedCopy: Hashable, Sendable {
    public var bytes: LineBytes
    public var dirty: Bool

    public init(bytes: LineBytes, dirty: Bool) {
        self.bytes = bytes
        self.dirty = dirty
    }
}

/// A failure seen on a line: who read stale data (stale-read), or whose write a write-back
/// overwrote (lost-write). A state keeps only these marks, so that states that differ only in
/// where on the line a failure happened are one; the first address and detail of each are kept
/// in the write log's `FailureDetails`.
public struct LineFailure: Hashable, Sendable, Comparable {
    public let kind: CoherencyFailure.Kind
    public let observer: String

    public init(kind: CoherencyFailure.Kind, observer: String) {
        self.kind = kind
        self.observer = observer
    }

    public static func < (a: LineFailure, b: LineFailure) -> Bool {
        (a.kind.rawValue, a.observer) < (b.kind.rawValue, b.observer)
    }
}

/// One line of shared memory in one execution: its bytes at the Point of Coherency, and the
/// copies held by the two modelled cache levels. The inner level stands for every cache an
/// inner-cacheable access may allocate in (shared, coherently, by the guest's and the VMM's
/// CPUs); the outer level for every cache between it and the PoC (a system cache), which all
/// agents but non-coherent masters go through (README, "Coherency").
public struct LineState: Hashable, Sendable {
    public var memory: LineBytes
    public var inner: CachedCopy?
    public var outer: CachedCopy?
    /// The failures this execution has shown on the line so far, sorted.
    public private(set) var failures: [LineFailure] = []

    public init(memory: LineBytes) {
        self.memory = memory
    }

    mutating func record(_ failure: LineFailure) {
        guard !failures.contains(failure) else { return }
        failures.append(failure)
        failures.sort()
    }

    /// One digest of the memory bytes and both copies (states are hashed on every insert).
    public func hash(into hasher: inout Hasher) {
        var h = memory.digest
        if let inner { h = (h ^ inner.bytes.digest &+ (inner.dirty ? 1 : 2)) &* 0xC4CE_B9FE_1A85_EC53 }
        if let outer { h = (h ^ outer.bytes.digest &+ (outer.dirty ? 3 : 4)) &* 0x94D0_49BB_1331_11EB }
        hasher.combine(h)
        hasher.combine(failures.count)
    }

    /// Neither level holds a copy (the tags only: comparing the optionals with nil copies them).
    var hasNoCopy: Bool {
        if case .some = inner { return false }
        if case .some = outer { return false }
        return true
    }

    public subscript(level: CacheLevel) -> CachedCopy? {
        get { level == .inner ? inner : outer }
        set { if level == .inner { inner = newValue } else { outer = newValue } }
    }
}

/// The two modelled cache levels.
public enum CacheLevel: String, Hashable, Sendable, CaseIterable {
    case inner, outer
}

/// How an access may use the caches: a CPU access by the cacheability of its effective
/// attribute at each level (Device and Non-cacheable are `nonCacheable` at both), a coherent
/// DMA master that snoops every cache, or a non-coherent one that only sees the PoC.
public enum LineAccess: Hashable, Sendable {
    case cpu(inner: Cacheability, outer: Cacheability)
    case coherentDMA
    case nonCoherentDMA

    /// The VMM's mapping of guest memory: Normal Write-Back at both levels.
    public static let writeBack = LineAccess.cpu(inner: .writeBack, outer: .writeBack)
    public static let nonCacheable = LineAccess.cpu(inner: .nonCacheable, outer: .nonCacheable)

    public var isCacheable: Bool {
        if case .cpu(let inner, let outer) = self { return inner != .nonCacheable || outer != .nonCacheable }
        return false
    }
}

extension LineState {
    /// Writes `copy` back over `destination` (a cache copy or the PoC); every byte of the
    /// destination that holds a newer write than the copy is a lost write of that write
    /// (Arm ARM, mismatched attributes: bytes written without Write-Back "might have their
    /// values reverted to the old values as a result of cache Write-Back").
    mutating func writeBack(_ copy: LineBytes, over destination: LineBytes, line: UInt64, log: LineLog) -> LineBytes {
        let lost = (0..<LineBytes.count).filter { destination[$0] > copy[$0] }
        for version in Set(lost.map { destination[$0] }).sorted() {
            guard let writer = log.writer(of: version) else { continue }
            let bytes = lost.filter { destination[$0] == version }
            let failure = LineFailure(kind: .lostWrite, observer: writer.observer)
            record(failure)
            log.details.note(failure, line: line, address: line + UInt64(bytes[0])) {
                let from = Set((0..<LineBytes.count).compactMap { log.writer(of: copy[$0])?.description }).sorted()
                return "\(bytes.count) byte(s) that \(writer) wrote at \(hex(line + UInt64(bytes[0]))) were overwritten when line \(hex(line)) was written back (dirty data from \(from.isEmpty ? "its fill" : from.joined(separator: ", ")))"
            }
        }
        return copy
    }

    /// The inner copy written back to the outer level (allocating there if absent).
    mutating func writeBackInnerToOuter(line: UInt64, log: LineLog) {
        guard let copy = inner, copy.dirty else { return }
        let over = outer?.bytes ?? memory
        outer = CachedCopy(bytes: writeBack(copy.bytes, over: over, line: line, log: log), dirty: true)
        inner?.dirty = false
    }

    /// The inner copy written back to the PoC, past the outer level.
    mutating func writeBackInnerToMemory(line: UInt64, log: LineLog) {
        guard let copy = inner, copy.dirty else { return }
        memory = writeBack(copy.bytes, over: memory, line: line, log: log)
        inner?.dirty = false
    }

    mutating func writeBackOuter(line: UInt64, log: LineLog) {
        guard let copy = outer, copy.dirty else { return }
        memory = writeBack(copy.bytes, over: memory, line: line, log: log)
        outer?.dirty = false
    }

    /// Clean to the Point of Coherency (DC CVAC, and the clean half of DC CIVAC): the inner
    /// copy through the outer level to memory, then the outer copy.
    mutating func cleanToPoC(line: UInt64, log: LineLog) {
        if outer != nil { writeBackInnerToOuter(line: line, log: log) } else { writeBackInnerToMemory(line: line, log: log) }
        writeBackOuter(line: line, log: log)
    }

    /// Clean and invalidate to the PoC (DC CIVAC; DC IVAC under HCR_EL2.VM = 1; KVM's
    /// `__flush_dcache_area` for a stage-2 flush or a clean on map).
    mutating func cleanAndInvalidate(line: UInt64, log: LineLog) {
        cleanToPoC(line: line, log: log)
        inner = nil
        outer = nil
    }

    /// Clean to the Point of Unification (DC CVAU): the inner copy reaches the outer level.
    mutating func cleanToPoU(line: UInt64, log: LineLog) {
        writeBackInnerToOuter(line: line, log: log)
    }
}

extension LineState {
    /// The state with each byte's versions renamed, keeping only what decides every future
    /// failure: which copies hold the latest write (the reference) and the order of the older
    /// ones (a write-back loses what is newer than it). Versions below the reference become
    /// reference - 1, - 2, ... by age. Two states with the same renaming behave alike under
    /// every future event (new writes are newer than all), so the explorer may keep one; only
    /// the values of stale bytes are lost (see `LineModel.abstracted`).
    func renamed(reference: LineBytes) -> LineState {
        var state = self
        let hasInner = inner != nil, hasOuter = outer != nil
        for index in 0..<LineBytes.count {
            let top = reference[index]
            let m = memory[index], i = hasInner ? inner!.bytes[index] : top, o = hasOuter ? outer!.bytes[index] : top
            guard m < top || i < top || o < top else { continue }
            // The distinct versions below the reference, newest first, renamed top-1, top-2, ...
            var ranks: (UInt32, UInt32, UInt32) = (0, 0, 0)
            var count = 0
            func note(_ version: UInt32) {
                guard version < top, !(count > 0 && ranks.0 == version), !(count > 1 && ranks.1 == version) else { return }
                switch count {
                case 0: ranks.0 = version
                case 1: ranks.1 = version
                default: ranks.2 = version
                }
                count += 1
            }
            note(m)
            note(i)
            note(o)
            func rename(_ version: UInt32) -> UInt32 {
                guard version < top else { return version }
                var newer: UInt32 = 0
                if count > 0 && ranks.0 > version { newer += 1 }
                if count > 1 && ranks.1 > version { newer += 1 }
                if count > 2 && ranks.2 > version { newer += 1 }
                return top - 1 - newer
            }
            state.memory[index] = rename(m)
            if hasInner { state.inner!.bytes[index] = rename(i) }
            if hasOuter { state.outer!.bytes[index] = rename(o) }
        }
        return state
    }
}
