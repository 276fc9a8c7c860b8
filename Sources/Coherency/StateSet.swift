/// Line states with their witnesses, in the order they were first reached. Swift's hashing is
/// seeded per process, so every iteration goes through this order, never through a
/// dictionary's: the same run explores the same way and names the same witnesses everywhere.
public struct StateSet: Sendable {
    public private(set) var states: [LineState] = []
    public private(set) var witnesses: [Witness?] = []
    private var index: [LineState: Int] = [:]

    public init() {}

    public init(_ state: LineState, witness: Witness? = nil) {
        insert(state, witness: witness)
    }

    public var count: Int { states.count }

    /// Below this many states a set is searched linearly (no hashing, no table to allocate:
    /// most lines have a handful of states).
    static let linearLimit = 12

    public func contains(_ state: LineState) -> Bool {
        states.count <= Self.linearLimit ? states.contains(state) : index[state] != nil
    }

    /// Adds `state` unless present (the first witness found is kept); true when added.
    @discardableResult
    public mutating func insert(_ state: LineState, witness: Witness?) -> Bool {
        if states.count < Self.linearLimit {
            guard !states.contains(state) else { return false }
        } else {
            if index.isEmpty { for (position, known) in states.enumerated() { index[known] = position } }
            guard index[state] == nil else { return false }
            index[state] = states.count
        }
        states.append(state)
        witnesses.append(witness)
        return true
    }

    public var pairs: Zip2Sequence<[LineState], [Witness?]> { zip(states, witnesses) }

    /// A set of one state, with no copy in either cache level (read in place: a state is some
    /// 800 bytes, and copying one retains its failures).
    var soleStateHasNoCopy: Bool {
        states.count == 1 && states.withUnsafeBufferPointer { $0[0].hasNoCopy }
    }

    /// Changes the one state of a set of one in place (its witness stays).
    mutating func updateSole(_ body: (inout LineState) -> Void) {
        precondition(states.count == 1 && index.isEmpty)
        body(&states[0])
    }
}
