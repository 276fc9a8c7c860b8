import Foundation

/// What one schedule ended with: what each host read saw, the failures classified, and the
/// effective types of the guest's accesses to each observed region.
public struct FinalState: Hashable, Sendable {
    /// What a host read at a sync point saw.
    public struct HostRead: Hashable, Sendable {
        public let label: String
        public let bytes: [UInt8]

        public init(label: String, bytes: [UInt8]) {
            self.label = label
            self.bytes = bytes
        }
    }

    public struct Failure: Hashable, Sendable, Comparable {
        public let kind: CoherencyFailure.Kind
        public let observer: String
        public let region: String
        public let address: UInt64

        public init(kind: CoherencyFailure.Kind, observer: String, region: String, address: UInt64) {
            self.kind = kind
            self.observer = observer
            self.region = region
            self.address = address
        }

        public static func < (a: Failure, b: Failure) -> Bool {
            (a.kind.rawValue, a.observer, a.address) < (b.kind.rawValue, b.observer, b.address)
        }
    }

    public let hostReads: [HostRead]
    public let failures: [Failure]
    /// Region name -> the effective types of the guest's accesses (`device-nGnRnE` ...,
    /// `normal-nc`, `normal-wt`, `normal-wb`, `unpredictable`).
    public let guestTypes: [String: Set<EffectiveType>]
    /// How the run ended: `completed`, or the fault kind (`stage2-refused`, `migration-refused`...).
    public let end: String

    public init(hostReads: [HostRead], failures: [Failure], guestTypes: [String: Set<EffectiveType>],
                end: String = "completed") {
        self.hostReads = hostReads
        self.failures = Array(Set(failures)).sorted()
        self.guestTypes = guestTypes
        self.end = end
    }
}

/// A litmus-style condition a snippet states for a policy: `exists P`, `~exists P`, `forall P`.
/// Predicates: `stale-read[(observer[, region])]`, `lost-write[(observer[, region])]` (the
/// observer whose write was lost), `coherent`, `attribute(region, TYPE)` (every guest access
/// to the region had effective type TYPE: device (any subtype), device-nGnRnE, device-nGnRE,
/// device-nGRE, device-GRE, normal-nc, normal-wt, normal-wb), `end(KIND)` (the run ended
/// `completed` or with that fault kind, e.g. `migration-refused`).
public struct Condition: Hashable, Sendable, CustomStringConvertible {
    public enum Quantifier: String, Sendable { case exists, notExists = "~exists", forall }

    public let quantifier: Quantifier
    public let predicate: String
    public let arguments: [String]

    static let predicates: [String: ClosedRange<Int>] = [
        "stale-read": 0...2, "lost-write": 0...2, "coherent": 0...0, "attribute": 2...2, "end": 1...1,
    ]
    static let types: Set = ["device", "device-nGnRnE", "device-nGnRE", "device-nGRE", "device-GRE",
                             "normal-nc", "normal-wt", "normal-wb"]

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " "),
              let quantifier = Quantifier(rawValue: String(trimmed[..<space])) else {
            throw ParseError(description: "'\(text)': expected 'exists', '~exists' or 'forall' then a predicate")
        }
        var body = trimmed[trimmed.index(after: space)...].trimmingCharacters(in: .whitespaces)
        var arguments: [String] = []
        if let open = body.firstIndex(of: "(") {
            guard body.hasSuffix(")") else { throw ParseError(description: "'\(text)': missing ')'") }
            arguments = body[body.index(after: open)..<body.index(before: body.endIndex)]
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            body = String(body[..<open]).trimmingCharacters(in: .whitespaces)
        }
        guard let arity = Self.predicates[body] else {
            throw ParseError(description: "'\(text)': unknown predicate '\(body)' (known: \(Self.predicates.keys.sorted().joined(separator: ", ")))")
        }
        guard arity.contains(arguments.count) else {
            throw ParseError(description: "'\(text)': \(body) takes \(arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)") argument(s)")
        }
        if body == "attribute", !Self.types.contains(arguments[1]) {
            throw ParseError(description: "'\(text)': type must be one of \(Self.types.sorted().joined(separator: ", "))")
        }
        self.quantifier = quantifier
        self.predicate = body
        self.arguments = arguments
    }

    public var description: String {
        quantifier.rawValue + " " + predicate + (arguments.isEmpty ? "" : "(" + arguments.joined(separator: ", ") + ")")
    }

    /// Whether the predicate holds in one final state.
    public func matches(_ state: FinalState) -> Bool {
        switch predicate {
        case "coherent":
            return state.failures.isEmpty
        case "end":
            return state.end == arguments[0]
        case "attribute":
            // `device` stands for any subtype; the others name one type exactly.
            let seen = state.guestTypes[arguments[0]] ?? []
            return !seen.isEmpty && seen.allSatisfy { arguments[1] == "device" ? $0.isDevice : $0.rawValue == arguments[1] }
        default:
            let kind: CoherencyFailure.Kind = predicate == "stale-read" ? .staleRead : .lostWrite
            return state.failures.contains { failure in
                failure.kind == kind
                    && (arguments.count < 1 || failure.observer == arguments[0])
                    && (arguments.count < 2 || failure.region == arguments[1])
            }
        }
    }

    /// herdtools7's vocabulary: how many schedules satisfy the predicate, and whether the
    /// condition holds.
    public struct Verdict: Hashable, Sendable {
        public enum Observation: String, Sendable, Codable, CustomStringConvertible {
            case always = "Always", sometimes = "Sometimes", never = "Never"
            public var description: String { rawValue }
        }
        public let observation: Observation
        public let positive: Int
        public let negative: Int
        public let holds: Bool
    }

    public func verdict(over states: [(state: FinalState, schedules: Int)]) -> Verdict {
        let positive = states.filter { matches($0.state) }.reduce(0) { $0 + $1.schedules }
        let negative = states.reduce(0) { $0 + $1.schedules } - positive
        let observation: Verdict.Observation = negative == 0 ? .always : positive == 0 ? .never : .sometimes
        let holds = switch quantifier {
        case .exists: positive > 0
        case .notExists: positive == 0
        case .forall: negative == 0
        }
        return Verdict(observation: observation, positive: positive, negative: negative, holds: holds)
    }
}
