/// A line's states as one immutable object: lines whose histories are the same (a framebuffer's
/// lines, filled alike and read alike) hold the same object, which the memo keys on.
public final class StateSnapshot: @unchecked Sendable {
    public let set: StateSet
    public init(_ set: StateSet) { self.set = set }
}

/// What an event did to a line's states, remembered by the state object it started from: a
/// line whose states are that same object and which meets the same event takes the result
/// instead of exploring again. Exact: lines are independent and their states number writes in
/// their own order (`LineLog`), so the same states under the same event give the same states.
/// Only events whose outcome does not depend on values are memoized (writes, maintenance, the
/// host's reads, the end); a guest read, whose value the guest may act on, is always explored.
public final class LineMemo: @unchecked Sendable {
    /// An event as it acts on a line's states (versions in the line's own numbering).
    public enum Event: Hashable, Sendable {
        case write(LineAccess, Range<Int>, version: UInt32, writer: String)
        case hostRead(LineAccess, Range<Int>, observer: String)
        case maintain(LineMaintenance)
        case finish
    }

    struct Key: Hashable {
        let input: ObjectIdentifier
        let event: Event
        let events: Int
        let cacheable: Bool
        let abstracted: Bool
    }

    struct Entry {
        /// Kept alive so that its identifier is not reused while the entry stands.
        let input: StateSnapshot
        let output: StateSnapshot
        let events: Int
        let cacheable: Bool
        let abstracted: Bool
        let cutShort: Bool
        let writeHitsOmitted: Bool
        /// Failures the event made appear (a line taking the result must note their details).
        let newFailures: Set<LineFailure>
    }

    private var entries: [Key: Entry] = [:]
    private var initials: [Bool: StateSnapshot] = [:]
    /// Entries kept at most (each holds two state sets); the memo starts over past it.
    static let capacity = 512
    public private(set) var hits = 0

    public init() {}

    /// The starting states of a line (memory at the region's initial contents, no copy),
    /// shared by every line so that their histories can meet in the memo.
    func initial(cacheable: Bool) -> StateSnapshot {
        if let snapshot = initials[cacheable] { return snapshot }
        let snapshot = StateSnapshot(StateSet(LineState(memory: LineBytes())))
        initials[cacheable] = snapshot
        return snapshot
    }

    func lookup(_ key: Key) -> Entry? {
        guard let entry = entries[key] else { return nil }
        hits += 1
        return entry
    }

    func store(_ key: Key, _ entry: Entry) {
        if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = entry
    }
}

extension LineModel {
    /// Applies an event through `memo`: the remembered result when this line's states are an
    /// object the memo has seen meet this event, else `compute` (and the result remembered).
    mutating func memoized(_ event: LineMemo.Event, memo: LineMemo?, compute: (inout LineModel) -> Void) {
        guard let memo, !isReplay, let input = snapshot else {
            compute(&self)
            snapshot = isReplay ? nil : StateSnapshot(states)
            return
        }
        let key = LineMemo.Key(input: ObjectIdentifier(input), event: event, events: events, cacheable: cacheable,
                               abstracted: abstracted)
        if let hit = memo.lookup(key) {
            if !hit.newFailures.isSubset(of: noted) {
                // Only for the failure details of this line (its addresses and values): the
                // states are the remembered ones.
                var scratch = self
                compute(&scratch)
                noted.formUnion(hit.newFailures)
            }
            adopt(hit)
            return
        }
        compute(&self)
        let output = StateSnapshot(states)
        snapshot = output
        let before = Set(input.set.states.flatMap(\.failures)), after = Set(states.states.flatMap(\.failures))
        noted.formUnion(after)
        memo.store(key, LineMemo.Entry(input: input, output: output, events: events, cacheable: cacheable, abstracted: abstracted,
                                       cutShort: cutShort, writeHitsOmitted: writeHitsOmitted,
                                       newFailures: after.subtracting(before)))
    }
}
