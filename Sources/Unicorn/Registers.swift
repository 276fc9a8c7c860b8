import CUnicorn

/// A register Unicorn names directly (general-purpose, PC, SP, PSTATE and the few system
/// registers with their own ids). Everything else goes through `SystemRegisterAddress`.
public struct Register: Hashable, Sendable, CustomStringConvertible {
    let id: Int32
    public let description: String

    init(_ reg: uc_arm64_reg, _ name: String) {
        id = Int32(bitPattern: reg.rawValue)
        description = name
    }

    /// Xn for n in 0...30; 31 is XZR.
    public static func x(_ n: Int) -> Register {
        precondition((0...31).contains(n), "X register index out of range: \(n)")
        switch n {
        case 29: return Register(UC_ARM64_REG_X29, "x29")
        case 30: return Register(UC_ARM64_REG_X30, "x30")
        case 31: return Register(UC_ARM64_REG_XZR, "xzr")
        default:
            return Register(uc_arm64_reg(UC_ARM64_REG_X0.rawValue + UInt32(n)), "x\(n)")
        }
    }

    public static let pc = Register(UC_ARM64_REG_PC, "pc")
    public static let sp = Register(UC_ARM64_REG_SP, "sp")
    public static let pstate = Register(UC_ARM64_REG_PSTATE, "pstate")
    public static let MAIR_EL1 = Register(UC_ARM64_REG_MAIR_EL1, "MAIR_EL1")
    public static let TTBR0_EL1 = Register(UC_ARM64_REG_TTBR0_EL1, "TTBR0_EL1")
    public static let TTBR1_EL1 = Register(UC_ARM64_REG_TTBR1_EL1, "TTBR1_EL1")
    public static let VBAR_EL1 = Register(UC_ARM64_REG_VBAR_EL1, "VBAR_EL1")
    public static let ELR_EL1 = Register(UC_ARM64_REG_ELR_EL1, "ELR_EL1")
    public static let ESR_EL1 = Register(UC_ARM64_REG_ESR_EL1, "ESR_EL1")
    public static let FAR_EL1 = Register(UC_ARM64_REG_FAR_EL1, "FAR_EL1")
    public static let SP_EL1 = Register(UC_ARM64_REG_SP_EL1, "SP_EL1")
    public static let CPACR_EL1 = Register(UC_ARM64_REG_CPACR_EL1, "CPACR_EL1")

    /// The index n of Xn (31 for XZR) for an id Unicorn hands to a system-instruction hook.
    static func generalIndex(ofUnicornId raw: UInt32) -> Int? {
        if raw == UC_ARM64_REG_X29.rawValue { return 29 }
        if raw == UC_ARM64_REG_X30.rawValue { return 30 }
        if raw == UC_ARM64_REG_XZR.rawValue { return 31 }
        if raw >= UC_ARM64_REG_X0.rawValue && raw <= UC_ARM64_REG_X28.rawValue {
            return Int(raw - UC_ARM64_REG_X0.rawValue)
        }
        return nil
    }
}

/// A system register (or SYS instruction) by its encoding, as `UC_ARM64_REG_CP_REG` and the
/// system-instruction hooks see it. Kept free of any architectural meaning (that is `AArch64`).
public struct SystemRegisterAddress: Hashable, Sendable, CustomStringConvertible {
    public let op0, op1, crn, crm, op2: UInt8

    public init(op0: UInt8, op1: UInt8, crn: UInt8, crm: UInt8, op2: UInt8) {
        self.op0 = op0; self.op1 = op1; self.crn = crn; self.crm = crm; self.op2 = op2
    }

    /// The generic spelling, S<op0>_<op1>_C<n>_C<m>_<op2>.
    public var description: String { "S\(op0)_\(op1)_C\(crn)_C\(crm)_\(op2)" }

    /// PSTATE fields exposed as MRS/MSR registers (NZCV, DAIF, CurrentEL, SPSel, ...) live at
    /// op0 3, CRn 4, CRm 2. Unicorn 2.0.1 aborts the whole process when CurrentEL or NZCV is
    /// read through CP_REG (they have no backing field), so `Machine` refuses this group and
    /// offers `Register.pstate` instead.
    public var isPSTATEField: Bool { op0 == 3 && crn == 4 && crm == 2 }
}
