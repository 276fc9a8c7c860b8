// The ARM PrimeCell UART (PL011) register file, r1p5 (ARM DDI 0183G, PL011 Technical Reference
// Manual, chapter 3 "Programmers Model"), as firmware and Linux drive it: polled transmit and
// receive, the baud-rate and line-control registers stored and read back, the interrupt
// registers consistent with the FIFO levels, and the identification registers.
//
// The wire is instant and lossless: a transmitted byte is in `output` at once (the transmit
// FIFO is always empty), and input waits on the host side until the guest reads it, so the
// receive FIFO never overruns. Transmit and receive do not depend on UARTCR's UARTEN/TXE/RXE,
// so nothing is lost before firmware enables the UART. Modem lines, IrDA, DMA, break and
// loopback are not modelled (their registers are stored or read as 0).

/// One PL011. A value type: the harness owns it and calls `read`/`write` from its MMIO
/// callbacks.
public struct PL011: Sendable {
    /// Register offsets (TRM Table 3-1). Offsets not listed read as 0 and ignore writes, as do
    /// 0x008-0x014, 0x01C, 0x04C-0xFDC and anything at or past 0x1000.
    public enum Register: UInt64, CaseIterable, Sendable, CustomStringConvertible {
        case dr = 0x000, rsrECR = 0x004, fr = 0x018, ilpr = 0x020, ibrd = 0x024, fbrd = 0x028
        case lcrH = 0x02C, cr = 0x030, ifls = 0x034, imsc = 0x038, ris = 0x03C, mis = 0x040
        case icr = 0x044, dmacr = 0x048
        case periphID0 = 0xFE0, periphID1 = 0xFE4, periphID2 = 0xFE8, periphID3 = 0xFEC
        case pCellID0 = 0xFF0, pCellID1 = 0xFF4, pCellID2 = 0xFF8, pCellID3 = 0xFFC

        public var description: String {
            switch self {
            case .dr: "UARTDR"
            case .rsrECR: "UARTRSR/UARTECR"
            case .fr: "UARTFR"
            case .ilpr: "UARTILPR"
            case .ibrd: "UARTIBRD"
            case .fbrd: "UARTFBRD"
            case .lcrH: "UARTLCR_H"
            case .cr: "UARTCR"
            case .ifls: "UARTIFLS"
            case .imsc: "UARTIMSC"
            case .ris: "UARTRIS"
            case .mis: "UARTMIS"
            case .icr: "UARTICR"
            case .dmacr: "UARTDMACR"
            case .periphID0, .periphID1, .periphID2, .periphID3:
                "UARTPeriphID\((rawValue - 0xFE0) / 4)"
            case .pCellID0, .pCellID1, .pCellID2, .pCellID3:
                "UARTPCellID\((rawValue - 0xFF0) / 4)"
            }
        }
    }

