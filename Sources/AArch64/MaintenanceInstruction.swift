// Names for the SYS instructions (op0 = 1) a guest issues, as the Arm ARM spells them: cache
// maintenance (C5.3, "A64 Cache maintenance instructions") and TLB maintenance (C5.5, "A64 TLB
// maintenance instructions"), so a profile can count them by kind.

extension SystemRegisterEncoding {
    /// `DC ISW`, `TLBI VMALLE1IS`, ...; the generic `SYS #op1, Cn, Cm, #op2` for the rest.
    public var maintenanceName: String {
        if let operation = CacheMaintenanceOperation(encoding: self) { return operation.rawValue }
        if op0 == 1, crn == 8, let name = Self.tlbiNames[[op1, crm, op2]] { return "TLBI " + name }
        return "SYS #\(op1), C\(crn), C\(crm), #\(op2)"
    }

    /// [op1, CRm, op2] of the TLBI operations of EL1, EL2 and EL3 (C5.5): CRm 3 the Inner
    /// Shareable forms, CRm 7 the local ones.
    private static let tlbiNames: [[UInt8]: String] = {
        var names: [[UInt8]: String] = [:]
        for (crm, suffix) in [(UInt8(3), "IS"), (7, "")] {
            for (op2, name) in [(UInt8(0), "VMALLE1"), (1, "VAE1"), (2, "ASIDE1"), (3, "VAAE1"), (5, "VALE1"), (7, "VAALE1")] {
                names[[0, crm, op2]] = name + suffix
            }
            for (op2, name) in [(UInt8(0), "ALLE2"), (1, "VAE2"), (4, "ALLE1"), (5, "VALE2"), (6, "VMALLS12E1")] {
                names[[4, crm, op2]] = name + suffix
            }
            for (op2, name) in [(UInt8(0), "ALLE3"), (1, "VAE3"), (5, "VALE3")] { names[[6, crm, op2]] = name + suffix }
        }
        return names
    }()
}
