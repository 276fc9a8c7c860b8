// TEMPORARY stand-in until the architecture model lands.
public struct SystemRegisterEncoding: Hashable, Sendable {
    public let op0, op1, crn, crm, op2: UInt8
    public init(op0: UInt8, op1: UInt8, crn: UInt8, crm: UInt8, op2: UInt8) { self.op0 = op0; self.op1 = op1; self.crn = crn; self.crm = crm; self.op2 = op2 }
}
public enum SystemRegister: String, Sendable, CaseIterable {
    case CNTFRQ_EL0, CNTPCT_EL0, CNTVCT_EL0, SCTLR_EL1, TTBR0_EL1, TTBR1_EL1, TCR_EL1, AFSR0_EL1, AFSR1_EL1, ESR_EL1, FAR_EL1, MAIR_EL1, AMAIR_EL1, CONTEXTIDR_EL1
    public var encoding: SystemRegisterEncoding {
        switch self {
        case .CNTFRQ_EL0: .init(op0: 3, op1: 3, crn: 14, crm: 0, op2: 0)
        case .CNTPCT_EL0: .init(op0: 3, op1: 3, crn: 14, crm: 0, op2: 1)
        case .CNTVCT_EL0: .init(op0: 3, op1: 3, crn: 14, crm: 0, op2: 2)
        case .SCTLR_EL1: .init(op0: 3, op1: 0, crn: 1, crm: 0, op2: 0)
        case .TTBR0_EL1: .init(op0: 3, op1: 0, crn: 2, crm: 0, op2: 0)
        case .TTBR1_EL1: .init(op0: 3, op1: 0, crn: 2, crm: 0, op2: 1)
        case .TCR_EL1: .init(op0: 3, op1: 0, crn: 2, crm: 0, op2: 2)
        case .AFSR0_EL1: .init(op0: 3, op1: 0, crn: 5, crm: 1, op2: 0)
        case .AFSR1_EL1: .init(op0: 3, op1: 0, crn: 5, crm: 1, op2: 1)
        case .ESR_EL1: .init(op0: 3, op1: 0, crn: 5, crm: 2, op2: 0)
        case .FAR_EL1: .init(op0: 3, op1: 0, crn: 6, crm: 0, op2: 0)
        case .MAIR_EL1: .init(op0: 3, op1: 0, crn: 10, crm: 2, op2: 0)
        case .AMAIR_EL1: .init(op0: 3, op1: 0, crn: 10, crm: 3, op2: 0)
        case .CONTEXTIDR_EL1: .init(op0: 3, op1: 0, crn: 13, crm: 0, op2: 1)
        }
    }
    public init?(encoding: SystemRegisterEncoding) { guard let r = Self.allCases.first(where: { $0.encoding == encoding }) else { return nil }; self = r }
    public var isTrappedByTVM: Bool { !rawValue.hasPrefix("CNT") }
}

public protocol TranslationTableReader { func readDescriptor(at physicalAddress: UInt64) throws -> UInt64 }
public struct Stage1Configuration { public var mmuEnabled: Bool; public init(sctlr: UInt64, tcr: UInt64, ttbr0: UInt64, ttbr1: UInt64) { mmuEnabled = sctlr & 1 == 1 } }
public struct Stage1Walker { public struct R { public var outputAddress: UInt64 }; public init(configuration: Stage1Configuration) {}; public func translate(_ va: UInt64, reading: some TranslationTableReader) throws -> R { R(outputAddress: va) } }
