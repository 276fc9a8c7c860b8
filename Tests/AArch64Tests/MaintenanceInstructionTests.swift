import Testing
@testable import AArch64

/// SYS encodings (op0 = 1) named as the Arm ARM's C5.3 and C5.5 tables name them.
@Suite struct MaintenanceInstructionTests {
    @Test(arguments: [
        ((0, 7, 6, 2), "DC ISW"),
        ((0, 8, 7, 0), "TLBI VMALLE1"),
        ((0, 8, 3, 0), "TLBI VMALLE1IS"),
        ((0, 8, 7, 1), "TLBI VAE1"),
        ((4, 8, 7, 0), "TLBI ALLE2"),
        ((4, 8, 3, 4), "TLBI ALLE1IS"),
        ((6, 8, 7, 0), "TLBI ALLE3"),
        ((0, 7, 8, 0), "SYS #0, C7, C8, #0"),  // AT S1E1R: not maintenance, named generically
    ] as [((UInt8, UInt8, UInt8, UInt8), String)])
    func name(fields: (UInt8, UInt8, UInt8, UInt8), expected: String) {
        let (op1, crn, crm, op2) = fields
        let encoding = SystemRegisterEncoding(op0: 1, op1: op1, crn: crn, crm: crm, op2: op2)
        #expect(encoding.maintenanceName == expected)
    }
}
