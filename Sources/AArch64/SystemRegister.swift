// System register encodings (Arm ARM, "System instruction class encoding overview" and each
// register's "Accessing" section) and the control bits the harness reads.

/// The (op0, op1, CRn, CRm, op2) encoding of an MRS/MSR or SYS instruction, as the ISS of a
/// trapped-instruction syndrome reports it.
public struct SystemRegisterEncoding: Hashable, Sendable, CustomStringConvertible {
    public let op0: UInt8
    public let op1: UInt8
    public let crn: UInt8
    public let crm: UInt8
    public let op2: UInt8

    public init(op0: UInt8, op1: UInt8, crn: UInt8, crm: UInt8, op2: UInt8) {
        self.op0 = op0
        self.op1 = op1
        self.crn = crn
        self.crm = crm
        self.op2 = op2
    }

    /// op0:op1:CRn:CRm:op2 in 16 bits (hashed on the trap path: one word, not five bytes).
    public var packed: UInt16 {
        UInt16(op0 & 3) << 14 | UInt16(op1 & 7) << 11 | UInt16(crn & 15) << 7 | UInt16(crm & 15) << 3 | UInt16(op2 & 7)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(packed) }

    /// The generic spelling assemblers accept for any register: `S3_0_C10_C2_0`.
    public var genericName: String { "S\(op0)_\(op1)_C\(crn)_C\(crm)_\(op2)" }

    /// The name to show: the architectural name when the encoding is known (a register of
    /// `SystemRegister`, or a cache maintenance instruction when op0 = 1), else the generic
    /// `S<op0>_<op1>_C<n>_C<m>_<op2>` spelling.
    public var displayName: String {
        SystemRegister(encoding: self)?.rawValue ?? CacheMaintenanceOperation(encoding: self)?.rawValue ?? genericName
    }

    public var description: String { displayName }
}

/// System registers the harness names, spelled as the architecture spells them.
public enum SystemRegister: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    // The virtual memory control registers: HCR_EL2.TVM traps their writes, TRVM their reads.
    case sctlrEL1 = "SCTLR_EL1"
    case ttbr0EL1 = "TTBR0_EL1"
    case ttbr1EL1 = "TTBR1_EL1"
    case tcrEL1 = "TCR_EL1"
    case afsr0EL1 = "AFSR0_EL1"
    case afsr1EL1 = "AFSR1_EL1"
    case esrEL1 = "ESR_EL1"
    case farEL1 = "FAR_EL1"
    case mairEL1 = "MAIR_EL1"
    case amairEL1 = "AMAIR_EL1"
    case contextidrEL1 = "CONTEXTIDR_EL1"
    // Others a guest or the harness touches.
    case midrEL1 = "MIDR_EL1"
    case idAA64MMFR0EL1 = "ID_AA64MMFR0_EL1"
    case idAA64PFR1EL1 = "ID_AA64PFR1_EL1"
    case idAA64ISAR1EL1 = "ID_AA64ISAR1_EL1"
    case vbarEL1 = "VBAR_EL1"
    case ctrEL0 = "CTR_EL0"
    case dczidEL0 = "DCZID_EL0"
    case cntfrqEL0 = "CNTFRQ_EL0"
    case cntpctEL0 = "CNTPCT_EL0"
    case cntvctEL0 = "CNTVCT_EL0"
    case hcrEL2 = "HCR_EL2"
    case vtcrEL2 = "VTCR_EL2"
    case vttbrEL2 = "VTTBR_EL2"
    case esrEL2 = "ESR_EL2"
    case farEL2 = "FAR_EL2"
    case hpfarEL2 = "HPFAR_EL2"
    case elrEL2 = "ELR_EL2"
    case scrEL3 = "SCR_EL3"

    public var encoding: SystemRegisterEncoding {
        let (op0, op1, crn, crm, op2): (UInt8, UInt8, UInt8, UInt8, UInt8) = switch self {
        case .sctlrEL1: (3, 0, 1, 0, 0)
        case .ttbr0EL1: (3, 0, 2, 0, 0)
        case .ttbr1EL1: (3, 0, 2, 0, 1)
        case .tcrEL1: (3, 0, 2, 0, 2)
        case .afsr0EL1: (3, 0, 5, 1, 0)
        case .afsr1EL1: (3, 0, 5, 1, 1)
        case .esrEL1: (3, 0, 5, 2, 0)
        case .farEL1: (3, 0, 6, 0, 0)
        case .mairEL1: (3, 0, 10, 2, 0)
        case .amairEL1: (3, 0, 10, 3, 0)
        case .contextidrEL1: (3, 0, 13, 0, 1)
        case .midrEL1: (3, 0, 0, 0, 0)
        case .idAA64MMFR0EL1: (3, 0, 0, 7, 0)
        case .idAA64PFR1EL1: (3, 0, 0, 4, 1)
        case .idAA64ISAR1EL1: (3, 0, 0, 6, 1)
        case .vbarEL1: (3, 0, 12, 0, 0)
        case .ctrEL0: (3, 3, 0, 0, 1)
        case .dczidEL0: (3, 3, 0, 0, 7)
        case .cntfrqEL0: (3, 3, 14, 0, 0)
        case .cntpctEL0: (3, 3, 14, 0, 1)
        case .cntvctEL0: (3, 3, 14, 0, 2)
        case .hcrEL2: (3, 4, 1, 1, 0)
        case .vtcrEL2: (3, 4, 2, 1, 2)
        case .vttbrEL2: (3, 4, 2, 1, 0)
        case .esrEL2: (3, 4, 5, 2, 0)
        case .farEL2: (3, 4, 6, 0, 0)
        case .hpfarEL2: (3, 4, 6, 0, 4)
        case .elrEL2: (3, 4, 4, 0, 1)
        case .scrEL3: (3, 6, 1, 1, 0)
        }
        return SystemRegisterEncoding(op0: op0, op1: op1, crn: crn, crm: crm, op2: op2)
    }

    /// By encoding, not by name: a String-backed enum would otherwise hash its raw value on
    /// every trapped write (the shadow registers are keyed by register).
    public func hash(into hasher: inout Hasher) { hasher.combine(encoding.packed) }

    private static let cases = allCases
    /// Each packed encoding's position in `cases` (-1: none): a lookup on every trapped access
    /// without hashing.
    private static let ordinals: [Int8] = {
        var table = [Int8](repeating: -1, count: 1 << 16)
        for (index, register) in cases.enumerated() { table[Int(register.encoding.packed)] = Int8(index) }
        return table
    }()

    public init?(encoding: SystemRegisterEncoding) {
        let index = Self.ordinals[Int(encoding.packed)]
        guard index >= 0 else { return nil }
        self = Self.cases[Int(index)]
    }

    /// The register's position among all the registers named here (0 ..< allCases.count).
    public var ordinal: Int { Int(Self.ordinals[Int(encoding.packed)]) }

    /// The registers HCR_EL2.TVM traps writes of and HCR_EL2.TRVM traps reads of, at EL1
    /// (Arm ARM, HCR_EL2.TVM / HCR_EL2.TRVM field descriptions; before TCR2_EL1, SCTLR2_EL1
    /// and the permission-indirection registers joined the set).
    public static let virtualMemoryControlRegisters: [SystemRegister] = [
        .sctlrEL1, .ttbr0EL1, .ttbr1EL1, .tcrEL1, .afsr0EL1, .afsr1EL1,
        .esrEL1, .farEL1, .mairEL1, .amairEL1, .contextidrEL1,
    ]

    /// Whether HCR_EL2.TVM = 1 traps an EL1 write (MSR) of this register.
    public var isTrappedByTVM: Bool { SystemRegister.virtualMemoryControlRegisters.contains(self) }

    /// Whether HCR_EL2.TRVM = 1 traps an EL1 read (MRS) of this register: the same set as TVM.
    public var isTrappedByTRVM: Bool { isTrappedByTVM }

    public var description: String { rawValue }
}

