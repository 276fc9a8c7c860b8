import AArch64
import Hypervisor
import Unicorn

extension GuestExecution {
    /// Tells the C side which trapped writes it may take itself (their handling depends on the
    /// value alone: `TrapController.trivialWrites`), after anything that can change that: a
    /// trap handled here, a migration, the start of the run.
    func updateTrivialTraps() {
        let trivial = options.trivialTrapsInC && ending == nil ? controller.trivialWrites : nil
        guard trivial != trivialWrites else { return }
        takeTrivialTraps()
        trivialWrites = trivial
        let registers = (trivial?.registers ?? []).reduce(UInt32(0)) { mask, register in
            Self.vmRegisterBits.firstIndex(of: register).map { mask | 1 << UInt32($0) } ?? mask
        }
        fast.takeTrivialWrites(registers: registers, mairTable: trivial?.mairTable ?? [],
                               definedIndicesOnly: trivial?.definedIndicesOnly ?? false)
    }

    /// What Swift does first whenever the emulator enters it: the trapped writes and the
    /// shared-memory accesses C took are recorded, in order, and C may serve no line of shared
    /// memory until Swift proves it plain again (what happens next may change any).
    func enterFromEmulator() {
        takeTrivialTraps()
        guard let shared, let plain = shared.plain else { return }
        plain.drain { shared.replayPlain($0) }
        plain.withdraw()
    }

    /// Records the writes the C side took, in order, before anything else reads or adds to the
    /// trap log or the controller: the first thing every hook that reaches Swift does, and what
    /// follows every emulator run.
    func takeTrivialTraps() {
        guard let fast, let trivial = trivialWrites else { return }
        let (runs, time) = fast.drainTrivialWrites()
        guard !runs.isEmpty else { return }
        var last = [UInt64?](repeating: nil, count: Self.vmRegisterBits.count)
        // The recorder out of `self` for the loop: one exclusive access, not one per run.
        var recorder = TrapRecorder()
        swap(&recorder, &traps)
        defer { swap(&recorder, &traps) }
        for run in runs {
            let register = Self.vmRegisterBits[run.vmRegister]
            recorder.record(TrappedAccess(.register(register), direction: .write, value: run.value, loaded: run.loaded,
                                          path: trivial.path, rewritten: register == .mairEL1 && trivial.mairRewritten,
                                          pc: run.pc), count: run.count)
            last[run.vmRegister] = run.value
        }
        recorder.addHostNanoseconds(time)
        for (index, value) in last.enumerated() {
            if let value { controller.noteTrivialWrite(Self.vmRegisterBits[index], value) }
        }
    }
}
