import AArch64
import Formats
import FoundationEssentials
import Unicorn

extension GuestExecution {
    /// Runs from the entry symbol until the guest ends, faults, or reaches its budget (exactly:
    /// the block hook refuses the block that would pass it, and the rest of that block runs to a
    /// stop address), or the wall-clock safety net passes.
    func execute() throws {
        var pc = try program.entry()
        // `until` is never reached: the guest ends with `hvc #0` (an address never executed, so
        // no block is cut and retranslated on each start). A board's timer event, or a WFI the
        // count can skip, resumes the run.
        while true {
            guard try runSafely(from: pc, until: UInt64.max) else { return }
            guard ending == nil else { return }
            if fast.stop == .event || fast.stop == .none, let resume = serviceTimers() {
                fast.clearStop()
                pc = resume
                continue
            }
            return try ended()
        }
    }

    /// The run stopped for good: say how.
    private func ended() throws {
        switch fast.stop {
        case .budget:
            try finishBudget()
        case .deadline:
            ending = limits.timedOut(at: site(machine.pc))
        case .pcAlignment(let address):
            pcAlignmentFault(at: address)
        case .event, .none:
            if board != nil, let boardEnding = boardStop() {
                ending = boardEnding
                return
            }
            if waitForInterrupt(pc: machine.pc) { return }
            ending = RunEnding(status: .guestFault, exitStatus: nil, fault: nil,
                               message: "stopped at \(site(machine.pc)) without signalling an end")
        }
    }

    /// One `uc_emu_start`; false when it ended the run with an error turned into an outcome.
    private func runSafely(from pc: UInt64, until: UInt64) throws -> Bool {
        let result = Result { () throws(UnicornError) -> StopReason in try machine.start(at: pc, until: until) }
        enterFromEmulator()
        if case .failure(let error) = result {
            guard ending == nil else { return false }
            guard error.isUnmappedAccess || error.isProtectedAccess else { throw error }
            if error.isUnmappedAccess, let restart = retryRefusedAccess() { return try runSafely(from: restart, until: until) }
            unmapped(error)
            return false
        }
        // A block left by a stop from a hook: what followed PC did not run.
        fast.correct(at: machine.pc, begun: false)
        return true
    }

    /// The block hook refused the block that would pass the budget: its first `remaining`
    /// instructions still run (an A64 block has no branch inside it), to a stop address cut out
    /// of the translated code.
    private func finishBudget() throws {
        let pc = machine.pc, remaining = UInt64(limits.budget) &- fast.instructions
        if remaining > 0 {
            let stop = pc &+ 4 * remaining
            try machine.removeTranslations(stop, stop &+ 4)
            fast.clearStop()
            fast.budget = UInt64.max
            guard try runSafely(from: pc, until: stop) else { return }
            guard ending == nil else { return }
        }
        ending = limits.budgetExhausted(at: site(machine.pc), instructions: fast.instructions)
        if let hint = interruptHint { ending?.message += hint }
    }

    func unmapped(_ error: UnicornError) {
        let kind = invalidAccess.map { $0.kind.name } ?? error.name
        let why = error.isProtectedAccess ? "the region is mapped read-only (flash)" : "no memory region of the platform covers it"
        let detail = invalidAccess.map { "\(kind) of VA \(hex($0.virtualAddress)): \(why)" }
            ?? error.description
        end(fault: .unmappedAccess, pc: machine.pc, address: invalidAccess?.virtualAddress, detail: detail)
    }
}
