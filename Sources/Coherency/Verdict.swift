/// How often a condition's predicate held over the distinct final states, in herdtools7's
/// words, and whether the condition (exists, ~exists, forall) holds. When the exploration
/// could not decide (it was cut short, or an access had an UNPREDICTABLE or UNKNOWN
/// attribute), only what the explored states prove is claimed: a predicate seen both ways is
/// `Sometimes`; anything else is `Undecided`, and so is a condition over no state at all.
public struct Verdict: Hashable, Sendable {
    public enum Observation: String, Sendable, Codable, CustomStringConvertible {
        case always = "Always", sometimes = "Sometimes", never = "Never", undecided = "Undecided"
        public var description: String { rawValue }
    }

    public let observation: Observation
    /// Distinct final states that satisfy the predicate, and that do not.
    public let positive: Int
    public let negative: Int
    /// Whether the condition holds; nil when it cannot be decided.
    public let holds: Bool?
    /// A final state that shows the predicate holding (or, for a `forall` that fails, one that
    /// shows it failing), by index into the states judged.
    public let witness: Int?

    public init(observation: Observation, positive: Int, negative: Int, holds: Bool?, witness: Int?) {
        self.observation = observation
        self.positive = positive
        self.negative = negative
        self.holds = holds
        self.witness = witness
    }
}

/// What an exploration can vouch for: that no unexplored execution shows a predicate
/// (`never`), and that none escapes it (`always`), for failure predicates and for the rest.
public struct Decidability: Hashable, Sendable {
    public var failuresNever = true
    public var failuresAlways = true
    public var othersNever = true
    public var othersAlways = true

    public init() {}

    public static let decided = Decidability()
    public static let undecided: Decidability = {
        var result = Decidability()
        result.failuresNever = false
        result.failuresAlways = false
        result.othersNever = false
        result.othersAlways = false
        return result
    }()
}

extension Condition {
    /// Whether the predicate is about coherency failures (rather than attributes or the end).
    public var isAboutFailures: Bool {
        switch predicate {
        case .failure, .coherent: true
        case .attribute, .end: false
        }
    }

    /// The one judge: used by runs, checks, suites and tests alike.
    public func verdict(over states: [FinalState], decidability: Decidability) -> Verdict {
        let never = isAboutFailures ? decidability.failuresNever : decidability.othersNever
        let always = isAboutFailures ? decidability.failuresAlways : decidability.othersAlways
        return verdict(over: states, neverDecided: never, alwaysDecided: always)
    }

    public func verdict(over states: [FinalState], decided: Bool = true) -> Verdict {
        verdict(over: states, neverDecided: decided, alwaysDecided: decided)
    }

    private func verdict(over states: [FinalState], neverDecided: Bool, alwaysDecided: Bool) -> Verdict {
        let matching = states.indices.filter { matches(states[$0]) }
        let positive = matching.count, negative = states.count - positive
        let firstNegative = states.indices.first { !matches(states[$0]) }
        let witness = quantifier == .forall && negative > 0 ? firstNegative : matching.first
        guard !states.isEmpty else {
            return Verdict(observation: .undecided, positive: 0, negative: 0, holds: nil, witness: nil)
        }
        // herdtools7 checks Never before Always.
        let observation: Verdict.Observation
        if positive > 0 && negative > 0 {
            observation = .sometimes
        } else if positive == 0 {
            observation = neverDecided ? .never : .undecided
        } else {
            observation = alwaysDecided ? .always : .undecided
        }
        let holds: Bool? = switch quantifier {
        case .exists: positive > 0 ? true : (neverDecided ? false : nil)
        case .notExists: positive > 0 ? false : (neverDecided ? true : nil)
        case .forall: negative > 0 ? false : (alwaysDecided ? true : nil)
        }
        return Verdict(observation: observation, positive: positive, negative: negative, holds: holds, witness: witness)
    }
}
