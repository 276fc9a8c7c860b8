import AArch64

/// What a read of a line can return, and the state it leaves.
public struct ReadOutcome: Hashable, Sendable {
    /// The copy the bytes came from.
    public let source: LineBytes
    public let state: LineState
    /// Which of the read's possible sources this is (0: the one a coherent system uses).
    public let variant: UInt8
}

extension LineState {
    /// Every way a read by `access` can be served, by distinct source. A cacheable access hits
    /// the inner copy when there is one, else the outer (when outer-cacheable), else memory,
    /// and allocates what it read. An access whose attribute at a level is Non-cacheable may
    /// still be served by a copy another alias left there: with mismatched attributes the Arm
    /// ARM only says such a read "might not return the value most recently written", so every
    /// present copy is a possible source.
    public func reads(_ access: LineAccess) -> [ReadOutcome] {
        var sources: [(LineBytes, CacheLevel?)] = []
        func add(_ bytes: LineBytes, _ level: CacheLevel?) {
            if !sources.contains(where: { $0.0 == bytes }) { sources.append((bytes, level)) }
        }
        switch access {
        case .nonCoherentDMA:
            add(memory, nil)
        case .coherentDMA:
            // A snoop must take dirty data from the cache that owns it; a clean copy or memory
            // may serve the rest.
            if let inner, inner.dirty { add(inner.bytes, .inner) }
            else if let outer, outer.dirty { add(outer.bytes, .outer) }
            else {
                add(memory, nil)
                if let inner { add(inner.bytes, .inner) }
                if let outer { add(outer.bytes, .outer) }
            }
        case .cpu(let innerAttribute, let outerAttribute):
            if innerAttribute != .nonCacheable, let inner {
                add(inner.bytes, .inner)
            } else if outerAttribute != .nonCacheable, let outer {
                add(outer.bytes, .outer)
            } else {
                add(memory, nil)
                // Mismatched attributes: a copy another alias left may serve a Non-cacheable level.
                if let outer { add(outer.bytes, .outer) }
            }
            if innerAttribute == .nonCacheable, let inner { add(inner.bytes, .inner) }
        }
        return sources.enumerated().map { index, source in
            ReadOutcome(source: source.0, state: allocating(source.0, from: source.1, for: access), variant: UInt8(index))
        }
    }

    /// After a cacheable read: the inner level allocates what was read (inner-cacheable), the
    /// outer level what came from memory (outer-cacheable). Not allocating is the same as
    /// allocating and evicting at once, which the spontaneous steps include: allocation hints
    /// are hints (Arm ARM: attributes that differ only in hints behave alike).
    private func allocating(_ bytes: LineBytes, from level: CacheLevel?, for access: LineAccess) -> LineState {
        guard case .cpu(let innerAttribute, let outerAttribute) = access else { return self }
        var state = self
        if outerAttribute != .nonCacheable, state.outer == nil, level == nil {
            state.outer = CachedCopy(bytes: bytes, dirty: false)
        }
        if innerAttribute != .nonCacheable, state.inner == nil {
            state.inner = CachedCopy(bytes: bytes, dirty: false)
        }
        return state
    }

    /// Every state a write of `range` (as write `version`) by `access` can leave. A
    /// Write-Back level takes the write (allocating first: a no-write-allocate store may still
    /// allocate); Write-Through updates its copy and passes the write on; Non-cacheable passes
    /// it on.
    public func writes(_ access: LineAccess, range: Range<Int>, version: UInt32, line: UInt64,
                       log: LineLog) -> [LineState] {
        switch access {
        case .nonCoherentDMA:
            var state = self
            state.memory = memory.writing(version, at: range)
            return [state]
        case .coherentDMA:
            // The snoop makes the owners write back first, then the caches drop the line.
            var state = self
            state.cleanAndInvalidate(line: line, log: log)
            state.memory = state.memory.writing(version, at: range)
            return [state]
        case .cpu(let innerAttribute, let outerAttribute):
            var results: [LineState] = []
            for state in writingInner(innerAttribute, range: range, version: version) {
                if innerAttribute == .writeBack {
                    results.append(state)
                } else {
                    results += state.writingOuter(outerAttribute, range: range, version: version)
                }
            }
            return Array(Set(results))
        }
    }

