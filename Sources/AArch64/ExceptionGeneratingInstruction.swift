// The exception-generating instructions (Arm ARM C6.2: SVC, HVC, SMC, BRK, HLT), decoded from
// an instruction word, so that the host can tell a hypercall from any other UNDEF it is given.

/// `SVC/HVC/SMC/BRK/HLT #imm16`.
public struct ExceptionGeneratingInstruction: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        case svc = "SVC", hvc = "HVC", smc = "SMC", brk = "BRK", hlt = "HLT"
    }

    public let kind: Kind
    public let immediate: UInt16

    public init(kind: Kind, immediate: UInt16) {
        self.kind = kind
        self.immediate = immediate
    }

    /// Decodes `word`; nil for any other instruction. The class is 0b11010100 in bits [31:24],
    /// opc in [23:21], imm16 in [20:5], op2 in [4:2] (0) and LL in [1:0].
    public init?(word: UInt32) {
        guard word >> 24 == 0b1101_0100, (word >> 2) & 0b111 == 0 else { return nil }
        let opc = (word >> 21) & 0b111, ll = word & 0b11
        let kind: Kind
        switch (opc, ll) {
        case (0b000, 0b01): kind = .svc
        case (0b000, 0b10): kind = .hvc
        case (0b000, 0b11): kind = .smc
        case (0b001, 0b00): kind = .brk
        case (0b010, 0b00): kind = .hlt
        default: return nil
        }
        self.init(kind: kind, immediate: UInt16(truncatingIfNeeded: word >> 5))
    }

    public var word: UInt32 {
        let (opc, ll): (UInt32, UInt32) = switch kind {
        case .svc: (0, 1)
        case .hvc: (0, 2)
        case .smc: (0, 3)
        case .brk: (1, 0)
        case .hlt: (2, 0)
        }
        return 0b1101_0100 << 24 | opc << 21 | UInt32(immediate) << 5 | ll
    }

    public var description: String { "\(kind.rawValue) #\(immediate)" }
}
