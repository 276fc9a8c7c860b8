// Cache maintenance SYS instructions (op0 = 1) (Arm ARM, "A64 Cache maintenance instructions"
// and the HCR_EL2 trap controls that cover them).

/// A data or instruction cache maintenance instruction, by its SYS encoding.
public enum CacheMaintenanceOperation: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// Invalidate by VA to the PoC. At EL1 with HCR_EL2.VM = 1 it is performed as a clean and
    /// invalidate, so a guest cannot discard data the hypervisor wrote.
    case dcIVAC = "DC IVAC"
    case dcISW = "DC ISW"
    case dcCSW = "DC CSW"
    case dcCISW = "DC CISW"
    case dcZVA = "DC ZVA"
    case dcCVAC = "DC CVAC"
    case dcCVAU = "DC CVAU"
    case dcCIVAC = "DC CIVAC"
    case icIALLUIS = "IC IALLUIS"
    case icIALLU = "IC IALLU"
    case icIVAU = "IC IVAU"

    /// What the instruction's register operand names.
    public enum Operand: Hashable, Sendable {
        case virtualAddress
        case setWay
        /// The whole cache: the operand register is ignored.
        case none
    }

    public var encoding: SystemRegisterEncoding {
        let (op1, crm, op2): (UInt8, UInt8, UInt8) = switch self {
        case .dcIVAC: (0, 6, 1)
        case .dcISW: (0, 6, 2)
        case .dcCSW: (0, 10, 2)
        case .dcCISW: (0, 14, 2)
        case .dcZVA: (3, 4, 1)
        case .dcCVAC: (3, 10, 1)
        case .dcCVAU: (3, 11, 1)
        case .dcCIVAC: (3, 14, 1)
        case .icIALLUIS: (0, 1, 0)
        case .icIALLU: (0, 5, 0)
        case .icIVAU: (3, 5, 1)
        }
        return SystemRegisterEncoding(op0: 1, op1: op1, crn: 7, crm: crm, op2: op2)
    }

    private static let byEncoding: [SystemRegisterEncoding: CacheMaintenanceOperation] =
        Dictionary(uniqueKeysWithValues: allCases.map { ($0.encoding, $0) })

    public init?(encoding: SystemRegisterEncoding) {
        guard let operation = CacheMaintenanceOperation.byEncoding[encoding] else { return nil }
        self = operation
    }

    public var operand: Operand {
        switch self {
        case .dcIVAC, .dcZVA, .dcCVAC, .dcCVAU, .dcCIVAC, .icIVAU: .virtualAddress
        case .dcISW, .dcCSW, .dcCISW: .setWay
        case .icIALLUIS, .icIALLU: .none
        }
    }

    /// The HCR_EL2 control that traps the instruction from EL1: TSW (set/way), TPC (to the PoC),
    /// TPU (to the PoU) or TDZ (DC ZVA).
    public var trapControl: RegisterBit {
        switch self {
        case .dcISW, .dcCSW, .dcCISW: HCR_EL2.TSW
        case .dcIVAC, .dcCVAC, .dcCIVAC: HCR_EL2.TPC
        case .dcCVAU, .icIVAU, .icIALLU, .icIALLUIS: HCR_EL2.TPU
        case .dcZVA: HCR_EL2.TDZ
        }
    }

    public var description: String { rawValue }
}
