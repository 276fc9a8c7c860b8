// ESR_ELx syndromes the harness produces and reads (Arm ARM, ESR_EL2: EC, IL, ISS; the ISS
// encodings for "an exception from MSR, MRS, or System instruction execution" and for "a Data
// Abort").

/// EC 0x18: a trapped MSR, MRS or System instruction (AArch64).
public struct TrappedSystemInstructionSyndrome: Hashable, Sendable, CustomStringConvertible {
    public static let exceptionClass: UInt8 = 0x18

    public var encoding: SystemRegisterEncoding
    /// The general-purpose register transferred, 0...31 (31 = XZR).
    public var rt: UInt8
    /// ISS.Direction: `true` for a read (MRS, or SYSL), `false` for a write (MSR, or SYS).
    public var isRead: Bool

    public init(encoding: SystemRegisterEncoding, rt: UInt8, isRead: Bool) {
        self.encoding = encoding
        self.rt = rt
        self.isRead = isRead
    }

    /// Decodes an ESR value; `nil` unless its EC is 0x18.
    public init?(esr: UInt64) {
        guard exceptionClassField(of: esr) == TrappedSystemInstructionSyndrome.exceptionClass else { return nil }
        self.init(
            encoding: SystemRegisterEncoding(
                op0: UInt8(esr.bits(21, 20)),
                op1: UInt8(esr.bits(16, 14)),
                crn: UInt8(esr.bits(13, 10)),
                crm: UInt8(esr.bits(4, 1)),
                op2: UInt8(esr.bits(19, 17))
            ),
            rt: UInt8(esr.bits(9, 5)),
            isRead: esr.bit(0)
        )
    }

    /// ISS: Op0 [21:20], Op2 [19:17], Op1 [16:14], CRn [13:10], Rt [9:5], CRm [4:1],
    /// Direction [0]. Each value is truncated to its field's width.
    public var iss: UInt32 {
        UInt32(.field(encoding.op0, 21, 20) | .field(encoding.op2, 19, 17) | .field(encoding.op1, 16, 14)
            | .field(encoding.crn, 13, 10) | .field(rt, 9, 5) | .field(encoding.crm, 4, 1) | .field(isRead ? 1 : 0, 0, 0))
    }

    /// The ESR_EL2 value: EC 0x18, IL = 1 (these instructions are all 32-bit), ISS.
    public var esr: UInt64 { esrValue(exceptionClass: TrappedSystemInstructionSyndrome.exceptionClass, il: true, iss: iss) }

    public var description: String {
        let name = encoding.displayName
        if encoding.op0 == 1 {
            return "\(isRead ? "SYSL" : "SYS") \(name), X\(rt)"
        }
        return isRead ? "MRS X\(rt), \(name)" : "MSR \(name), X\(rt)"
    }
}

/// EC 0x24: a Data Abort from a lower Exception level.
public struct DataAbortSyndrome: Hashable, Sendable {
    public static let exceptionClass: UInt8 = 0x24

    /// IL: the trapped instruction was 32-bit (always, in AArch64 state).
    public var instructionLength32: Bool
    /// ISV: SAS, SSE, SRT, SF and AR hold valid information.
    public var isv: Bool
    /// SAS: access size, log2 bytes (0 = byte ... 3 = doubleword).
    public var sas: UInt8
    /// SSE: the load sign-extends.
    public var sse: Bool
    /// SRT: the transfer register.
    public var srt: UInt8
    /// SF: the register is 64-bit.
    public var sf: Bool
    /// AR: acquire/release semantics.
    public var ar: Bool
    /// CM: the abort came from a cache maintenance instruction.
    public var cm: Bool
    /// S1PTW: a stage 2 fault on a stage 1 translation table walk.
    public var s1ptw: Bool
    /// WnR: the access was a write.
    public var wnr: Bool
    /// DFSC: the fault status code (see `TranslationFault.faultStatusCode`).
    public var dfsc: UInt8