    /// UARTFR (TRM 3.3.3).
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let cts = Flags(rawValue: 1 << 0)
        public static let dsr = Flags(rawValue: 1 << 1)
        public static let dcd = Flags(rawValue: 1 << 2)
        public static let busy = Flags(rawValue: 1 << 3)
        public static let rxfe = Flags(rawValue: 1 << 4)
        public static let txff = Flags(rawValue: 1 << 5)
        public static let rxff = Flags(rawValue: 1 << 6)
        public static let txfe = Flags(rawValue: 1 << 7)
        public static let ri = Flags(rawValue: 1 << 8)
    }

    /// The bits shared by UARTIMSC, UARTRIS, UARTMIS and UARTICR (TRM 3.3.10-3.3.13).
    public struct Interrupts: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let ringIndicator = Interrupts(rawValue: 1 << 0)
        public static let clearToSend = Interrupts(rawValue: 1 << 1)
        public static let dataCarrierDetect = Interrupts(rawValue: 1 << 2)
        public static let dataSetReady = Interrupts(rawValue: 1 << 3)
        public static let receive = Interrupts(rawValue: 1 << 4)
        public static let transmit = Interrupts(rawValue: 1 << 5)
        public static let receiveTimeout = Interrupts(rawValue: 1 << 6)
        public static let framingError = Interrupts(rawValue: 1 << 7)
        public static let parityError = Interrupts(rawValue: 1 << 8)
        public static let breakError = Interrupts(rawValue: 1 << 9)
        public static let overrunError = Interrupts(rawValue: 1 << 10)
        public static let all = Interrupts(rawValue: 0x7FF)
    }

    /// UARTPeriphID0-3 then UARTPCellID0-3 (TRM 3.3.15, 3.3.16): part number 0x011, designer
    /// 0x41 (ARM), revision 3 (r1p5), configuration 0; PrimeCell ID 0xB105F00D.
    public static let identification: [UInt8] = [0x11, 0x10, 0x34, 0x00, 0x0D, 0xF0, 0x05, 0xB1]

    /// The FIFO depth of r1p5 (TRM chapter 2: 32 entries each way); with UARTLCR_H.FEN clear
    /// each FIFO is a one-byte holding register.
    public static let fifoDepth = 32

    /// UARTLCR_H.FEN (TRM 3.3.7).
    static let fifoEnable: UInt32 = 1 << 4

    /// Every byte transmitted, in order.
    public private(set) var output: [UInt8] = []
    private var drainedOutputCount = 0
    private var input: [UInt8] = []
    private var inputHead = 0

    /// Reads of UARTFR that found RXFE set because no input was queued.
    public private(set) var emptyReceivePolls = 0
    /// The same, since input was last queued or a UARTFR read last found data: a guest that
    /// keeps polling with nothing to read drives this up.
    public private(set) var consecutiveEmptyReceivePolls = 0

    // Stored registers, reset values from TRM Table 3-1.
    private var ilpr: UInt32 = 0
    private var ibrd: UInt32 = 0
    private var fbrd: UInt32 = 0
    private var lcrH: UInt32 = 0
    private var cr: UInt32 = 0x0300  // TXE, RXE
    private var ifls: UInt32 = 0x12  // both trigger levels at 1/2
    private var imsc: Interrupts = []
    private var dmacr: UInt32 = 0
    private var rawInterrupts: Interrupts = []

    public init() {}

    /// Whether the guest is polling for input that is not there: the last read of UARTFR
    /// found the receive FIFO empty and no input has been queued since.
    public var waitingForInput: Bool { consecutiveEmptyReceivePolls > 0 }

    /// Bytes queued and not yet read by the guest.
    public var pendingInputCount: Int { input.count - inputHead }

    /// UARTINTR, the combined interrupt output (TRM chapter 2, "Interrupts"): any interrupt
    /// both raised and enabled in UARTIMSC.
    public var interruptAsserted: Bool { !rawInterrupts.intersection(imsc).isEmpty }

    /// The bytes transmitted since the last drain.
    public mutating func drainOutput() -> [UInt8] {
        defer { drainedOutputCount = output.count }
        return Array(output[drainedOutputCount...])
    }

    /// Queues bytes for the guest to receive.
    public mutating func enqueueInput(_ bytes: some Sequence<UInt8>) {
        let before = input.count
        input.append(contentsOf: bytes)
        guard input.count > before else { return }
        consecutiveEmptyReceivePolls = 0
        updateReceiveInterrupts()
    }

    /// Queues `text` after `PL011.decodeEscapes`.
    public mutating func enqueueInput(escaped text: String) { enqueueInput(Self.decodeEscapes(text)) }

    /// The bytes of `text` (UTF-8) with `\r` as CR (0x0D), `\n` as LF (0x0A), `\t` as TAB and
    /// `\\` as one backslash, so that a command line can type a console's Enter key. A
    /// backslash before anything else is kept as it is.
    public static func decodeEscapes(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var escaped = false
        for byte in text.utf8 {
            if escaped {
                escaped = false
                switch byte {
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
                default: bytes += [UInt8(ascii: "\\"), byte]
                }
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else {
                bytes.append(byte)
            }
        }
        if escaped { bytes.append(UInt8(ascii: "\\")) }
        return bytes
    }

    // MARK: - Register access

    /// A guest read. The registers are 32 bits wide: an access of `size` bytes (1, 2, 4 or 8)
    /// at `offset` returns those bytes of the word containing it (the upper half of an 8-byte
    /// read is 0). Side effects (taking a byte from UARTDR, counting UARTFR polls) happen only
    /// for accesses at the word's first byte.
    public mutating func read(offset: UInt64, size: Int) -> UInt64 {
        let lane = offset & 3
        let word = UInt64(readRegister(offset - lane, sideEffects: lane == 0)) >> (8 * lane)
        return size >= 8 ? word : word & ((1 << (8 * UInt64(size))) - 1)
    }

    /// A guest write of `size` bytes. Only accesses at a word's first byte have an effect, with
    /// the value truncated to `size` bytes and then to 32 bits; reserved bits are dropped.
    public mutating func write(offset: UInt64, size: Int, value: UInt64) {
        guard offset & 3 == 0 else { return }
        let bits = size >= 4 ? 32 : 8 * size
        writeRegister(offset, UInt32(truncatingIfNeeded: value) & UInt32((UInt64(1) << bits) - 1))
    }

    /// UARTFR as the guest would read it, without counting a poll.
    public var flags: Flags {
        let fifo = receiveFIFOLevel
        var flags: Flags = [.txfe]  // TXFF and BUSY stay clear: transmission is instant.
        if fifo == 0 { flags.insert(.rxfe) }
        if fifo == receiveFIFOCapacity { flags.insert(.rxff) }
        return flags
    }

    private mutating func readRegister(_ offset: UInt64, sideEffects: Bool) -> UInt32 {
        guard let register = Register(rawValue: offset) else { return 0 }
        switch register {
        case .dr:
            // TRM 3.3.1: data in [7:0], error flags in [11:8] (never set here). Reading an empty
            // FIFO returns 0.
            guard pendingInputCount > 0 else { return 0 }
            let byte = input[inputHead]
            if sideEffects { takeInputByte() }
            return UInt32(byte)
        case .rsrECR:
            return 0  // TRM 3.3.2: no framing, parity, break or overrun errors occur.
        case .fr:
            let flags = flags
            if sideEffects {
                if flags.contains(.rxfe) {
                    emptyReceivePolls += 1
                    consecutiveEmptyReceivePolls += 1
                } else {
                    consecutiveEmptyReceivePolls = 0
                }
            }
            return flags.rawValue
        case .ilpr: return ilpr
        case .ibrd: return ibrd
        case .fbrd: return fbrd
        case .lcrH: return lcrH
        case .cr: return cr
        case .ifls: return ifls
        case .imsc: return imsc.rawValue
        case .ris: return rawInterrupts.rawValue
        case .mis: return rawInterrupts.intersection(imsc).rawValue
        case .icr: return 0  // write-only
        case .dmacr: return dmacr
        case .periphID0, .periphID1, .periphID2, .periphID3, .pCellID0, .pCellID1, .pCellID2, .pCellID3:
            return UInt32(Self.identification[Int((offset - 0xFE0) / 4)])
        }
    }

    private mutating func writeRegister(_ offset: UInt64, _ value: UInt32) {
        guard let register = Register(rawValue: offset) else { return }
        switch register {
        case .dr:
            output.append(UInt8(truncatingIfNeeded: value))
            // The byte leaves at once, so the transmit FIFO falls to empty, through any trigger
            // level: TXRIS asserts (TRM chapter 2, "Interrupts", UARTTXINTR) and stays until
            // UARTICR clears it.
            rawInterrupts.insert(.transmit)
        case .rsrECR: break  // TRM 3.3.2: clears the error flags, which are never set.
        case .fr, .ris, .mis: break  // read-only
        case .ilpr: ilpr = value & 0xFF
        case .ibrd: ibrd = value & 0xFFFF
        case .fbrd: fbrd = value & 0x3F
        case .lcrH:
            lcrH = value & 0xFF
            updateReceiveInterrupts()
        case .cr: cr = value & 0xFF87  // bits [6:3] are reserved (TRM 3.3.8)
        case .ifls:
            ifls = value & 0x3F
            updateReceiveInterrupts()
        case .imsc: imsc = Interrupts(rawValue: value).intersection(.all)
        case .icr: rawInterrupts.subtract(Interrupts(rawValue: value))
        case .dmacr: dmacr = value & 0x7
        case .periphID0, .periphID1, .periphID2, .periphID3, .pCellID0, .pCellID1, .pCellID2, .pCellID3:
            break  // read-only
        }
    }

    // MARK: - Receive side

    private var fifoEnabled: Bool { lcrH & Self.fifoEnable != 0 }
    private var receiveFIFOCapacity: Int { fifoEnabled ? Self.fifoDepth : 1 }
    /// The bytes in the receive FIFO: queued input fills it as fast as the guest empties it.
    private var receiveFIFOLevel: Int { min(pendingInputCount, receiveFIFOCapacity) }

    /// UARTIFLS.RXIFLSEL (TRM 3.3.9): 1/8, 1/4, 1/2, 3/4, 7/8 full; reserved encodings as 7/8.
    private var receiveTriggerLevel: Int {
        let eighths = [1, 2, 4, 6, 7][min(Int(ifls >> 3 & 0b111), 4)]
        return Self.fifoDepth * eighths / 8
    }

    private mutating func takeInputByte() {
        inputHead += 1
        if inputHead == input.count {
            input.removeAll(keepingCapacity: true)
            inputHead = 0
        } else if inputHead >= 4096 && inputHead * 2 >= input.count {
            input.removeFirst(inputHead)
            inputHead = 0
        }
        updateReceiveInterrupts()
    }

    /// TRM chapter 2, "Interrupts" (UARTRXINTR, UARTRTINTR): with the FIFO enabled the receive interrupt
    /// follows the level reaching the trigger level; below it, data that has stopped arriving
    /// raises the receive timeout instead (input here arrives all at once). With the FIFO
    /// disabled one byte raises the receive interrupt. Both fall when the FIFO drains below
    /// their condition; UARTICR also clears them until the level next changes.
    private mutating func updateReceiveInterrupts() {
        let level = receiveFIFOLevel
        let receive = fifoEnabled ? level >= receiveTriggerLevel : level >= 1
        let timeout = fifoEnabled && level > 0 && !receive
        if receive { rawInterrupts.insert(.receive) } else { rawInterrupts.remove(.receive) }
        if timeout { rawInterrupts.insert(.receiveTimeout) } else { rawInterrupts.remove(.receiveTimeout) }
    }
}
