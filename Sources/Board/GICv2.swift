/// A GICv2 for one CPU (Arm GIC Architecture Specification v2, IHI 0048B): the distributor
/// and CPU interface registers that Linux's and kvm-unit-tests' drivers use, 64 interrupt IDs
/// (SGIs 0-15, PPIs 16-31, SPIs 32-63), no security extensions (every interrupt in Group 0,
/// GICD_IGROUPR reads as zero), no binary-point preemption beyond priority. A value type: the
/// harness owns one per board run.
public struct GICv2: Sendable, Equatable {
    public static let interrupts = 64
    /// INTID 1023: no pending interrupt (GICC_IAR, GICC_HPPIR).
    public static let spurious: UInt32 = 1023

    public private(set) var distributorEnabled = false
    public private(set) var cpuInterfaceEnabled = false
    public private(set) var priorityMask: UInt8 = 0
    public private(set) var binaryPoint: UInt32 = 2
    private var enabled = [Bool](repeating: false, count: interrupts)
    /// Latched pending state (SGIs, edge-triggered SPIs, GICD_ISPENDR writes).
    private var latched = [Bool](repeating: false, count: interrupts)
    /// The level of each interrupt's input line (PPIs from the timers are level-sensitive).
    private var line = [Bool](repeating: false, count: interrupts)
    private var active = [Bool](repeating: false, count: interrupts)
    private var priority = [UInt8](repeating: 0, count: interrupts)
    private var configuration = [UInt32](repeating: 0, count: interrupts / 16)
    /// GICD_ITARGETSR of each SPI: only CPU 0's bit exists (the others are masked, RAZ/WI);
    /// an SPI targeting no CPU is never forwarded. SGIs and PPIs read as CPU 0's own.
    private var targets = [UInt8](repeating: 0, count: interrupts)
    /// Active interrupts in the order acknowledged (their priorities make the running priority).
    private var activeStack: [Int] = []
    /// Interrupts acknowledged, by INTID.
    public private(set) var acknowledged: [Int: Int] = [:]

    public init() {
        // PPIs are level-sensitive, SGIs edge (GICD_ICFGR0 reads 0xAAAAAAAA, ICFGR1 per PPI).
        configuration[0] = 0xAAAA_AAAA
    }

    /// Pending: latched, or a level-sensitive line held high.
    func isPending(_ id: Int) -> Bool { latched[id] || line[id] }

    /// Drives the input line of interrupt `id` (a timer's output).
    public mutating func setLine(_ id: Int, _ high: Bool) { line[id] = high }

    var runningPriority: UInt8 { activeStack.last.map { priority[$0] } ?? 0xFF }

    /// The highest-priority pending, enabled, inactive interrupt (lowest ID on a tie).
    public var highestPending: Int? {
        var best: Int?
        for id in 0..<Self.interrupts where enabled[id] && isPending(id) && !active[id] && (id < 32 || targets[id] & 1 != 0) {
            if best == nil || priority[id] < priority[best!] { best = id }
        }
        return best
    }

    /// Whether the CPU interface signals an IRQ: both enables, and a pending interrupt whose
    /// priority is higher (numerically lower) than the mask and the running priority.
    public var signalsIRQ: Bool {
        guard distributorEnabled, cpuInterfaceEnabled, let id = highestPending else { return false }
        return priority[id] < priorityMask && priority[id] < runningPriority
    }

    // MARK: distributor (offsets in the 64 KiB frame)

    public mutating func distributorRead(offset: UInt64, size: Int) -> UInt64 {
        switch offset {
        case 0x000: return distributorEnabled ? 1 : 0
        case 0x004: return UInt64(Self.interrupts / 32 - 1)            // ITLinesNumber, one CPU
        case 0x008: return 0x0200_043B                                 // IIDR: Arm, GICv2
        case 0x100..<0x108: return bits(offset - 0x100) { enabled[$0] }
        case 0x180..<0x188: return bits(offset - 0x180) { enabled[$0] }
        case 0x200..<0x208: return bits(offset - 0x200) { isPending($0) }
        case 0x280..<0x288: return bits(offset - 0x280) { isPending($0) }
        case 0x300..<0x308: return bits(offset - 0x300) { active[$0] }
        case 0x380..<0x388: return bits(offset - 0x380) { active[$0] }
        case 0x400..<0x440: return bytes(offset - 0x400, size) { UInt64(priority[$0]) }
        case 0x800..<0x840: return bytes(offset - 0x800, size) { $0 < 32 ? 1 : UInt64(targets[$0]) }
        case 0xC00..<0xC10: return UInt64(configuration[Int(offset - 0xC00) / 4])
        case 0xFE8: return 0x2B                                        // ICPIDR2: ArchRev 2
        default: return 0
        }
    }

