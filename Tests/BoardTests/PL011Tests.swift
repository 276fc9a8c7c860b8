import Testing
@testable import Board

// Offsets, bits and reset values from the PL011 TRM r1p5 (ARM DDI 0183G), chapter 3.
private let DR: UInt64 = 0x000, RSR: UInt64 = 0x004, FR: UInt64 = 0x018, ILPR: UInt64 = 0x020
private let IBRD: UInt64 = 0x024, FBRD: UInt64 = 0x028, LCR_H: UInt64 = 0x02C, CR: UInt64 = 0x030
private let IFLS: UInt64 = 0x034, IMSC: UInt64 = 0x038, RIS: UInt64 = 0x03C, MIS: UInt64 = 0x040
private let ICR: UInt64 = 0x044, DMACR: UInt64 = 0x048
private let BUSY: UInt64 = 1 << 3, RXFE: UInt64 = 1 << 4, TXFF: UInt64 = 1 << 5, RXFF: UInt64 = 1 << 6
private let TXFE: UInt64 = 1 << 7
private let RXIM: UInt64 = 1 << 4, TXIM: UInt64 = 1 << 5, RTIM: UInt64 = 1 << 6
private let FEN: UInt64 = 1 << 4

@Suite("PL011 UART")
struct PL011Tests {
    @Test func resetValues() {
        var uart = PL011()
        // Table 3-1: UARTFR 0b-10010--- (TXFE and RXFE set), UARTCR 0x0300, UARTIFLS 0x12,
        // everything else 0.
        #expect(uart.read(offset: FR, size: 4) == TXFE | RXFE)
        #expect(uart.read(offset: CR, size: 4) == 0x0300)
        #expect(uart.read(offset: IFLS, size: 4) == 0x12)
        for offset in [RSR, ILPR, IBRD, FBRD, LCR_H, IMSC, RIS, MIS, DMACR] {
            #expect(uart.read(offset: offset, size: 4) == 0, "offset \(offset)")
        }
    }

    @Test func identificationRegisters() {
        var uart = PL011()
        // 3.3.15 UARTPeriphID0-3: 0x11, 0x10, 0x34 (revision 3 = r1p5), 0x00;
        // 3.3.16 UARTPCellID0-3: 0x0D, 0xF0, 0x05, 0xB1.
        let expected: [UInt64] = [0x11, 0x10, 0x34, 0x00, 0x0D, 0xF0, 0x05, 0xB1]
        for (index, value) in expected.enumerated() {
            #expect(uart.read(offset: 0xFE0 + 4 * UInt64(index), size: 4) == value)
        }
    }

    @Test func transmitAppendsToOutputInOrder() {
        var uart = PL011()
        for byte in "hi\r\n".utf8 { uart.write(offset: DR, size: 4, value: UInt64(byte)) }
        #expect(uart.output == Array("hi\r\n".utf8))
        #expect(uart.drainOutput() == Array("hi\r\n".utf8))
        #expect(uart.drainOutput().isEmpty)
        uart.write(offset: DR, size: 1, value: 0x141)  // 3.3.1: only bits [7:0] are data
        #expect(uart.drainOutput() == [0x41])
        #expect(uart.output == Array("hi\r\nA".utf8))
        // Transmission is instant: never full, never busy, always empty.
        let flags = uart.read(offset: FR, size: 4)
        #expect(flags & (TXFF | BUSY) == 0 && flags & TXFE != 0)
    }

    @Test func receiveTakesQueuedBytes() {
        var uart = PL011()
        uart.enqueueInput(Array("ok".utf8))
        #expect(uart.read(offset: FR, size: 4) & RXFE == 0)
        #expect(uart.read(offset: DR, size: 4) == UInt64(UInt8(ascii: "o")))
        #expect(uart.read(offset: DR, size: 4) == UInt64(UInt8(ascii: "k")))
        #expect(uart.read(offset: FR, size: 4) & RXFE != 0)
        #expect(uart.pendingInputCount == 0)
        // A byte read of UARTDR's second byte (the error flags) takes nothing.
        uart.enqueueInput([0x33])
        #expect(uart.read(offset: DR + 1, size: 1) == 0)
        #expect(uart.pendingInputCount == 1)
        #expect(uart.read(offset: DR, size: 1) == 0x33)
    }

