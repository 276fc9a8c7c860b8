/// An exception return (ERET) from EL1 in AArch64 state, judged as the Arm ARM's
/// `IllegalExceptionReturn()` pseudocode ("Illegal return events from AArch64 state"): an illegal return sets PSTATE.IL, and the next instruction takes
/// an Illegal Execution state exception (EC 0x0E). Unicorn 2.0.1 sets IL and runs on
/// (unicorn-exceptions.md Q5), so the harness judges the return itself.
public enum ExceptionReturn {
    /// The ERET encodings: ERET, and FEAT_PAuth's ERETAA and ERETAB.
    public static let encodings: Set<UInt32> = [0xD69F_03E0, 0xD69F_0BFF, 0xD69F_0FFF]

    /// PSTATE.IL (SPSR bit 20): the PE is in Illegal Execution state.
    public static let illegalExecutionState: UInt64 = 1 << 20

    /// Why a return from EL1 with `spsr` is illegal, or nil when it is legal. The harness's
    /// PE has EL2 (HCR_EL2.RW = 1: EL1 is AArch64, TGE = 0) and no EL3 visible to the guest;
    /// `aarch32AtEL0` is ID_AA64PFR0_EL1.EL0 = 0b0010.
    public static func illegalReason(spsr: UInt64, aarch32AtEL0: Bool) -> String? {
        let m = spsr & 0x1F
        let mode = "SPSR_EL1.M = 0b\(String(m, radix: 2).leftPadded(to: 5))"
        if m & 0x10 != 0 {
            // AArch32 (ELFromSPSR): only User mode (EL0) can be returned to from AArch64 EL1;
            // EL1 modes would change the register width at the same EL, Hyp and Monitor name a
            // higher EL, other values are reserved.
            switch m & 0xF {
            case 0x0: return aarch32AtEL0 ? nil : "\(mode) (User, AArch32 EL0), which this PE does not implement"
            case 0x1, 0x2, 0x3, 0x7, 0xB, 0xF:
                return "\(mode) names an AArch32 EL1 mode, but EL1 uses AArch64 (HCR_EL2.RW = 1): a return cannot change the register width of EL1"
            case 0xA: return "\(mode) (Hyp) names EL2, above the current EL1"
            case 0x6: return "\(mode) (Monitor) names EL3, above the current EL1"
            default: return "\(mode) is a reserved AArch32 mode"
            }
        }
        // AArch64: M[1] is reserved, EL0 has only SP_EL0, and the target may not be above EL1.
        if m & 0b10 != 0 { return "\(mode): M[1] = 1 is reserved" }
        let target = (m >> 2) & 3
        if target > 1 { return "\(mode) names EL\(target), above the current EL1" }
        if target == 0 && m & 1 != 0 { return "\(mode): EL0 with SP_EL1 (M = 0b00001) is reserved" }
        return nil
    }
}

/// The data accesses the architecture checks for alignment whatever the memory type and
/// SCTLR_EL1.A (Arm ARM B2.5.2, Alignment of data accesses, without FEAT_LSE2): load/store
/// exclusive, load-acquire/store-release (the whole "load/store exclusive and ordered" class)
/// and the FEAT_LSE atomics.
public enum AlignmentRequirement {
    /// The access size to which `word`'s data accesses must be aligned, or nil when the
    /// instruction is not of a class that requires it.
    public static func alwaysChecked(_ word: UInt32) -> (size: Int, base: Int)? {
        let size = 1 << Int(word >> 30)
        let base = Int(word >> 5 & 0x1F)
        // Load/store exclusive and ordered: op0 bits[29:24] = 0b001000. LDXP/STXP/LDAXP/STLXP
        // (bit 23 = 0, bit 21 = 1) move two registers and must be aligned to the pair's size.
        if word & 0x3F00_0000 == 0x0800_0000 {
            guard word & (1 << 23) == 0 && word & (1 << 21) != 0 else { return (size, base) }
            // CASP (bit 31 = 0) names its register width in bit 30, LDXP/STXP in bits[31:30].
            let register = word & (1 << 31) == 0 ? (word & (1 << 30) != 0 ? 8 : 4) : size
            return (2 * register, base)
        }
        // Atomic memory operations and SWP (FEAT_LSE): bits[29:24] = 0b111000, bit 21 = 1,
        // bits[11:10] = 0b00; CAS is in the class above.
        if word & 0x3F20_0C00 == 0x3820_0000 { return (size, base) }
        return nil
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