    public mutating func distributorWrite(offset: UInt64, size: Int, value: UInt64) {
        switch offset {
        case 0x000: distributorEnabled = value & 1 != 0
        case 0x100..<0x108: for id in ids(offset - 0x100, value) { enabled[id] = true }
        case 0x180..<0x188: for id in ids(offset - 0x180, value) { enabled[id] = false }
        case 0x200..<0x208: for id in ids(offset - 0x200, value) { latched[id] = true }
        case 0x280..<0x288: for id in ids(offset - 0x280, value) { latched[id] = false }
        case 0x300..<0x308: for id in ids(offset - 0x300, value) { active[id] = true }
        case 0x380..<0x388: for id in ids(offset - 0x380, value) { endOfInterrupt(id) }
        case 0x400..<0x440:
            for byte in 0..<size where Int(offset - 0x400) + byte < Self.interrupts {
                priority[Int(offset - 0x400) + byte] = UInt8(truncatingIfNeeded: value >> (8 * byte))
            }
        case 0x820..<0x840:
            for byte in 0..<size where Int(offset - 0x800) + byte < Self.interrupts {
                targets[Int(offset - 0x800) + byte] = UInt8(truncatingIfNeeded: value >> (8 * byte)) & 1
            }
        // SGI and PPI configuration is read-only; SPIs keep what is written.
        case 0xC08..<0xC10: configuration[Int(offset - 0xC00) / 4] = UInt32(truncatingIfNeeded: value)
        case 0xF00: sendSGI(UInt32(truncatingIfNeeded: value))
        default: break
        }
    }

    /// GICD_SGIR: TargetListFilter 0b00 uses the CPU target list, 0b01 all but self (none
    /// here), 0b10 self.
    private mutating func sendSGI(_ value: UInt32) {
        let filter = (value >> 24) & 3, targets = (value >> 16) & 0xFF, id = Int(value & 0xF)
        if filter == 0b10 || (filter == 0 && targets & 1 != 0) { latched[id] = true }
    }

    // MARK: CPU interface

    public mutating func cpuInterfaceRead(offset: UInt64) -> UInt64 {
        switch offset {
        case 0x00: return cpuInterfaceEnabled ? 1 : 0
        case 0x04: return UInt64(priorityMask)
        case 0x08: return UInt64(binaryPoint)
        case 0x0C: return UInt64(acknowledge())
        case 0x14: return UInt64(runningPriority)
        case 0x18: return UInt64(highestPending.map(UInt32.init) ?? Self.spurious)
        case 0xFC: return 0x0202_043B                                  // GICC_IIDR
        default: return 0
        }
    }

    public mutating func cpuInterfaceWrite(offset: UInt64, value: UInt64) {
        switch offset {
        case 0x00: cpuInterfaceEnabled = value & 1 != 0
        case 0x04: priorityMask = UInt8(truncatingIfNeeded: value)
        case 0x08: binaryPoint = UInt32(value & 7)
        case 0x10: endOfInterrupt(Int(value & 0x3FF))
        default: break
        }
    }

    /// GICC_IAR: the highest-priority pending interrupt becomes active (a latched pending state
    /// is consumed; a level-sensitive line held high stays pending: active and pending).
    mutating func acknowledge() -> UInt32 {
        guard signalsIRQ, let id = highestPending else { return Self.spurious }
        active[id] = true
        latched[id] = false
        activeStack.append(id)
        acknowledged[id, default: 0] += 1
        return UInt32(id)
    }

    /// GICC_EOIR: priority drop and deactivation (GICC_CTLR.EOImodeNS = 0).
    mutating func endOfInterrupt(_ id: Int) {
        guard id < Self.interrupts, active[id] else { return }
        active[id] = false
        activeStack.removeAll { $0 == id }
    }

    // MARK: bit and byte fields

    private func bits(_ offset: UInt64, _ bit: (Int) -> Bool) -> UInt64 {
        let first = Int(offset / 4) * 32
        return (0..<32).reduce(0) { word, n in first + n < Self.interrupts && bit(first + n) ? word | 1 << UInt64(n) : word }
    }

    /// The IDs whose bits are set in a write of a one-bit-per-interrupt register.
    private func ids(_ offset: UInt64, _ value: UInt64) -> [Int] {
        let first = Int(offset / 4) * 32
        return (0..<32).filter { value & (1 << UInt64($0)) != 0 && first + $0 < Self.interrupts }.map { first + $0 }
    }

    private func bytes(_ offset: UInt64, _ size: Int, _ byte: (Int) -> UInt64) -> UInt64 {
        (0..<size).reduce(0) { word, n in
            Int(offset) + n < Self.interrupts ? word | byte(Int(offset) + n) << UInt64(8 * n) : word
        }
    }
}
