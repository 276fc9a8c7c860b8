import Testing
@testable import Coherency

@Suite struct ConditionTests {
    static let stale = FinalState(failures: [FailureTag(kind: .staleRead, observer: "vmm", region: "fb")],
                                  guestTypes: ["fb": [.normalNC]])
    static let clean = FinalState(failures: [], guestTypes: ["fb": [.normalWB]])

    @Test func parseAndPrint() throws {
        #expect(try Condition(parsing: "exists stale-read(vmm, fb)").description == "exists stale-read(vmm, fb)")
        #expect(try Condition(parsing: " ~exists   lost-write ").description == "~exists lost-write")
        #expect(try Condition(parsing: "forall attribute(reg, device)").predicate == .attribute(region: "reg", type: .anyDevice))
        #expect(try Condition(parsing: "exists end(migration-refused)").predicate == .end("migration-refused"))
    }

    @Test(arguments: ["sometimes stale-read", "exists stale", "exists coherent(x)", "exists attribute(a, cached)",
                      "exists stale-read(vmm", "exists end(exploded)", "exists stale-read(, fb)"])
    func badConditionsSayWhy(text: String) {
        #expect(throws: Condition.ParseError.self) { try Condition(parsing: text) }
    }

    /// herdtools7's counts: distinct final states that satisfy the predicate, and that do not.
    @Test func verdictsCountFinalStates() throws {
        let states = [Self.stale, Self.clean]
        let exists = try Condition(parsing: "exists stale-read(vmm)").verdict(over: states)
        #expect(exists == Verdict(observation: .sometimes, positive: 1, negative: 1, holds: true, witness: 0))
        #expect(try Condition(parsing: "~exists stale-read(vmm)").verdict(over: states).holds == false)
        let other = try Condition(parsing: "~exists stale-read(dma)").verdict(over: states)
        #expect(other == Verdict(observation: .never, positive: 0, negative: 2, holds: true, witness: nil))
        let all = try Condition(parsing: "forall coherent").verdict(over: [Self.clean])
        #expect(all == Verdict(observation: .always, positive: 1, negative: 0, holds: true, witness: 0))
        let failing = try Condition(parsing: "forall coherent").verdict(over: states)
        #expect(failing.holds == false && failing.witness == 0)   // the stale state shows it failing
    }

    /// No state at all decides nothing (herd7 checks Never first, and a cap of 0 once made
    /// `Always` of nothing).
    @Test func overNoStateNothingHolds() throws {
        for text in ["exists coherent", "~exists stale-read", "forall coherent"] {
            let verdict = try Condition(parsing: text).verdict(over: [])
            #expect(verdict.observation == .undecided && verdict.holds == nil, "\(text)")
        }
    }

    /// An undecided exploration claims only what its states prove.
    @Test func anUndecidedExplorationClaimsOnlyWhatItSaw() throws {
        var failures = Decidability()
        failures.failuresNever = false
        failures.failuresAlways = false
        let never = try Condition(parsing: "~exists stale-read").verdict(over: [Self.clean], decidability: failures)
        #expect(never.observation == .undecided && never.holds == nil)
        let seen = try Condition(parsing: "~exists stale-read").verdict(over: [Self.stale], decidability: failures)
        #expect(seen.holds == false)   // a witness is a witness
        let both = try Condition(parsing: "exists stale-read").verdict(over: [Self.stale, Self.clean], decidability: failures)
        #expect(both.observation == .sometimes && both.holds == true)
        // Attributes are not failures: still decided.
        let attribute = try Condition(parsing: "forall attribute(fb, normal-wb)").verdict(over: [Self.clean], decidability: failures)
        #expect(attribute.observation == .always && attribute.holds == true)
        var alwaysOnly = Decidability()
        alwaysOnly.failuresAlways = false
        #expect(try Condition(parsing: "forall stale-read").verdict(over: [Self.stale], decidability: alwaysOnly).holds == nil)
        #expect(try Condition(parsing: "~exists lost-write").verdict(over: [Self.stale], decidability: alwaysOnly).holds == true)
    }

    @Test func scheduleIDsRoundTrip() throws {
        let id = ScheduleID(choices: [0, 1], lines: [
            0x5000_0000: [WitnessStep(event: 3, kind: .spontaneous(.fillInner)), WitnessStep(event: 5, kind: .variant(1))],
            0x5000_0040: [WitnessStep(event: 0, kind: .spontaneous(.evictOuter))],
        ])
        #expect(id.description == "b0.1;0x50000000:3fi,5v1;0x50000040:0eo")
        #expect(try ScheduleID(parsing: id.description) == id)
        #expect(try ScheduleID(parsing: "default") == ScheduleID(choices: [], lines: [:]))
        for bad in ["b-1", "0x5000:3zz", "line:1fi", "0x50:"] {
            #expect(throws: ScheduleID.ParseError.self) { try ScheduleID(parsing: bad) }
        }
    }

    /// Lines are independent: the final states are every union of one outcome per line.
    @Test func finalStatesAreUnionsOfLineOutcomes() {
        var model = SharedMemoryModel(regions: [LineModelTests.fb])
        // Line 0x1000: a possibly stale VMM read; line 0x1040: a possibly lost guest write.
        model.write(.nonCacheable, address: 0x1000, bytes: [1], by: LineModelTests.guest, label: "")
        _ = model.read(.writeBack, address: 0x1000, count: 1, by: .vmm, label: "", chooser: nil)
        model.write(.writeBack, address: 0x1040, bytes: [0x11], by: .vmm, label: "")
        model.write(.nonCacheable, address: 0x1048, bytes: [0x22], by: LineModelTests.guest, label: "")
        model.finish()
        var exploration = Exploration()
        exploration.add(ExecutionResult(choices: [], memory: model, end: "completed", guestTypes: [:], undecided: []))
        let tags = Set(exploration.states.map { $0.failures.map(\.description).sorted() })
        #expect(tags == [[], ["stale-read(vmm, fb)"], ["lost-write(guest, fb)"],
                         ["lost-write(guest, fb)", "stale-read(vmm, fb)"]])
        #expect(exploration.candidateLines == [0x1000, 0x1040])
        #expect(exploration.executions == 1)
    }
}