    @Test func longInputKeepsItsOrder() {
        var uart = PL011()
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        uart.enqueueInput(bytes[..<6000])
        var read: [UInt8] = []
        for _ in 0..<5000 { read.append(UInt8(uart.read(offset: DR, size: 4))) }
        uart.enqueueInput(bytes[6000...])
        while uart.read(offset: FR, size: 4) & RXFE == 0 { read.append(UInt8(uart.read(offset: DR, size: 4))) }
        #expect(read == bytes)
    }

    @Test func escapedInput() {
        // The CLI's `--input '\rversion\rreset\r'`: backslash-r is CR, backslash-n LF.
        #expect(PL011.decodeEscapes(#"\rversion\rreset\r"#) == [0x0D] + Array("version".utf8) + [0x0D] + Array("reset".utf8) + [0x0D])
        #expect(PL011.decodeEscapes(#"a\nb"#) == [0x61, 0x0A, 0x62])
        #expect(PL011.decodeEscapes(#"\\r"#) == [0x5C, 0x72])
        #expect(PL011.decodeEscapes(#"\q\"#) == [0x5C, 0x71, 0x5C])
        var uart = PL011()
        uart.enqueueInput(escaped: #"x\r"#)
        #expect(uart.read(offset: DR, size: 4) == 0x78)
        #expect(uart.read(offset: DR, size: 4) == 0x0D)
    }

    @Test func pollingAnEmptyQueueIsCounted() {
        var uart = PL011()
        #expect(!uart.waitingForInput)
        for _ in 0..<3 { _ = uart.read(offset: FR, size: 4) }
        #expect(uart.waitingForInput)
        #expect(uart.emptyReceivePolls == 3 && uart.consecutiveEmptyReceivePolls == 3)
        uart.enqueueInput([0x0D])
        #expect(!uart.waitingForInput)
        _ = uart.read(offset: FR, size: 4)  // finds data: not counted
        #expect(uart.emptyReceivePolls == 3 && uart.consecutiveEmptyReceivePolls == 0)
        _ = uart.read(offset: DR, size: 4)
        _ = uart.read(offset: FR, size: 4)
        #expect(uart.waitingForInput && uart.emptyReceivePolls == 4)
        #expect(uart.flags.contains(.rxfe))  // the accessor does not count
        #expect(uart.emptyReceivePolls == 4)
    }

    @Test func receiveFIFOFullFlag() {
        var uart = PL011()
        // FIFO disabled (LCR_H.FEN 0): a one-byte holding register, full with one byte.
        uart.enqueueInput([1, 2])
        #expect(uart.read(offset: FR, size: 4) & RXFF != 0)
        // FIFO enabled: 32 entries in r1p5.
        uart.write(offset: LCR_H, size: 4, value: FEN | 0x60)  // 8 bits, FIFOs on
        #expect(uart.read(offset: FR, size: 4) & RXFF == 0)
        uart.enqueueInput([UInt8](repeating: 0x55, count: 30))
        #expect(uart.read(offset: FR, size: 4) & RXFF != 0)
        _ = uart.read(offset: DR, size: 4)
        #expect(uart.read(offset: FR, size: 4) & RXFF == 0)
    }

    @Test func storedRegistersReadBack() {
        var uart = PL011()
        // The values firmware writes for 115200 baud from a 24 MHz clock (3.3.6: divisor 13.02
        // -> IBRD 13, FBRD 1), 8N1 with FIFOs, then UARTEN | TXE | RXE.
        uart.write(offset: IBRD, size: 4, value: 13)
        uart.write(offset: FBRD, size: 4, value: 1)
        uart.write(offset: LCR_H, size: 4, value: 0x70)
        uart.write(offset: CR, size: 4, value: 0x301)
        uart.write(offset: ILPR, size: 4, value: 0xAB)
        uart.write(offset: IFLS, size: 4, value: 0x09)
        uart.write(offset: DMACR, size: 4, value: 0x7)
        #expect(uart.read(offset: IBRD, size: 4) == 13)
        #expect(uart.read(offset: FBRD, size: 4) == 1)
        #expect(uart.read(offset: LCR_H, size: 4) == 0x70)
        #expect(uart.read(offset: CR, size: 4) == 0x301)
        #expect(uart.read(offset: ILPR, size: 4) == 0xAB)
        #expect(uart.read(offset: IFLS, size: 4) == 0x09)
        #expect(uart.read(offset: DMACR, size: 4) == 0x7)
        // Field widths: IBRD 16 bits, FBRD 6, LCR_H 8, IFLS 6, DMACR 3.
        uart.write(offset: IBRD, size: 4, value: 0xF_FFFF)
        uart.write(offset: FBRD, size: 4, value: 0xFF)
        uart.write(offset: LCR_H, size: 4, value: 0x1FF)
        uart.write(offset: IFLS, size: 4, value: 0xFF)
        uart.write(offset: DMACR, size: 4, value: 0xFF)
        #expect(uart.read(offset: IBRD, size: 4) == 0xFFFF)
        #expect(uart.read(offset: FBRD, size: 4) == 0x3F)
        #expect(uart.read(offset: LCR_H, size: 4) == 0xFF)
        #expect(uart.read(offset: IFLS, size: 4) == 0x3F)
        #expect(uart.read(offset: DMACR, size: 4) == 0x7)
    }

    @Test func interruptRegisters() {
        var uart = PL011()
        uart.write(offset: IMSC, size: 4, value: RXIM | TXIM)
        #expect(uart.read(offset: IMSC, size: 4) == RXIM | TXIM)
        // A transmitted byte empties the FIFO at once: the transmit interrupt is raised...
        uart.write(offset: DR, size: 4, value: 0x41)
        #expect(uart.read(offset: RIS, size: 4) & TXIM != 0)
        #expect(uart.read(offset: MIS, size: 4) == TXIM)
        #expect(uart.interruptAsserted)
        // ...until UARTICR clears it (3.3.13: write 1 to clear).
        uart.write(offset: ICR, size: 4, value: TXIM)
        #expect(uart.read(offset: RIS, size: 4) == 0)
        #expect(!uart.interruptAsserted)
        // FIFO disabled: one received byte raises the receive interrupt; reading it lowers it.
        uart.enqueueInput([0x61])
        #expect(uart.read(offset: MIS, size: 4) == RXIM)
        _ = uart.read(offset: DR, size: 4)
        #expect(uart.read(offset: RIS, size: 4) & RXIM == 0)
        // FIFO enabled, trigger at 1/2 (IFLS reset 0x12: 16 of 32): below it, the receive
        // timeout; at it, the receive interrupt.
        uart.write(offset: LCR_H, size: 4, value: FEN | 0x60)
        uart.enqueueInput([UInt8](repeating: 0x62, count: 15))
        #expect(uart.read(offset: RIS, size: 4) & (RXIM | RTIM) == RTIM)
        #expect(uart.read(offset: MIS, size: 4) & RTIM == 0)  // masked
        uart.enqueueInput([0x62])
        #expect(uart.read(offset: RIS, size: 4) & (RXIM | RTIM) == RXIM)
        // Masked status is raw status AND the mask (3.3.12).
        uart.write(offset: IMSC, size: 4, value: 0)
        #expect(uart.read(offset: MIS, size: 4) == 0)
        #expect(uart.read(offset: RIS, size: 4) & RXIM != 0)
    }

    @Test func unknownOffsetsAndAccessSizes() {
        var uart = PL011()
        // Reserved offsets read as 0 and ignore writes.
        for offset: UInt64 in [0x008, 0x00C, 0x010, 0x014, 0x01C, 0x04C, 0x800, 0xFDC, 0x1000] {
            uart.write(offset: offset, size: 4, value: 0xFFFF_FFFF)
            #expect(uart.read(offset: offset, size: 4) == 0)
        }
        #expect(uart.output.isEmpty)
        // Narrower and unaligned reads see bytes of the 32-bit register; 8-byte reads the
        // register in the low half.
        #expect(uart.read(offset: CR, size: 1) == 0x00)
        #expect(uart.read(offset: CR + 1, size: 1) == 0x03)
        #expect(uart.read(offset: CR, size: 2) == 0x0300)
        #expect(uart.read(offset: CR, size: 8) == 0x0300)
        #expect(uart.read(offset: 0xFFC, size: 8) == 0xB1)
        // A write at an unaligned offset does nothing.
        uart.write(offset: CR + 1, size: 1, value: 0)
        #expect(uart.read(offset: CR, size: 4) == 0x0300)
    }
}