    public init(
        instructionLength32: Bool = true, isv: Bool = false, sas: UInt8 = 0, sse: Bool = false, srt: UInt8 = 0,
        sf: Bool = false, ar: Bool = false, cm: Bool = false, s1ptw: Bool = false, wnr: Bool = false, dfsc: UInt8
    ) {
        self.instructionLength32 = instructionLength32
        self.isv = isv
        self.sas = sas
        self.sse = sse
        self.srt = srt
        self.sf = sf
        self.ar = ar
        self.cm = cm
        self.s1ptw = s1ptw
        self.wnr = wnr
        self.dfsc = dfsc
    }

    /// Decodes an ESR value; `nil` unless its EC is 0x24.
    public init?(esr: UInt64) {
        guard exceptionClassField(of: esr) == DataAbortSyndrome.exceptionClass else { return nil }
        self.init(
            instructionLength32: esr.bit(25), isv: esr.bit(24), sas: UInt8(esr.bits(23, 22)), sse: esr.bit(21),
            srt: UInt8(esr.bits(20, 16)), sf: esr.bit(15), ar: esr.bit(14), cm: esr.bit(8),
            s1ptw: esr.bit(7), wnr: esr.bit(6), dfsc: UInt8(esr.bits(5, 0))
        )
    }

    /// ISS: ISV 24, SAS [23:22], SSE 21, SRT [20:16], SF 15, AR 14, CM 8, S1PTW 7, WnR 6,
    /// DFSC [5:0]. Each value is truncated to its field's width.
    public var iss: UInt32 {
        let flags: [(Bool, Int)] = [(isv, 24), (sse, 21), (sf, 15), (ar, 14), (cm, 8), (s1ptw, 7), (wnr, 6)]
        let bits = flags.reduce(UInt64(0)) { $0 | .field($1.0 ? 1 : 0, $1.1, $1.1) }
        return UInt32(bits | .field(sas, 23, 22) | .field(srt, 20, 16) | .field(dfsc, 5, 0))
    }

    public var esr: UInt64 { esrValue(exceptionClass: DataAbortSyndrome.exceptionClass, il: instructionLength32, iss: iss) }
}

/// An ESR_ELx value, decoded where this module knows the exception class.
public enum ExceptionSyndrome: Hashable, Sendable {
    case trappedSystemInstruction(TrappedSystemInstructionSyndrome)
    case dataAbortFromLowerEL(DataAbortSyndrome)
    case other(exceptionClass: UInt8, il: Bool, iss: UInt32)

    public init(esr: UInt64) {
        if let trapped = TrappedSystemInstructionSyndrome(esr: esr) {
            self = .trappedSystemInstruction(trapped)
        } else if let abort = DataAbortSyndrome(esr: esr) {
            self = .dataAbortFromLowerEL(abort)
        } else {
            self = .other(exceptionClass: exceptionClassField(of: esr), il: esr.bit(25), iss: UInt32(esr.bits(24, 0)))
        }
    }

    public var esr: UInt64 {
        switch self {
        case .trappedSystemInstruction(let syndrome): syndrome.esr
        case .dataAbortFromLowerEL(let syndrome): syndrome.esr
        case .other(let exceptionClass, let il, let iss): esrValue(exceptionClass: exceptionClass, il: il, iss: iss)
        }
    }
}

/// EC, ESR bits [31:26].
private func exceptionClassField(of esr: UInt64) -> UInt8 { UInt8(esr.bits(31, 26)) }

private func esrValue(exceptionClass: UInt8, il: Bool, iss: UInt32) -> UInt64 {
    .field(exceptionClass, 31, 26) | .field(il ? 1 : 0, 25, 25) | .field(iss, 24, 0)
}

/// ESR_ELx.EC of a synchronous exception (Arm ARM D17, ESR_EL1), named as reports count them.
public struct ExceptionClass: Hashable, Sendable {
    public let code: UInt32

    public init(syndrome: UInt32) { code = syndrome >> 26 }

    /// FAR_EL1 holds the faulting address: instruction and data aborts, PC alignment faults.
    public var reportsFaultAddress: Bool { [0x20, 0x21, 0x22, 0x24, 0x25].contains(code) }

    public var name: String {
        switch code {
        case 0x00: "unknown-reason"
        case 0x15: "svc"
        case 0x20, 0x21: "instruction-abort"
        case 0x22: "pc-alignment-fault"
        case 0x24, 0x25: "data-abort"
        case 0x3C: "brk"
        default: "ec-0x" + String(code, radix: 16)
        }
    }
}
