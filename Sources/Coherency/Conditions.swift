/// A failure as conditions see it: its kind, who read stale data or whose write was lost, and
/// where.
public struct FailureTag: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let kind: CoherencyFailure.Kind
    public let observer: String
    public let region: String

    public init(kind: CoherencyFailure.Kind, observer: String, region: String) {
        self.kind = kind
        self.observer = observer
        self.region = region
    }

    public static func < (a: FailureTag, b: FailureTag) -> Bool {
        (a.kind.rawValue, a.observer, a.region) < (b.kind.rawValue, b.observer, b.region)
    }

    public var description: String { "\(kind)(\(observer), \(region))" }
}

/// A final state as herdtools7 counts them: the outcome projected on what conditions can
/// name (the failures by kind, observer and region; how the run ended; the effective types of
/// the guest's accesses to each region). Distinct final states are what verdicts count.
public struct FinalState: Hashable, Sendable {
    public let failures: Set<FailureTag>
    /// How the run ended: `completed`, or the fault kind (`stage2-refused`, `migration-refused`...).
    public let end: String
    /// Region name -> the effective types of the guest's accesses.
    public let guestTypes: [String: Set<EffectiveType>]

    public init(failures: Set<FailureTag>, end: String = "completed", guestTypes: [String: Set<EffectiveType>] = [:]) {
        self.failures = failures
        self.end = end
        self.guestTypes = guestTypes
    }
}

/// A litmus-style condition a snippet states for a policy: `exists P`, `~exists P`, `forall P`.
public struct Condition: Hashable, Sendable, CustomStringConvertible {
    public enum Quantifier: String, Sendable { case exists, notExists = "~exists", forall }

    /// What `attribute(region, TYPE)` asks for: any Device subtype, or one effective type.
    public enum AttributeType: Hashable, Sendable, CustomStringConvertible {
        case anyDevice
        case exactly(EffectiveType)

        public var description: String {
            switch self {
            case .anyDevice: "device"
            case .exactly(let type): type.rawValue
            }
        }

        func matches(_ type: EffectiveType) -> Bool {
            switch self {
            case .anyDevice: type.isDevice
            case .exactly(let expected): type == expected
            }
        }
    }

    /// `stale-read[(observer[, region])]`, `lost-write[(observer[, region])]` (the observer whose
    /// write was lost), `coherent`, `attribute(region, TYPE)` (every guest access to the region
    /// had that effective type), `end(KIND)` (the run ended `completed` or with that kind).
    public enum Predicate: Hashable, Sendable {
        case failure(CoherencyFailure.Kind, observer: String?, region: String?)
        case coherent
        case attribute(region: String, type: AttributeType)
        case end(String)
    }

    public let quantifier: Quantifier
    public let predicate: Predicate

    public init(_ quantifier: Quantifier, _ predicate: Predicate) {
        self.quantifier = quantifier
        self.predicate = predicate
    }

    public var description: String {
        let body: String = switch predicate {
        case .failure(let kind, let observer, let region):
            kind.rawValue + (observer.map { "(" + $0 + (region.map { ", " + $0 } ?? "") + ")" } ?? "")
        case .coherent: "coherent"
        case .attribute(let region, let type): "attribute(\(region), \(type))"
        case .end(let kind): "end(\(kind))"
        }
        return quantifier.rawValue + " " + body
    }

    /// Whether the predicate holds in one final state.
    public func matches(_ state: FinalState) -> Bool {
        switch predicate {
        case .coherent:
            return state.failures.isEmpty
        case .end(let kind):
            return state.end == kind
        case .attribute(let region, let type):
            let seen = state.guestTypes[region] ?? []
            return !seen.isEmpty && seen.allSatisfy(type.matches)
        case .failure(let kind, let observer, let region):
            return state.failures.contains { tag in
                tag.kind == kind && (observer == nil || tag.observer == observer) && (region == nil || tag.region == region)
            }
        }
    }

    /// The names the condition uses, for checking against the snippet: observers, regions and
    /// an end kind.
    public var names: (observers: [String], regions: [String], end: String?) {
        switch predicate {
        case .failure(_, let observer, let region): (observer.map { [$0] } ?? [], region.map { [$0] } ?? [], nil)
        case .coherent: ([], [], nil)
        case .attribute(let region, _): ([], [region], nil)
        case .end(let kind): ([], [], kind)
        }
    }
}
