import AArch64

/// Names one execution the model explored, so that it can be replayed: the value the guest saw
/// at each read whose value could differ (by index, in the order the reads happened), and for
/// each line the spontaneous cache moves and event variants that lead to its final state.
/// Spelled `default` (no choice at all), or `b0.1;0x50000000:3fi,3em,5v1` (values 0 then 1;
/// on line 0x50000000, a fill of the inner level and an eviction to memory before its event
/// 3, and variant 1 of its event 5).
public struct ScheduleID: Hashable, Sendable, CustomStringConvertible {
    public let choices: [Int]
    public let lines: [UInt64: [WitnessStep]]

    public init(choices: [Int], lines: [UInt64: [WitnessStep]]) {
        self.choices = choices
        self.lines = lines.filter { !$0.value.isEmpty }
    }

    public var description: String {
        var parts: [String] = []
        if !choices.isEmpty { parts.append("b" + choices.map(String.init).joined(separator: ".")) }
        for line in lines.keys.sorted() {
            let steps = lines[line]!.map { step -> String in
                switch step.kind {
                case .spontaneous(let move): "\(step.event)\(move)"
                case .variant(let index): "\(step.event)v\(index)"
                }
            }
            parts.append(hex(line) + ":" + steps.joined(separator: ","))
        }
        return parts.isEmpty ? "default" : parts.joined(separator: ";")
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws(ParseError) {
        let error = ParseError(description: "'\(text)' is not a schedule ID (e.g. default, b0.1;0x50000000:3fi,5v1)")
        var choices: [Int] = [], lines: [UInt64: [WitnessStep]] = [:]
        if text != "default" {
            for part in text.split(separator: ";") {
                if part.hasPrefix("b") {
                    let values = part.dropFirst().split(separator: ".").map { Int($0) }
                    guard values.allSatisfy({ ($0 ?? -1) >= 0 }) else { throw error }
                    choices = values.map { $0! }
                    continue
                }
                let halves = part.split(separator: ":", maxSplits: 1)
                guard halves.count == 2, halves[0].hasPrefix("0x"), let line = UInt64(halves[0].dropFirst(2), radix: 16) else {
                    throw error
                }
                lines[line] = try halves[1].split(separator: ",").map { (item) throws(ParseError) -> WitnessStep in
                    guard let step = Self.step(item) else { throw error }
                    return step
                }
            }
        }
        self.init(choices: choices, lines: lines)
    }

    private static func step(_ text: Substring) -> WitnessStep? {
        let digits = text.prefix { $0.isNumber }
        guard let event = Int(digits) else { return nil }
        let rest = text.dropFirst(digits.count)
        if rest.hasPrefix("v"), let index = UInt8(rest.dropFirst()) { return WitnessStep(event: event, kind: .variant(index)) }
        return SpontaneousStep(rest).map { WitnessStep(event: event, kind: .spontaneous($0)) }
    }
}

/// Why an execution cannot settle some verdicts, and which.
public struct UndecidedReason: Hashable, Sendable {
    public enum Scope: Hashable, Sendable {
        /// Failures could differ in executions not explored (Always and Never both unsure).
        case failures
        /// Everything could differ (the attributes and the end too).
        case everything
        /// Only an Always of a failure predicate is unsure (an omitted behaviour that could
        /// only have avoided a failure).
        case alwaysOfFailures
    }

    public let scope: Scope
    public let reason: String

    public init(_ scope: Scope, _ reason: String) {
        self.scope = scope
        self.reason = reason
    }
}

/// What one execution (one guest path) ended with.
public struct ExecutionResult {
    public let choices: [Int]
    public let memory: SharedMemoryModel
    public let end: String
    public let guestTypes: [String: Set<EffectiveType>]
    /// Why this execution cannot settle a condition (an UNPREDICTABLE or UNKNOWN attribute...).
    public let undecided: [UndecidedReason]