    private func writingInner(_ attribute: Cacheability, range: Range<Int>, version: UInt32) -> [LineState] {
        var state = self
        switch attribute {
        case .writeBack, .writeThrough:
            let base = inner?.bytes ?? outer?.bytes ?? memory
            let dirty = attribute == .writeBack || (inner?.dirty ?? false)
            state.inner = CachedCopy(bytes: base.writing(version, at: range), dirty: dirty)
            return [state]
        case .nonCacheable:
            // A copy another alias left is not updated: with mismatched attributes an update is
            // allowed too, but it only makes a copy newer, which can never lose a write or make
            // a read stale; the verdicts say so where it could have saved one (README).
            return [self]
        }
    }

    private func writingOuter(_ attribute: Cacheability, range: Range<Int>, version: UInt32) -> [LineState] {
        var state = self
        switch attribute {
        case .writeBack, .writeThrough:
            let base = outer?.bytes ?? memory
            let dirty = attribute == .writeBack || (outer?.dirty ?? false)
            state.outer = CachedCopy(bytes: base.writing(version, at: range), dirty: dirty)
            if attribute == .writeThrough { state.memory = memory.writing(version, at: range) }
            return [state]
        case .nonCacheable:
            state.memory = memory.writing(version, at: range)
            return [state]
        }
    }
}

/// A cache's own move on a line, at any moment between two events (a line may leave a cache,
/// be written back, or be brought in by a speculative access through any cacheable alias).
public enum SpontaneousStep: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case evictInnerToOuter, evictInnerToMemory, cleanInnerToOuter, cleanInnerToMemory
    case evictOuter, cleanOuter, fillInner, fillOuter

    /// The spelling in schedule IDs and traces.
    public var description: String {
        switch self {
        case .evictInnerToOuter: "ei"
        case .evictInnerToMemory: "em"
        case .cleanInnerToOuter: "ci"
        case .cleanInnerToMemory: "cm"
        case .evictOuter: "eo"
        case .cleanOuter: "co"
        case .fillInner: "fi"
        case .fillOuter: "fo"
        }
    }

    public init?(_ text: some StringProtocol) {
        guard let step = Self.allCases.first(where: { $0.description == text }) else { return nil }
        self = step
    }
}

extension LineState {
    /// The state after `step`, or nil when the step does not apply (nothing to evict, or the
    /// line may not be cached at all).
    public func after(_ step: SpontaneousStep, cacheable: Bool, line: UInt64, log: LineLog) -> LineState? {
        // No copy to move and none allowed in: nothing applies (checked before any copy).
        if inner == nil && outer == nil && !cacheable { return nil }
        var state = self
        switch step {
        case .evictInnerToOuter, .cleanInnerToOuter:
            guard inner?.dirty == true else { return step == .evictInnerToOuter && inner != nil ? state.dropping(.inner) : nil }
            state.writeBackInnerToOuter(line: line, log: log)
            if step == .evictInnerToOuter { state.inner = nil }
        case .evictInnerToMemory, .cleanInnerToMemory:
            // Past the outer level only when it holds no copy (a write-back meets the copy).
            guard inner?.dirty == true, outer == nil else { return nil }
            state.writeBackInnerToMemory(line: line, log: log)
            if step == .evictInnerToMemory { state.inner = nil }
        case .evictOuter, .cleanOuter:
            guard let outer else { return nil }
            guard outer.dirty else { return step == .evictOuter ? state.dropping(.outer) : nil }
            state.writeBackOuter(line: line, log: log)
            if step == .evictOuter { state.outer = nil }
        case .fillInner:
            guard cacheable, inner == nil else { return nil }
            state.inner = CachedCopy(bytes: outer?.bytes ?? memory, dirty: false)
        case .fillOuter:
            guard cacheable, outer == nil else { return nil }
            state.outer = CachedCopy(bytes: memory, dirty: false)
        }
        return state
    }

    private func dropping(_ level: CacheLevel) -> LineState {
        var state = self
        state[level] = nil
        return state
    }
}
