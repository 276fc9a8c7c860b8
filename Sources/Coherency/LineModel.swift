import AArch64

/// One step of a line's witness: a spontaneous cache move before event `event`, or the
/// variant an event took (which copy served a read, whether a mismatched copy took a write).
public struct WitnessStep: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case spontaneous(SpontaneousStep)
        case variant(UInt8)
    }

    public let event: Int
    public let kind: Kind

    public init(event: Int, kind: Kind) {
        self.event = event
        self.kind = kind
    }
}

/// The steps that lead to one state of a line, shared between states (a persistent list).
public final class Witness: Sendable {
    public let step: WitnessStep
    public let parent: Witness?

    init(_ step: WitnessStep, after parent: Witness?) {
        self.step = step
        self.parent = parent
    }

    public var steps: [WitnessStep] {
        var result: [WitnessStep] = []
        var node: Witness? = self
        while let current = node {
            result.append(current.step)
            node = current.parent
        }
        return result.reversed()
    }
}

/// Every state one line of shared memory can be in, explored: between two events on the line
/// any sequence of spontaneous cache moves may happen (a line may leave a cache, be written
/// back or be brought in at any moment), and each event is applied to every state in every
/// way the architecture allows. Lines are independent (ways are unbounded and every event
/// names its line), so a line's states never depend on another line's. In replay mode the
/// line follows one witness instead, step by step.
public struct LineModel: Sendable {
    public let line: UInt64
    public let region: String
    /// Whether the line can be in a cache at all (some agent maps it cacheable).
    public private(set) var cacheable: Bool
    /// The latest write of each byte in the run's order: what a coherent read returns.
    public private(set) var reference: LineBytes
    /// Each state with the first witness found for it.
    public private(set) var states: StateSet
    /// Events applied so far (spontaneous steps are numbered by the event they precede).
    public private(set) var events = 0
    /// Set in replay mode: the witness to follow.
    private let replay: [WitnessStep]?
    /// Replay mode: the spontaneous steps applied before the last event.
    public private(set) var applied: [SpontaneousStep] = []
    /// The states of the last read, by the value it returned, until one group is kept.
    private var pendingReads: [StateSet] = []
    /// True when the state set outgrew `stateCap` and was cut.
    public private(set) var cutShort = false
    public static let stateCap = 4096
    /// Past this many states the line keeps states only up to renaming (`renamed`): exact for
    /// every failure, but the values of stale bytes are no longer all known.
    public static let exactCap = 256
    /// True once the line keeps states up to renaming.
    public private(set) var abstracted = false
    /// True when the guest read a value of this line while it was abstracted: the values it
    /// could have read are not all known, so its behaviour is not exhaustively explored.
    public private(set) var guestReadAbstracted = false
    /// True when a Non-cacheable write met a cached copy, which it might have updated too.
    public private(set) var writeHitsOmitted = false
    /// The run's version of each of the line's writes (states number them 1, 2, ... in the
    /// line's own order: see `LineLog`).
    public private(set) var globalVersions: [UInt32] = [0]
    /// The states as a shared, immutable object when they came from (or went into) the memo:
    /// lines with the same history hold the same object.
    var snapshot: StateSnapshot?
    /// The failures whose details this line has noted (a memo hit notes none by itself).
    var noted: Set<LineFailure> = []

    /// Takes a remembered result (`LineMemo`).
    mutating func adopt(_ entry: LineMemo.Entry) {
        states = entry.output.set
        snapshot = entry.output
        events = entry.events
        cacheable = entry.cacheable
        abstracted = entry.abstracted
        cutShort = entry.cutShort
        writeHitsOmitted = entry.writeHitsOmitted
    }

    public init(line: UInt64, region: String, initial: StateSnapshot, cacheable: Bool, replay: [WitnessStep]? = nil) {
        self.line = line
        self.region = region
        self.cacheable = cacheable
        self.reference = LineBytes()
        self.replay = replay
        states = initial.set
        snapshot = replay == nil ? initial : nil
    }

    public init(line: UInt64, region: String, initial: LineBytes, cacheable: Bool, replay: [WitnessStep]? = nil) {
        self.init(line: line, region: region, initial: StateSnapshot(StateSet(LineState(memory: initial))),
                  cacheable: cacheable, replay: replay)
        reference = initial
    }

