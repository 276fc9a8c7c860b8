extension Condition {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// The effective types `attribute(region, TYPE)` can name.
    public static let attributeTypes = ["device"] + EffectiveType.allCases.map(\.rawValue)

    /// The ways a run can end, as `end(KIND)` names them: the run's status, or the kind of the
    /// fault or refusal that ended it.
    public static let endKinds: Set<String> = [
        "completed", "budget-exhausted", "timed-out", "guest-fault",
        "undefined-instruction", "data-abort", "prefetch-abort", "unmapped-access", "svc", "smc", "brk", "exception",
        "stage2-refused", "migration-refused", "alignment-fault", "pc-alignment-fault", "waiting-for-interrupt", "illegal-exception-return",
        "model-disagrees",
    ]

    /// Parses `exists P`, `~exists P` or `forall P`.
    public init(parsing text: String) throws(ParseError) {
        let trimmed = trim(text)
        guard let space = trimmed.firstIndex(of: " "),
              let quantifier = Quantifier(rawValue: String(trimmed[..<space])) else {
            throw ParseError(description: "'\(text)': expected 'exists', '~exists' or 'forall' then a predicate")
        }
        var body = trim(trimmed[trimmed.index(after: space)...])
        var arguments: [String] = []
        if let open = body.firstIndex(of: "(") {
            guard body.hasSuffix(")") else { throw ParseError(description: "'\(text)': missing ')'") }
            arguments = body[body.index(after: open)..<body.index(before: body.endIndex)]
                .split(separator: ",", omittingEmptySubsequences: false).map { trim($0) }
            body = trim(body[..<open])
            if arguments.contains(where: \.isEmpty) { throw ParseError(description: "'\(text)': an argument is empty") }
        }
        self.init(quantifier, try Self.predicate(body, arguments, text: text))
    }

    private static let arities: [String: ClosedRange<Int>] = [
        "stale-read": 0...2, "lost-write": 0...2, "coherent": 0...0, "attribute": 2...2, "end": 1...1,
    ]

    private static func predicate(_ name: String, _ arguments: [String], text: String) throws(ParseError) -> Predicate {
        guard let arity = arities[name] else {
            throw ParseError(description: "'\(text)': unknown predicate '\(name)' (known: \(arities.keys.sorted().joined(separator: ", ")))")
        }
        guard arity.contains(arguments.count) else {
            let count = arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)"
            throw ParseError(description: "'\(text)': \(name) takes \(count) argument(s)")
        }
        switch name {
        case "coherent": return .coherent
        case "end":
            guard endKinds.contains(arguments[0]) else {
                throw ParseError(description: "'\(text)': '\(arguments[0])' is not a way a run ends (known: \(endKinds.sorted().joined(separator: ", ")))")
            }
            return .end(arguments[0])
        case "attribute":
            if arguments[1] == "device" { return .attribute(region: arguments[0], type: .anyDevice) }
            guard let type = EffectiveType(rawValue: arguments[1]) else {
                throw ParseError(description: "'\(text)': type must be one of \(attributeTypes.sorted().joined(separator: ", "))")
            }
            return .attribute(region: arguments[0], type: .exactly(type))
        default:
            let kind: CoherencyFailure.Kind = name == "stale-read" ? .staleRead : .lostWrite
            return .failure(kind, observer: arguments.first, region: arguments.count > 1 ? arguments[1] : nil)
        }
    }
}

/// Without spaces and tabs at either end (Coherency does not import Foundation).
private func trim(_ text: some StringProtocol) -> String {
    var text = Substring(text)
    while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
    while let last = text.last, last == " " || last == "\t" { text.removeLast() }
    return String(text)
}
