/// The eviction choices of one schedule, made as the run asks for them. At every decision
/// point (before and after the host acts at a sync point, and at the end of the run) each
/// resident line of the candidate set is either evicted or kept; choices past the prefix the
/// explorer set default to "kept". The explorer owns it: the run only asks.
public final class EvictionChooser {
    public let prefix: [Bool]
    public private(set) var decisionsMade = 0

    public init(prefix: [Bool] = []) { self.prefix = prefix }

    /// The next choice: true = evict.
    public func nextChoice() -> Bool {
        defer { decisionsMade += 1 }
        return decisionsMade < prefix.count ? prefix[decisionsMade] : false
    }
}

/// Systematic exploration of eviction schedules, depth first: every distinct sequence of
/// choices is run once (a run that meets D decision points after an n-long prefix branches at
/// each of the D - n new ones).
public enum ScheduleExplorer {
    public struct Result<State: Hashable & Sendable>: Sendable {
        /// Each distinct final state with the number of schedules that reach it, in the order
        /// first reached.
        public var states: [(state: State, schedules: Int)]
        public var explored: Int
        /// True when the cap stopped the exploration before every schedule was run.
        public var cutShort: Bool

        public init(states: [(state: State, schedules: Int)], explored: Int, cutShort: Bool) {
            self.states = states
            self.explored = explored
            self.cutShort = cutShort
        }
    }

    public static func explore<State: Hashable & Sendable>(
        cap: Int, _ run: (EvictionChooser) throws -> State
    ) rethrows -> Result<State> {
        var pending: [[Bool]] = [[]]
        var counts: [State: Int] = [:]
        var order: [State] = []
        var explored = 0
        while let prefix = pending.popLast() {
            if explored == cap { return Result(states: order.map { ($0, counts[$0]!) }, explored: explored, cutShort: true) }
            let chooser = EvictionChooser(prefix: prefix)
            let state = try run(chooser)
            explored += 1
            if counts[state] == nil { order.append(state) }
            counts[state, default: 0] += 1
            // Branch at each decision this run took by default, last first so that schedules
            // are explored in lexicographic order of their choices.
            let made = chooser.decisionsMade
            if made > prefix.count {
                for index in (prefix.count..<made).reversed() {
                    pending.append(prefix + Array(repeating: false, count: index - prefix.count) + [true])
                }
            }
        }
        return Result(states: order.map { ($0, counts[$0]!) }, explored: explored, cutShort: false)
    }
}
