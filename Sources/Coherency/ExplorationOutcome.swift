import AArch64

/// What exploring the eviction schedules found, as a run record carries it: how many schedules,
/// each distinct final state, each failure with how many schedules show it, and the snippet's
/// conditions judged over the states.
public struct ExplorationOutcome: Sendable, Equatable {
    public var schedules: ScheduleSummary
    public var states: [StateSummary]
    public var failures: [FailureSummary]
    public var conditions: [ConditionVerdict]

    /// The summaries of `result`; `details` gives the first detail seen for each failure, and
    /// `expectations` the conditions the snippet states for `policy`, with their reasons.
    public init(result: ScheduleExplorer.Result<FinalState>, cap: Int, candidateLines: Set<UInt64>,
                details: [FinalState.Failure: String], expectations: [(condition: Condition, reason: String)],
                policy: String) {
        schedules = ScheduleSummary(explored: result.explored, cutShort: result.cutShort, cap: cap,
                                    candidateLines: candidateLines.sorted().map(hex))
        states = result.states.map { state, count in
            StateSummary(schedules: count,
                         hostReads: Dictionary(state.hostReads.map { ($0.label, hexBytes($0.bytes)) },
                                                  uniquingKeysWith: { first, _ in first }),
                         failures: state.failures.map { "\($0.kind.rawValue) \($0.observer) \(hex($0.address))" })
        }
        let keys = Set(result.states.flatMap(\.state.failures)).sorted()
        failures = keys.map { key in
            FailureSummary(kind: key.kind, observer: key.observer, address: hex(key.address), region: key.region,
                           schedules: result.states.filter { $0.state.failures.contains(key) }.reduce(0) { $0 + $1.schedules },
                           detail: details[key] ?? "")
        }
        conditions = expectations.map { expectation in
            let verdict = expectation.condition.verdict(over: result.states)
            return ConditionVerdict(condition: expectation.condition.description, policy: policy,
                                    observation: verdict.observation, positive: verdict.positive,
                                    negative: verdict.negative, holds: verdict.holds, reason: expectation.reason)
        }
    }
}

public struct ScheduleSummary: Codable, Sendable, Equatable {
    public var explored: Int
    /// True when the cap stopped the exploration before every schedule ran.
    public var cutShort: Bool
    public var cap: Int
    /// The lines whose eviction timing was explored: touched both cacheably and not.
    public var candidateLines: [String]

    public init(explored: Int, cutShort: Bool, cap: Int, candidateLines: [String]) {
        self.explored = explored
        self.cutShort = cutShort
        self.cap = cap
        self.candidateLines = candidateLines
    }

    enum CodingKeys: String, CodingKey {
        case explored, cutShort = "cut_short", cap, candidateLines = "candidate_lines"
    }
}

public struct StateSummary: Codable, Sendable, Equatable {
    public var schedules: Int
    /// Host read label -> the bytes it saw, hex.
    public var hostReads: [String: String]
    public var failures: [String]

    enum CodingKeys: String, CodingKey { case schedules, hostReads = "observations", failures }
}

public struct FailureSummary: Codable, Sendable, Equatable {
    public var kind: CoherencyFailure.Kind
    /// Who read stale data, or whose write was lost.
    public var observer: String
    public var address: String
    public var region: String
    public var schedules: Int
    /// Which bytes, what they were and should have been, or who overwrote them (first seen).
    public var detail: String
}

public struct ConditionVerdict: Codable, Sendable, Equatable {
    public var condition: String
    public var policy: String
    /// `Always`, `Sometimes` or `Never`: how often the predicate held.
    public var observation: Condition.Verdict.Observation
    public var positive: Int
    public var negative: Int
    /// Whether the condition (exists / ~exists / forall) holds: the expectation is met.
    public var holds: Bool
    public var reason: String
}