/// One named bit of a system register.
public struct RegisterBit: Hashable, Sendable, CustomStringConvertible {
    /// `REGISTER.FIELD`, e.g. `HCR_EL2.TVM`.
    public let name: String
    public let position: Int

    public init(name: String, position: Int) {
        self.name = name
        self.position = position
    }

    public var mask: UInt64 { 1 << UInt64(position) }

    public func isSet(in value: UInt64) -> Bool { value & mask != 0 }

    public var description: String { name }
}

/// HCR_EL2 bits the harness reads or sets (Arm ARM, HCR_EL2 field descriptions).
public enum HCR_EL2 {
    /// Stage 2 translation enable for the EL1&0 regime.
    public static let VM = RegisterBit(name: "HCR_EL2.VM", position: 0)
    /// Default Cacheability: stage 1 disabled behaves as Normal Write-Back.
    public static let DC = RegisterBit(name: "HCR_EL2.DC", position: 12)
    /// Trap data cache maintenance by set/way.
    public static let TSW = RegisterBit(name: "HCR_EL2.TSW", position: 22)
    /// Trap data cache maintenance to the Point of Coherency (TPCP with FEAT_DPB).
    public static let TPC = RegisterBit(name: "HCR_EL2.TPC", position: 23)
    /// Trap cache maintenance to the Point of Unification.
    public static let TPU = RegisterBit(name: "HCR_EL2.TPU", position: 24)
    /// Trap TLB maintenance instructions.
    public static let TTLB = RegisterBit(name: "HCR_EL2.TTLB", position: 25)
    /// Trap writes of the virtual memory control registers.
    public static let TVM = RegisterBit(name: "HCR_EL2.TVM", position: 26)
    /// Trap DC ZVA (and report DCZID_EL0.DZP = 1).
    public static let TDZ = RegisterBit(name: "HCR_EL2.TDZ", position: 28)
    /// Trap reads of the virtual memory control registers.
    public static let TRVM = RegisterBit(name: "HCR_EL2.TRVM", position: 30)
    /// EL1 is AArch64.
    public static let RW = RegisterBit(name: "HCR_EL2.RW", position: 31)
    /// Forced Write-Back stage 2 combining (FEAT_S2FWB).
    public static let FWB = RegisterBit(name: "HCR_EL2.FWB", position: 46)
}

/// SCTLR_EL1 bits the attribute defaults depend on (Arm ARM, SCTLR_EL1 field descriptions).
public enum SCTLR_EL1 {
    /// Stage 1 MMU enable for the EL1&0 regime.
    public static let M = RegisterBit(name: "SCTLR_EL1.M", position: 0)
    /// Data access cacheability control.
    public static let C = RegisterBit(name: "SCTLR_EL1.C", position: 2)
    /// Instruction access cacheability control.
    public static let I = RegisterBit(name: "SCTLR_EL1.I", position: 12)
}
