import AArch64
import Board
import Unicorn

/// The board's side of an execution: its devices wired to MMIO, PSCI over the conduit, and
/// the ends a board has that a snippet does not.
extension GuestExecution {
    /// SMCCC (Arm DEN0028) conduits: which instruction made a firmware call.
    enum Conduit: String { case hvc = "HVC", smc = "SMC" }

    /// The PL011 and the GIC as MMIO. A callback never stops the emulator (Unicorn 2.0.1 then
    /// reports the block's start as PC with the block's effects done): it asks the block hook
    /// to refuse the next block instead.
    func mapBoardDevices() throws(UnicornError) {
        guard let board else { return }
        try machine.mapMMIO(VirtBoard.uart.base, size: VirtBoard.uart.size, read: { [unowned self] offset, size in
            let value = board.devices.uartRead(offset: offset, size: size, instructions: fast.instructions)
            if board.devices.waitingForInput { fast.nextEvent = 0 }
            return value
        }, write: { offset, size, value in
            let sent = board.devices.uartWrite(offset: offset, size: size, value: value)
            if !sent.isEmpty { board.consoleSink?(sent) }
        })
        let gic = VirtBoard.gicDistributor.base..<VirtBoard.gicCPUInterface.end
        let cpuInterface = VirtBoard.gicCPUInterface.base - VirtBoard.gicDistributor.base
        try machine.mapMMIO(gic.lowerBound, size: UInt64(gic.count), read: { [unowned self] offset, size in
            board.devices.gicAccess()
            let value = offset < cpuInterface ? board.devices.gic.distributorRead(offset: offset, size: size)
                : board.devices.gic.cpuInterfaceRead(offset: offset - cpuInterface)
            updateInterrupts(now: timerCount(at: machine.pc))
            return value
        }, write: { [unowned self] offset, size, value in
            board.devices.gicAccess()
            if offset < cpuInterface {
                board.devices.gic.distributorWrite(offset: offset, size: size, value: value)
            } else {
                board.devices.gic.cpuInterfaceWrite(offset: offset - cpuInterface, value: value)
            }
            updateInterrupts(now: timerCount(at: machine.pc))
        })
    }

    /// A PSCI call (DEN0022) through HVC or SMC at `pc`: answered in X0 and resumed after the
    /// call, or the run ends (SYSTEM_OFF, SYSTEM_RESET, CPU_OFF of the only CPU).
    func firmwareCall(_ conduit: Conduit, pc: UInt64) {
        guard let board else { return }
        let x = (0...3).map { (try? machine.read(.x($0))) ?? 0 }
        let functionID = UInt32(truncatingIfNeeded: x[0])
        let result = PSCI.call(functionID: functionID, x1: x[1], x2: x[2], x3: x[3])
        let function = PSCI.Function(rawValue: functionID)?.description ?? "function \(hex(UInt64(functionID)))"
        board.devices.psciCalls.append(.init(conduit: conduit.rawValue, function: function, result: Self.describe(result, of: functionID),
                                             pc: pc))
        board.devices.exits["\(conduit.rawValue.lowercased()) (PSCI)", default: 0] += 1
        if let x0 = result.x0 {
            try? machine.write(.x(0), x0)
            try? machine.write(.pc, pc &+ 4)
            return
        }
        let status: Outcome.Status = switch result {
        case .systemOff: .systemOff
        case .systemReset: .systemReset
        default: .cpuOff
        }
        nameSitesAfterRelocation()
        ending = RunEnding(status: status, exitStatus: nil, fault: nil,
                           message: "PSCI \(function) through \(conduit.rawValue) at \(site(pc))")
        fast.end()
        machine.stop()
    }

    /// The answer as PSCI names it: a return code by its name (DEN0022, "Return error codes"),
    /// except PSCI_VERSION's, which is a version.
    static func describe(_ result: PSCIResult, of functionID: UInt32) -> String {
        guard case .returned(let value) = result, functionID != PSCI.Function.version.rawValue,
              let code = PSCI.ReturnCode(rawValue: Int32(truncatingIfNeeded: value)), code.x0 == value else { return result.description }
        return "returned \(code)"
    }

    /// Why a board run stopped without a PSCI end, budget or fault: the guest waits for input
    /// that will never come, or for an interrupt that will never be delivered.
    func boardStop() -> RunEnding? {
        guard let board else { return nil }
        nameSitesAfterRelocation()
        let pc = machine.pc
        if board.devices.waitingForInput {
            return RunEnding(status: .waitingForInput, exitStatus: nil, fault: nil,
                             message: "waiting for console input at \(site(pc)): the input queue is empty (\(board.devices.uart.consecutiveEmptyReceivePolls) polls of UARTFR in a row found RXFE set)")
        }
        // Unicorn 2.0.1 returns from a WFI with PC after it (notes/unicorn-exceptions.md).
        if instructionWord(at: pc &- 4) == Self.wfi {
            return RunEnding(status: .waitingForInterrupt, exitStatus: nil, fault: nil,
                             message: "WFI at \(site(pc &- 4)): nothing can wake it (no EL1 timer is armed to raise an interrupt, and there is no other CPU)")
        }
        return nil
    }

    /// A guest that set up the GIC and then ran out of budget may be waiting for an interrupt
    /// this board cannot raise: said, with what it can raise.
    var interruptHint: String? {
        guard let accesses = board?.devices.exits["mmio gic"], accesses > 0 else { return nil }
        return "; it accessed the GIC \(accesses) times and may be waiting for an interrupt this board cannot raise (one CPU: only the EL1 timers' PPIs 27 and 30 and SGIs to itself)"
    }

    /// Sites named before the image's relocation was known would name the wrong place.
    func nameSitesAfterRelocation() {
        guard let board, board.relocation == nil else { return }
        board.discoverRelocation(machine)
        if board.relocation != nil { sites = [:] }
    }
}