    public init(choices: [Int], memory: SharedMemoryModel, end: String, guestTypes: [String: Set<EffectiveType>],
                undecided: [UndecidedReason]) {
        self.choices = choices
        self.memory = memory
        self.end = end
        self.guestTypes = guestTypes
        self.undecided = undecided
    }
}

/// Every execution explored, reduced to the distinct final states (each with a schedule that
/// reaches it) and the distinct failures (each with a schedule that shows it). Lines are
/// independent, so the final states of one execution are every union of one outcome per line.
public struct Exploration {
    public struct Failure: Hashable, Sendable {
        public let failure: LineFailure
        public let region: String
        public let line: UInt64
        public var tag: FailureTag { FailureTag(kind: failure.kind, observer: failure.observer, region: region) }
    }

    public private(set) var states: [FinalState] = []
    public private(set) var witnesses: [ScheduleID] = []
    public private(set) var failures: [(failure: Failure, schedule: ScheduleID, detail: FailureDetails.Detail?)] = []
    public private(set) var executions = 0
    public private(set) var undecided: [UndecidedReason] = []
    /// Lines that ended with different failures in different executions: where the timing of
    /// the caches mattered.
    public private(set) var candidateLines: Set<UInt64> = []
    public var cutShort = false
    /// The largest number of states one line reached (how hard the exploration worked).
    public private(set) var lineStates = 0
    private var index: [FinalState: Int] = [:]
    private var seenFailures: Set<Failure> = []

    public init() {}

    /// What the verdicts can vouch for.
    public var decidability: Decidability {
        if cutShort { return .undecided }
        var result = Decidability()
        for reason in undecided {
            switch reason.scope {
            case .everything: return .undecided
            case .failures:
                result.failuresNever = false
                result.failuresAlways = false
            case .alwaysOfFailures:
                result.failuresAlways = false
            }
        }
        return result
    }

    public mutating func add(_ execution: ExecutionResult) {
        executions += 1
        for reason in execution.undecided + execution.memory.undecided where !undecided.contains(reason) {
            undecided.append(reason)
        }
        if execution.memory.cutShort { cutShort = true }
        var reachable: [(tags: Set<FailureTag>, lines: [UInt64: [WitnessStep]])] = [([], [:])]
        for address in execution.memory.lineOrder {
            let line = execution.memory.lines[address]!
            lineStates = max(lineStates, line.states.count)
            let outcomes = line.outcomes
            if outcomes.count > 1 { candidateLines.insert(address) }
            for (failures, witness) in outcomes {
                let steps = witness?.steps ?? []
                for failure in failures {
                    let found = Failure(failure: failure, region: line.region, line: address)
                    if seenFailures.insert(found).inserted {
                        noteFailure(found, ScheduleID(choices: execution.choices, lines: [address: steps]),
                                    execution.memory.log.details.detail(failure, line: address))
                    }
                }
            }
            var next: [(tags: Set<FailureTag>, lines: [UInt64: [WitnessStep]])] = []
            var nextIndex: [Set<FailureTag>: Int] = [:]
            for (tags, lines) in reachable {
                for (failures, witness) in outcomes {
                    let union = tags.union(failures.map { FailureTag(kind: $0.kind, observer: $0.observer, region: line.region) })
                    guard nextIndex[union] == nil else { continue }
                    var chosen = lines
                    if let witness { chosen[address] = witness.steps }
                    nextIndex[union] = next.count
                    next.append((union, chosen))
                }
            }
            reachable = next
        }
        for (tags, lines) in reachable {
            let state = FinalState(failures: tags, end: execution.end, guestTypes: execution.guestTypes)
            guard index[state] == nil else { continue }
            index[state] = states.count
            states.append(state)
            witnesses.append(ScheduleID(choices: execution.choices, lines: lines))
        }
    }

    private mutating func noteFailure(_ failure: Failure, _ schedule: ScheduleID, _ detail: FailureDetails.Detail?) {
        failures.append((failure, schedule, detail))
    }
}
