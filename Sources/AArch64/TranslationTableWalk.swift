// The VMSAv8-64 translation table walk with the 4KB granule, shared by stage 1 and stage 2
// (Arm ARM, "The VMSAv8-64 translation table format"; pseudocode AArch64.S1Walk /
// AArch64.S2Walk, which differ only in how the walk is set up and how the leaf is read).

/// Reads translation table descriptors from memory, so that a walk can run against an emulator,
/// a snapshot, or a dictionary in a test.
///
/// The address is the one the walk computes: for a stage 1 walk under stage 2 it is an IPA, and
/// the reader decides whether to translate it.
public protocol TranslationTableReader {
    /// The 64-bit descriptor at `physicalAddress` (8-byte aligned). Throwing makes the walk report
    /// a synchronous external abort on the translation table walk.
    func readDescriptor(at physicalAddress: UInt64) throws -> UInt64
}

/// Which stage of the EL1&0 translation regime.
public enum TranslationStage: Int, Hashable, Sendable, CustomStringConvertible {
    case stage1 = 1
    case stage2 = 2

    public var description: String { "stage \(rawValue)" }
}

/// An MMU fault raised by a walk, with the level the architecture reports it at.
public struct TranslationFault: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// Invalid descriptor, address outside the configured range, EPDx = 1, or an
        /// inconsistent configuration.
        case translation
        /// Output address, or table base address, beyond the effective output address size.
        case addressSize
        /// A block or page descriptor with AF = 0 (hardware AF update is not modelled).
        case accessFlag
        /// The reader threw while reading a descriptor.
        case synchronousExternalAbortOnWalk
    }

    public let kind: Kind
    public let stage: TranslationStage
    public let level: Int
    /// The VA (stage 1) or IPA (stage 2) being translated.
    public let inputAddress: UInt64
    /// The descriptors read before the fault, first level first (the faulting one last).
    public let descriptorAddresses: [UInt64]

    public init(kind: Kind, stage: TranslationStage, level: Int, inputAddress: UInt64, descriptorAddresses: [UInt64]) {
        self.kind = kind
        self.stage = stage
        self.level = level
        self.inputAddress = inputAddress
        self.descriptorAddresses = descriptorAddresses
    }

    /// A fault found before any descriptor is read, which the architecture reports at level 0.
    static func levelZero(_ kind: Kind, stage: TranslationStage, inputAddress: UInt64) -> TranslationError {
        .fault(TranslationFault(kind: kind, stage: stage, level: 0, inputAddress: inputAddress, descriptorAddresses: []))
    }

    /// The DFSC/IFSC value an ESR reports for this fault: 0b0000LL address size, 0b0001LL
    /// translation, 0b0010LL access flag, 0b0101LL synchronous external abort on a walk.
    public var faultStatusCode: UInt8 {
        let base: UInt8 = switch kind {
        case .addressSize: 0b00_0000
        case .translation: 0b00_0100
        case .accessFlag: 0b00_1000
        case .synchronousExternalAbortOnWalk: 0b01_0100
        }
        return base | UInt8(level & 0b11)
    }

    public var description: String {
        let name = switch kind {
        case .translation: "Translation fault"
        case .addressSize: "Address size fault"
        case .accessFlag: "Access flag fault"
        case .synchronousExternalAbortOnWalk: "Synchronous external abort on translation table walk"
        }
        return "\(name), level \(level), \(stage), input address 0x\(hex(inputAddress, digits: 16))"
    }
}

/// Why a walk did not produce a translation.
public enum TranslationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The architecture's answer: a fault.
    case fault(TranslationFault)
    /// The configuration selects a granule this module does not model (only 4KB is).
    /// `field` names the register field, e.g. `TCR_EL1.TG1`, `encoding` its value.
    case unsupportedGranule(field: String, encoding: UInt8)

    public var description: String {
        switch self {
        case .fault(let fault):
            return fault.description
        case .unsupportedGranule(let field, let encoding):
            return "\(field) = 0b\(String(encoding, radix: 2)) does not select the 4KB granule, the only one modelled"
        }
    }
}

/// A physical address size as TCR_EL1.IPS, VTCR_EL2.PS and ID_AA64MMFR0_EL1.PARange encode it.
public enum PhysicalAddressSize: Int, CaseIterable, Comparable, Hashable, Sendable {
    case bits32 = 32
    case bits36 = 36
    case bits40 = 40
    case bits42 = 42
    case bits44 = 44
    case bits48 = 48
    case bits52 = 52

    /// Decodes the 3-bit field; `nil` for the reserved `0b111`.
    public init?(encoding: UInt8) {
        guard encoding < PhysicalAddressSize.allCases.count else { return nil }
        self = PhysicalAddressSize.allCases[Int(encoding)]
    }

    public var encoding: UInt8 { UInt8(PhysicalAddressSize.allCases.firstIndex(of: self) ?? 0) }

    public var bits: Int { rawValue }

