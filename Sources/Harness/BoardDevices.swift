import AArch64
import Board
import Unicorn
import FoundationEssentials

/// The board's devices as the guest reaches them: the PL011 (console out, queued input in),
/// the GICv2 (its distributor and CPU interface, driven by the generic timers),
/// and the PSCI conduit. Counts every exit a real hypervisor would take for them.
struct BoardDevices {
    /// A PSCI call as the guest made it, and the board's answer.
    struct PSCICall {
        let conduit: String
        let function: String
        let result: String
        let pc: UInt64
    }

    var uart = PL011()
    var gic = GICv2()
    var timers = GenericTimers()
    /// Every byte the guest wrote to UARTDR.
    private(set) var console: [UInt8] = []
    var psciCalls: [PSCICall] = []
    /// Exits to the host by cause (MMIO by device, the conduit).
    var exits: [String: Int] = [:]
    /// The guest spins on UARTFR with nothing queued (set when the spin is recognised).
    var waitingForInput = false
    /// Instructions at the first empty poll of the current window of `spinPolls` of them.
    private var windowStart: UInt64 = 0

    /// An idle prompt polls UARTFR in a tight loop (U-Boot's getc: `while (FR & RXFE)`), while
    /// a countdown or `ctrlc()` polls between delays of thousands of instructions. This many
    /// empty polls in a row, at fewer than `spinInstructions` instructions each, is the former
    /// (U-Boot's countdown polls once per 10 ms: 625,000 instructions on the 62.5 MHz counter).
    static let spinPolls: UInt64 = 10_000
    static let spinInstructions: UInt64 = 1_000

    init(input: String) { uart.enqueueInput(escaped: input) }

    mutating func uartRead(offset: UInt64, size: Int, instructions: UInt64) -> UInt64 {
        exits["mmio pl011", default: 0] += 1
        let value = uart.read(offset: offset, size: size)
        if offset == PL011.Register.fr.rawValue, uart.pendingInputCount == 0, uart.waitingForInput {
            // Judged window by window, so a slow countdown before the prompt does not hide the spin.
            let polls = UInt64(uart.consecutiveEmptyReceivePolls)
            if polls % Self.spinPolls == 1 { windowStart = instructions }
            if polls % Self.spinPolls == 0, instructions - windowStart < Self.spinPolls * Self.spinInstructions {
                waitingForInput = true
            }
        }
        return value
    }

    /// A write; returns the bytes transmitted by it (for the live console).
    mutating func uartWrite(offset: UInt64, size: Int, value: UInt64) -> [UInt8] {
        exits["mmio pl011", default: 0] += 1
        uart.write(offset: offset, size: size, value: value)
        let out = uart.drainOutput()
        console += out
        return out
    }

    mutating func gicAccess() { exits["mmio gic", default: 0] += 1 }

    var consoleText: String { String(decoding: console, as: UTF8.self) }

    /// The last `lines` lines of the console, without carriage returns.
    func consoleTail(lines: Int = 12) -> String {
        let text = consoleText.replacing("\r\n", with: "\n").replacing("\r", with: "")
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
