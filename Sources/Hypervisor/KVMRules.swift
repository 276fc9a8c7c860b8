import AArch64

/// What the VM control registers hold before the guest writes them.
public enum ResetValues: String, CaseIterable, Sendable, Codable {
    /// The architecture's answer: MAIR_EL1, TCR_EL1, TTBR0/1_EL1 reset to UNKNOWN values, so a
    /// result that depends on one the guest never wrote is reported as undecided.
    case unknown
    /// KVM's vCPU reset (sys_regs.c): SCTLR_EL1 0x00C50078 (M, C, I clear), TCR_EL1 and
    /// CONTEXTIDR_EL1 0, and `reset_unknown`'s 0x1de7ec7edbadc0de in MAIR_EL1, TTBR0/1_EL1,
    /// ESR_EL1, FAR_EL1 and AFSR0/1_EL1.
    case kvm

    /// KVM's reset values, by register (v4.0 to v6.13 alike).
    public static let kvmValues: [SystemRegister: UInt64] = [
        .sctlrEL1: 0x00C5_0078, .tcrEL1: 0, .contextidrEL1: 0,
        .mairEL1: 0x1de7_ec7e_dbad_c0de, .ttbr0EL1: 0x1de7_ec7e_dbad_c0de, .ttbr1EL1: 0x1de7_ec7e_dbad_c0de,
        .esrEL1: 0x1de7_ec7e_dbad_c0de, .farEL1: 0x1de7_ec7e_dbad_c0de,
        .afsr0EL1: 0x1de7_ec7e_dbad_c0de, .afsr1EL1: 0x1de7_ec7e_dbad_c0de,
    ]
}

/// When KVM cleans a page to the PoC as stage 2 maps it (a stage-2 fault on the page).
public enum CleanOnMap: String, CaseIterable, Sendable, Codable {
    /// v3.19 to v4.10, `__coherent_cache_guest_page`: only when the faulting vCPU does not have
    /// SCTLR_EL1.M and .C both set, or the memory slot is tagged KVM_MEMSLOT_INCOHERENT (set on
    /// every read-only slot: ROMs and NOR flashes).
    case cachesOffOrReadOnly = "caches-off-or-read-only"
    /// v4.11 on (`clean_dcache_guest_page` on every translation fault); skipped with FWB
    /// (v4.19 on).
    case always
    case never
}