    public static func < (lhs: PhysicalAddressSize, rhs: PhysicalAddressSize) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The output address size a walk checks against: the configured size (IPS or PS) bounded by
    /// the implemented size, and by 48 bits since 52-bit output needs FEAT_LPA2 with the 4KB
    /// granule. A reserved configured value is treated as the implemented size.
    static func effectiveOutputSize(configured encoding: UInt8, implemented: PhysicalAddressSize) -> Int {
        min(PhysicalAddressSize(encoding: encoding) ?? implemented, implemented, .bits48).bits
    }
}

/// The walk loop both stages run: from a table base, one 4KB-granule level at a time, to a
/// block or page descriptor.
struct TableWalk {
    let stage: TranslationStage
    let inputAddress: UInt64
    /// Bits of input address the tables resolve (64 − TxSZ).
    let inputSize: Int
    let startLevel: Int
    /// The TTBRn_EL1 or VTTBR_EL2 value; BADDR is bits [47:1].
    let baseRegister: UInt64
    /// The effective output address size in bits.
    let outputSize: Int

    /// The block or page descriptor that ended the walk.
    struct Leaf {
        let descriptor: UInt64
        let level: Int
        let outputAddress: UInt64
        let blockSize: UInt64
        let descriptorAddresses: [UInt64]
        /// Bits [63:59] of every table descriptor on the way, ORed (each is a "restrict" bit).
        let tableAttributes: UInt64
    }

    /// Lowest input address bit a level resolves: 39, 30, 21, 12 for levels 0-3.
    static func levelShift(_ level: Int) -> Int { 12 + 9 * (3 - level) }

    /// Descriptor bits [47:12]: the next-level table or output address (4KB granule, no FEAT_LPA2).
    private static let addressField = UInt64.mask(47, 12)

    private func fault(_ kind: TranslationFault.Kind, level: Int, visited: [UInt64] = []) -> TranslationError {
        .fault(TranslationFault(kind: kind, stage: stage, level: level, inputAddress: inputAddress, descriptorAddresses: visited))
    }

    func run(reader: some TranslationTableReader) throws(TranslationError) -> Leaf {
        // A base address beyond the output size is an Address size fault reported at level 0
        // (AArch64.S1Walk/S2Walk check the TTBR before the first read; QEMU does the same).
        guard baseRegister.bits(47, 0) >> UInt64(outputSize) == 0 else {
            throw fault(.addressSize, level: 0)
        }
        // The start-level table is aligned to its own size (up to 16 concatenated tables at
        // stage 2); BADDR bits below that are RES0 and, with CnP in bit 0, do not address.
        var indexBits = inputSize - TableWalk.levelShift(startLevel)
        var tableAddress = baseRegister & UInt64.mask(47, indexBits + 3)
        var level = startLevel
        var visited: [UInt64] = []
        var tableAttributes: UInt64 = 0

        while true {
            let shift = TableWalk.levelShift(level)
            let descriptorAddress = tableAddress | inputAddress.bits(shift + indexBits - 1, shift) << 3
            visited.append(descriptorAddress)
            let descriptor: UInt64
            do {
                descriptor = try reader.readDescriptor(at: descriptorAddress)
            } catch {
                throw fault(.synchronousExternalAbortOnWalk, level: level, visited: visited)
            }
            // Bit 0 = 0: invalid. Bits [1:0] = 01 is a block only at levels 1 and 2 with the 4KB
            // granule (a level 0 block needs FEAT_LPA2, a level 3 `01` is reserved).
            let isTable = descriptor.bit(1) && level < 3
            let isLeaf = descriptor.bit(1) ? level == 3 : (level == 1 || level == 2)
            guard descriptor.bit(0), isTable || isLeaf else {
                throw fault(.translation, level: level, visited: visited)
            }
            let address = descriptor & TableWalk.addressField
            guard address >> UInt64(outputSize) == 0 else {
                throw fault(.addressSize, level: level, visited: visited)
            }
            if isTable {
                tableAttributes |= descriptor.bits(63, 59)
                tableAddress = address
                indexBits = 9
                level += 1
                continue
            }
            // Address size is checked before the Access flag, as in AArch64.S1Walk/S2Walk.
            guard descriptor.bit(10) else {
                throw fault(.accessFlag, level: level, visited: visited)
            }
            let blockSize: UInt64 = 1 << UInt64(shift)
            return Leaf(
                descriptor: descriptor,
                level: level,
                outputAddress: address & ~(blockSize - 1) | inputAddress & (blockSize - 1),
                blockSize: blockSize,
                descriptorAddresses: visited,
                tableAttributes: tableAttributes
            )
        }
    }

    /// TxSZ bounds with the 4KB granule: at least 16 (48-bit input; 52 bits needs FEAT_LPA2) and
    /// at most 39 (FEAT_TTST is not modelled). Out of range, the Arm ARM lets an implementation
    /// either clamp or raise a level 0 Translation fault; this module faults (as QEMU does), so a
    /// misprogrammed TxSZ is visible.
    static let validTxSZ: ClosedRange<UInt64> = 16...39
}
