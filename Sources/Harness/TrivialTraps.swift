import Hypervisor
import Unicorn

extension GuestExecution {
    /// Tells the C side whether it may take trapped MAIR_EL1 writes itself (their handling
    /// depends on the value alone: `TrapController.trivialMAIRWrite`), after anything that can
    /// change that: a trap handled here, a migration, the start of the run.
    func updateTrivialTraps() {
        let trivial = options.trivialTrapsInC && ending == nil ? controller.trivialMAIRWrite : nil
        guard trivial != trivialMAIR else { return }
        takeTrivialTraps()
        trivialMAIR = trivial
        fast.takeMAIRWrites(table: trivial?.table, definedIndicesOnly: trivial?.definedIndicesOnly ?? false)
    }

    /// Records the MAIR_EL1 writes the C side took, in order, before anything else reads or
    /// adds to the trap log or the controller: the first thing every hook that reaches Swift
    /// does, and what follows every emulator run.
    func takeTrivialTraps() {
        guard let fast, let trivial = trivialMAIR else { return }
        let (runs, time) = fast.drainMAIRWrites()
        guard let last = runs.last else { return }
        for run in runs {
            traps.record(TrappedAccess(.register(.mairEL1), direction: .write, value: run.value, loaded: run.loaded,
                                       path: trivial.path, rewritten: trivial.rewritten, pc: run.pc), count: run.count)
        }
        traps.addHostNanoseconds(time)
        controller.noteTrivialMAIRWrite(last.value)
    }
}