    /// The write log with this line's numbering of its writes.
    public func view(_ log: WriteLog) -> LineLog { LineLog(log: log, versions: globalVersions) }

    /// The run's version of a version held in this line's states.
    public func globalVersion(_ version: UInt32) -> UInt32 {
        Int(version) < globalVersions.count ? globalVersions[Int(version)] : 0
    }

    public var isReplay: Bool { replay != nil }

    /// The one state of a replay (or the first of an exploration), for traces.
    public var someState: LineState { states.states[0] }

    // MARK: spontaneous steps

    /// Closes the state set under spontaneous steps (replay: applies the witness's steps due
    /// before the next event).
    mutating func settle(log: LineLog) {
        if let replay {
            var state = states.states[0], witness = states.witnesses[0]
            applied = []
            for step in replay where step.event == events {
                guard case .spontaneous(let move) = step.kind,
                      let next = state.after(move, cacheable: cacheable, line: line, log: log) else { continue }
                applied.append(move)
                state = next
                witness = Witness(step, after: witness)
            }
            states = StateSet(state, witness: witness)
            return
        }
        var next = 0
        while next < states.count {
            let state = states.states[next], witness = states.witnesses[next]
            next += 1
            for move in SpontaneousStep.allCases {
                guard let successor = state.after(move, cacheable: cacheable, line: line, log: log) else { continue }
                states.insert(abstracted ? successor.renamed(reference: reference) : successor,
                              witness: Witness(WitnessStep(event: events, kind: .spontaneous(move)), after: witness))
            }
            if states.count > Self.stateCap {
                cutShort = true
                return
            }
        }
        abstractIfLarge()
    }

    /// Past `exactCap` states, keeps states only up to renaming.
    private mutating func abstractIfLarge() {
        guard !isReplay else { return }
        if !abstracted {
            guard states.count > Self.exactCap else { return }
            abstracted = true
        }
        var renamed = StateSet()
        for (state, witness) in states.pairs { renamed.insert(state.renamed(reference: reference), witness: witness) }
        states = renamed
    }

    /// Applies an event that may take several forms (numbered variants) to every state.
    private mutating func apply(_ event: (LineState) -> [LineState]) {
        var next = StateSet()
        let variant = replayVariant
        for (state, witness) in states.pairs {
            for (index, result) in event(state).enumerated() where replay == nil || index == variant {
                next.insert(result, witness: index == 0 ? witness
                    : Witness(WitnessStep(event: events, kind: .variant(UInt8(index))), after: witness))
            }
        }
        states = next
        events += 1
        abstractIfLarge()
    }

    /// The variant the replay's witness names for the next event (0 when it names none).
    private var replayVariant: Int {
        for step in replay ?? [] where step.event == events {
            if case .variant(let index) = step.kind { return Int(index) }
        }
        return 0
    }

    // MARK: events

    /// A read of `range` by `observer`: the states grouped by the bytes the read returns
    /// (a stale read recorded in each state where a byte is not the latest write). The caller
    /// picks one group with `keep(_:)`: the guest sees one value per execution.
    public mutating func read(_ access: LineAccess, range: Range<Int>, by observer: Observer,
                              log runLog: WriteLog) -> [[UInt8]] {
        let log = view(runLog)
        snapshot = nil
        settle(log: log)
        if access.isCacheable { cacheable = true }
        var groups: [[UInt8]: StateSet] = [:]
        let variant = replayVariant
        for (state, witness) in states.pairs {
            for outcome in state.reads(access) where replay == nil || Int(outcome.variant) == variant {
                var result = outcome.state
                let stale = range.filter { outcome.source[$0] != reference[$0] }
                if let first = stale.first {
                    let failure = LineFailure(kind: .staleRead, observer: observer.observer)
                    result.record(failure)
                    log.details.note(failure, line: line, address: line + UInt64(first)) { staleDetail(observer, stale, source: outcome.source, log: log) }
                }
                let value = log.values(outcome.source, line: line, range: range)
                groups[value, default: StateSet()].insert(result, witness: outcome.variant == 0 ? witness
                    : Witness(WitnessStep(event: events, kind: .variant(outcome.variant)), after: witness))
            }
        }
        events += 1
        // The latest write first (the execution a coherent system makes), then the others in
        // byte order, so that the same run picks the same one first everywhere.
        let latest = log.values(reference, line: line, range: range)
        let values = groups.keys.sorted { a, b in
            a == latest || (b != latest && a.lexicographicallyPrecedes(b))
        }
        if abstracted, observer.isGuest, values.count > 1 || states.states.contains(where: { state in
            range.contains { state.inner?.bytes[$0] ?? state.memory[$0] != reference[$0] }
        }) {
            guestReadAbstracted = true
        }
        pendingReads = values.map { groups[$0]! }
        return values
    }

