import AArch64
import Board
import Unicorn

/// The EL1 generic timers of the board (Arm ARM D11, "The Generic Timer in AArch64 state"):
/// CNTV_* and CNTP_* against the virtual count (one tick per guest instruction, plus the time
/// WFI skipped). Unicorn 2.0.1 compiles the timer control registers out (CTL always reads 0),
/// so the harness holds them. Each timer drives a PPI of the GIC: virtual 27, physical 30
/// (virt's devicetree).
struct GenericTimers {
    struct Timer {
        let ppi: Int
        var control: UInt64 = 0
        var compare: UInt64 = 0

        /// CNTx_CTL_EL0.ISTATUS: enabled and the count at or past the compare value.
        func status(at now: UInt64) -> Bool { control & 1 != 0 && now >= compare }
        /// The interrupt output: ISTATUS and not IMASK.
        func output(at now: UInt64) -> Bool { status(at: now) && control & 2 == 0 }
        /// The count at which the output will rise, if it is low now and can rise.
        func nextRise(after now: UInt64) -> UInt64? { control & 3 == 1 && compare > now ? compare : nil }
    }

    var timers = [Timer(ppi: 27), Timer(ppi: 30)]

    /// The timer a register encoding names and which register:
    /// 0 TVAL, 1 CTL, 2 CVAL; CRm 3 is the virtual timer, 2 the physical one.
    static func register(_ e: SystemRegisterEncoding) -> (timer: Int, field: UInt8)? {
        guard e.op0 == 3, e.op1 == 3, e.crn == 14, e.crm == 2 || e.crm == 3, e.op2 <= 2 else { return nil }
        return (e.crm == 3 ? 0 : 1, e.op2)
    }

    static let encodings: [SystemRegisterAddress] = [2, 3].flatMap { crm in
        (0...2).map { SystemRegisterAddress(op0: 3, op1: 3, crn: 14, crm: UInt8(crm), op2: UInt8($0)) }
    }
}

extension GuestExecution {
    /// An MSR or MRS of a timer register: answered from the board's timers.
    func timerRegisterAccess(_ insn: SystemInstruction) -> SystemInstructionAction? {
        guard let board, let (index, field) = GenericTimers.register(insn.address.encoding) else { return nil }
        let now = timerCount(at: machine.pc)
        var timer = board.devices.timers.timers[index]
        if insn.kind == .msr {
            switch field {
            // TVAL: a signed 32-bit offset from now (Arm ARM, CNTV_TVAL_EL0).
            case 0: timer.compare = now &+ UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: insn.value)))
            case 1: timer.control = insn.value & 3
            default: timer.compare = insn.value
            }
            board.devices.timers.timers[index] = timer
            updateInterrupts(now: now)
        } else {
            let value: UInt64 = switch field {
            case 0: UInt64(UInt32(truncatingIfNeeded: timer.compare &- now))
            case 1: timer.control | (timer.status(at: now) ? 4 : 0)
            default: timer.compare
            }
            if insn.rt != 31 { try? machine.write(.x(insn.rt), value) }
        }
        return .skip
    }

    /// Drives the GIC's PPIs from the timers, the virtual IRQ (HCR_EL2.VI, with IMO) from the
    /// GIC, and the next stop at the count where a timer's output rises.
    func updateInterrupts(now: UInt64) {
        guard let board else { return }
        var next = UInt64.max
        for timer in board.devices.timers.timers {
            board.devices.gic.setLine(timer.ppi, timer.output(at: now))
            if let rise = timer.nextRise(after: now) { next = min(next, rise) }
        }
        let offset = UInt64(bitPattern: fast.timerOffset)
        let timerEvent = next == .max ? UInt64.max : next &- offset
        fast.nextEvent = board.devices.waitingForInput ? 0 : min(timerEvent, board.progress == nil ? .max : board.nextProgress)
        let signal = board.devices.gic.signalsIRQ
        guard signal != interruptSignalled,
              let hcr = try? machine.readSystemRegister(Machine.hcrEL2) else { return }
        interruptSignalled = signal
        let bits: UInt64 = 1 << 4 | 1 << 7   // IMO, VI
        try? machine.writeSystemRegister(Machine.hcrEL2, signal ? hcr | bits : hcr & ~bits)
    }

    /// After a stop with nothing else to do: a timer event (the count reached a rise), or a WFI
    /// with a timer that will fire (the count skips ahead to it). Returns where to resume.
    func serviceTimers() -> UInt64? {
        guard let board, !board.devices.waitingForInput else { return nil }
        let pc = machine.pc
        var now = timerCount(at: pc)
        if let progress = board.progress, fast.instructions >= board.nextProgress {
            board.nextProgress = fast.instructions + BoardGuest.progressInterval
            progress(fast.instructions, board.devices.consoleTail(lines: 2).split(separator: "\n").last.map(String.init) ?? "")
        }
        if fast.stop == .none {
            guard instructionWord(at: pc &- 4) == Self.wfi else { return nil }
            // WFI: nothing happens until the next timer event; skip the count ahead to it.
            guard let rise = board.devices.timers.timers.compactMap({ $0.nextRise(after: now) }).min() else { return nil }
            fast.virtualTimer(frequency: VirtualTimer.frequency, offset: fast.timerOffset &+ Int64(rise - now))
            now = rise
            wfiSkips += 1
        }
        updateInterrupts(now: now)
        return pc
    }
}
