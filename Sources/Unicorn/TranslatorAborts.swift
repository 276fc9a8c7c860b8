/// Instruction words whose *translation* makes Unicorn 2.0.1 abort the whole process: QEMU
/// 5.0's `disas_simd_two_reg_misc_fp16` and `disas_simd_three_reg_same_fp16` end in
/// `g_assert_not_reached()` for the unallocated encodings of their classes (the architecture
/// says UNDEFINED). Measured, not derived: every (U, a, opcode) of both classes, vector (Q = 0
/// and 1 alike) and scalar, was translated in a child process and the aborting ones kept
/// (docs/reliability.md). The register fields do not matter.
public enum TranslatorAborts {
    /// AdvSIMD two-register miscellaneous (FP16): `0 Q U 01110 a 1111 00 opcode 10 Rn Rd`,
    /// scalar `01 U 11110 a 1111 00 opcode 10 Rn Rd`; one opcode bitmask per U:a.
    static let twoRegisterMiscVector: [UInt32] = [0xC0FF_FFFF, 0xD0FF_0FFF, 0xC0FF_FFFF, 0x51FF_4FFF]
    static let twoRegisterMiscScalar: [UInt32] = [0xC0FF_FFFF, 0x50FF_8FFF, 0xC0FF_FFFF, 0xD1FF_4FFF]
    /// AdvSIMD three same (FP16): `0 Q U 01110 a 10 Rm 00 opcode 1 Rn Rd` (the scalar form
    /// never aborted).
    static let threeSameVector: [UInt32] = [0x20, 0x38, 0x02, 0x8A]

    public static func contains(_ word: UInt32) -> Bool {
        let ua = Int(word >> 28 & 2 | word >> 23 & 1)   // U (bit 29) : a (bit 23)
        if word & 0x9F7E_0C00 == 0x0E78_0800 { return twoRegisterMiscVector[ua] >> (word >> 12 & 0x1F) & 1 != 0 }
        if word & 0xDF7E_0C00 == 0x5E78_0800 { return twoRegisterMiscScalar[ua] >> (word >> 12 & 0x1F) & 1 != 0 }
        if word & 0x9F60_C400 == 0x0E40_0400 { return threeSameVector[ua] >> (word >> 11 & 0x7) & 1 != 0 }
        return false
    }
}