    private func staleDetail(_ observer: Observer, _ stale: [Int], source: LineBytes, log: LineLog) -> String {
        let saw = stale.map { log.value(at: line + UInt64($0), version: source[$0]) }
        let should = stale.map { log.value(at: line + UInt64($0), version: reference[$0]) }
        let latest = log.writer(of: reference[stale[0]]).map { " (written by \($0))" } ?? ""
        return "\(observer) read \(stale.count) stale byte(s) at offsets \(ranges(stale)) of line \(hex(line)): saw \(hexDump(saw)), should have been \(hexDump(should))\(latest)"
    }

    /// The states of the read's group `index` (in the order `read` returned the values).
    public mutating func keep(_ index: Int) {
        snapshot = nil
        states = pendingReads[index]
        pendingReads = []
    }

    /// Every state of the read, whatever it returned.
    public mutating func keepAll() {
        var all = StateSet()
        for group in pendingReads {
            for (state, witness) in group.pairs { all.insert(state, witness: witness) }
        }
        states = all
        pendingReads = []
        snapshot = nil
    }

    /// A write of `range` by `writer`'s access, as write `version` of the run.
    public mutating func write(_ access: LineAccess, range: Range<Int>, version global: UInt32, log runLog: WriteLog,
                               writer: String = "", memo: LineMemo? = nil) {
        let version = UInt32(globalVersions.count)
        globalVersions.append(global)
        let log = view(runLog), latest = reference.writing(version, at: range)
        memoized(.write(access, range, version: version, writer: writer), memo: memo) { model in
            model.settle(log: log)
            if access.isCacheable { model.cacheable = true }
            model.reference = latest
            if case .cpu(let inner, let outer) = access, inner != .writeBack,
               model.states.states.contains(where: { (inner == .nonCacheable && $0.inner != nil) || (outer == .nonCacheable && $0.outer != nil) }) {
                model.writeHitsOmitted = true
            }
            let line = model.line
            model.apply { $0.writes(access, range: range, version: version, line: line, log: log) }
        }
        reference = latest
    }

    /// A read by the host, whose next actions do not depend on the value: every state is kept.
    /// Returns the latest bytes (what a coherent read returns; nobody uses the host's value).
    public mutating func hostRead(_ access: LineAccess, range: Range<Int>, by observer: Observer, log: WriteLog,
                                  memo: LineMemo? = nil) -> [UInt8] {
        memoized(.hostRead(access, range, observer: observer.observer), memo: memo) { model in
            _ = model.read(access, range: range, by: observer, log: log)
            model.keepAll()
        }
        return view(log).values(reference, line: line, range: range)
    }

    /// Maintenance that acts the same way on every state (DC by VA, the hypervisor's flushes).
    public mutating func maintain(_ operation: LineMaintenance, log runLog: WriteLog, memo: LineMemo? = nil) {
        let log = view(runLog)
        memoized(.maintain(operation), memo: memo) { model in
            let line = model.line
            model.settle(log: log)
            model.apply { $0.maintained(operation, line: line, log: log) }
        }
    }

    /// The end of the run: the last spontaneous steps.
    public mutating func finish(log: WriteLog, memo: LineMemo? = nil) {
        let log = view(log)
        memoized(.finish, memo: memo) { $0.settle(log: log) }
    }

    // MARK: lines no cache can hold

