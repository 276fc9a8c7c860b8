import AArch64

/// What the exploration found, as a run record carries it: how much was explored and whether
/// it was complete, each distinct final state with a schedule that reaches it, each failure
/// with a schedule that shows it, and the snippet's conditions judged over the states.
public struct ExplorationOutcome: Sendable, Equatable {
    public var schedules: ScheduleSummary
    public var states: [StateSummary]
    public var failures: [FailureSummary]
    public var conditions: [ConditionVerdict]
    /// Why Always and Never could not be claimed (empty when the exploration was complete).
    public var undecided: [String]

    /// The summaries of `exploration`; `expectations` are the conditions the snippet states for
    /// `policy`, with their reasons.
    public init(_ exploration: Exploration, cap: Int, expectations: [(condition: Condition, reason: String)], policy: String) {
        schedules = ScheduleSummary(explored: exploration.executions, cutShort: exploration.cutShort, cap: cap,
                                    candidateLines: exploration.candidateLines.sorted().map(hex),
                                    lineStates: exploration.lineStates)
        states = zip(exploration.states, exploration.witnesses).map { state, witness in
            StateSummary(failures: state.failures.sorted().map(\.description), end: state.end,
                         schedule: witness.description)
        }
        failures = exploration.failures.map { found, schedule, detail in
            FailureSummary(kind: found.failure.kind, observer: found.failure.observer,
                           address: hex(detail?.address ?? found.line), region: found.region,
                           states: exploration.states.filter { $0.failures.contains(found.tag) }.count,
                           schedule: schedule.description, detail: detail?.text ?? "")
        }
        undecided = exploration.undecided.map(\.reason) + (exploration.cutShort ? ["the exploration was cut short (cap \(cap))"] : [])
        conditions = expectations.map { expectation in
            let verdict = expectation.condition.verdict(over: exploration.states, decidability: exploration.decidability)
            return ConditionVerdict(condition: expectation.condition.description, policy: policy,
                                    observation: verdict.observation, positive: verdict.positive,
                                    negative: verdict.negative, holds: verdict.holds,
                                    schedule: verdict.witness.map { exploration.witnesses[$0].description },
                                    reason: expectation.reason)
        }
    }
}

public struct ScheduleSummary: Codable, Sendable, Equatable {
    /// Guest executions run: one per combination of values its reads could see.
    public var explored: Int
    /// True when a cap stopped the exploration: Always and Never are then not claimed.
    public var cutShort: Bool
    public var cap: Int
    /// The lines that ended with different failures in different executions: where the
    /// caches' timing mattered.
    public var candidateLines: [String]
    /// The most states one line reached.
    public var lineStates: Int

    public init(explored: Int, cutShort: Bool, cap: Int, candidateLines: [String], lineStates: Int) {
        self.explored = explored
        self.cutShort = cutShort
        self.cap = cap
        self.candidateLines = candidateLines
        self.lineStates = lineStates
    }

    enum CodingKeys: String, CodingKey {
        case explored, cutShort = "cut_short", cap, candidateLines = "candidate_lines", lineStates = "line_states"
    }
}

/// A distinct final state: its failures (`kind(observer, region)`), how the run ended, and a
/// schedule that reaches it (`mairlab run SNIPPET --schedule ID` replays it).
public struct StateSummary: Codable, Sendable, Equatable {
    public var failures: [String]
    public var end: String
    public var schedule: String
}

public struct FailureSummary: Codable, Sendable, Equatable {
    public var kind: CoherencyFailure.Kind
    /// Who read stale data, or whose write was lost.
    public var observer: String
    /// The first byte involved.
    public var address: String
    public var region: String
    /// How many distinct final states show a failure of this kind, observer and region.
    public var states: Int
    /// A schedule that shows it: its witness.
    public var schedule: String
    /// Which bytes, what they were and should have been, or who overwrote them (first seen).
    public var detail: String
}

public struct ConditionVerdict: Codable, Sendable, Equatable {
    public var condition: String
    public var policy: String
    /// `Always`, `Sometimes`, `Never` or `Undecided`: how often the predicate held.
    public var observation: Verdict.Observation
    public var positive: Int
    public var negative: Int
    /// Whether the condition holds: true, false, or null when it cannot be decided.
    public var holds: Bool?
    /// A schedule where the predicate holds (for a failing `forall`, where it does not).
    public var schedule: String?
    public var reason: String
}