    /// A line no cache can hold: no agent maps it cacheable, so no spontaneous step applies
    /// (`LineState.after`), and it is in one state with no copy (explored, not replayed). An
    /// access that bypasses the caches then reads and writes memory alone, and memory holds
    /// the latest write of every byte (every write so far went to memory: one that could
    /// allocate would have made the line cacheable): `plainRead` and `plainWrite` do what
    /// `read` and `write` would, without exploring (and without the memo: the states change in
    /// place).
    var isPlain: Bool {
        guard replay == nil, !cacheable, !abstracted, pendingReads.isEmpty, states.soleStateHasNoCopy else { return false }
        assert(states.states[0].memory == reference, "a line no cache can hold whose memory is not the latest write")
        return true
    }

    /// A CPU access Non-cacheable at both levels (Device, Normal-NC), or a non-coherent master.
    public static func bypassesCaches(_ access: LineAccess) -> Bool {
        switch access {
        case .cpu(let inner, let outer): inner == .nonCacheable && outer == .nonCacheable
        case .nonCoherentDMA: true
        case .coherentDMA: false
        }
    }

    /// `write` on a plain line by an access that bypasses the caches; false (and nothing done)
    /// for any other.
    public mutating func plainWrite(_ access: LineAccess, range: Range<Int>, version global: UInt32) -> Bool {
        guard Self.bypassesCaches(access), isPlain else { return false }
        appendPlainWrite(range: range, version: global)
        return true
    }

    /// `plainWrite` once `bypassesCaches` and `isPlain` hold (a plain write leaves the line
    /// plain: it makes no copy and changes none of `isPlain`'s conditions).
    mutating func appendPlainWrite(range: Range<Int>, version global: UInt32) {
        let version = UInt32(globalVersions.count)
        globalVersions.append(global)
        reference.write(version, at: range)
        states.updateSole { $0.memory.write(version, at: range) }
        notePlainEvent()
    }

    /// An access to a plain line that bypasses the caches: one more event, no new state.
    mutating func notePlainEvent() {
        events += 1
        snapshot = nil
    }

    /// `plainRead` when nobody needs the value (it was served already: plain.h).
    public mutating func plainReadEvent(_ access: LineAccess) -> Bool {
        guard Self.bypassesCaches(access), isPlain else { return false }
        notePlainEvent()
        return true
    }

    /// `read` (and `keep`) on a plain line by an access that bypasses the caches: the run's
    /// versions of the bytes it returns (the latest writes; the write log has their values);
    /// nil (and nothing done) for any other.
    public mutating func plainRead(_ access: LineAccess, range: Range<Int>) -> LineBytes? {
        guard plainReadEvent(access) else { return nil }
        var versions = LineBytes()
        for offset in range { versions[offset] = globalVersions[Int(reference[offset])] }
        return versions
    }

    /// The distinct failure sets of the final states, each with the first witness found.
    public var outcomes: [(failures: [LineFailure], witness: Witness?)] {
        var seen: Set<[LineFailure]> = []
        return states.pairs.compactMap { state, witness in
            seen.insert(state.failures).inserted ? (state.failures, witness) : nil
        }
    }
}

extension LineState {
    /// This state after maintenance `operation` (the same on every state).
    func maintained(_ operation: LineMaintenance, line: UInt64, log: LineLog) -> [LineState] {
        var result = self
        switch operation {
        case .cleanToPoC: result.cleanToPoC(line: line, log: log)
        case .cleanAndInvalidate: result.cleanAndInvalidate(line: line, log: log)
        case .cleanToPoU: result.cleanToPoU(line: line, log: log)
        case .clean(let level), .cleanAndInvalidateLevel(let level):
            if level == .inner {
                if result.outer != nil { result.writeBackInnerToOuter(line: line, log: log) }
                else { result.writeBackInnerToMemory(line: line, log: log) }
            } else {
                result.writeBackOuter(line: line, log: log)
            }
            if case .cleanAndInvalidateLevel = operation { result[level] = nil }
        }
        return [result]
    }
}

/// Cache maintenance on one line.
public enum LineMaintenance: Hashable, Sendable {
    case cleanToPoC
    case cleanAndInvalidate
    case cleanToPoU
    /// DC CSW on a level; DC CISW (and DC ISW, performed as a clean and invalidate under
    /// HCR_EL2.VM = 1) on a level.
    case clean(CacheLevel)
    case cleanAndInvalidateLevel(CacheLevel)
}
