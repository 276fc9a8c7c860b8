import Testing
@testable import AArch64

@Suite("system registers and cache maintenance")
struct SystemRegisterTests {
    /// Encodings from the Arm ARM's register descriptions (op0, op1, CRn, CRm, op2).
    static let table: [(String, UInt8, UInt8, UInt8, UInt8, UInt8)] = [
        ("SCTLR_EL1", 3, 0, 1, 0, 0), ("TTBR0_EL1", 3, 0, 2, 0, 0), ("TTBR1_EL1", 3, 0, 2, 0, 1),
        ("TCR_EL1", 3, 0, 2, 0, 2), ("AFSR0_EL1", 3, 0, 5, 1, 0), ("AFSR1_EL1", 3, 0, 5, 1, 1),
        ("ESR_EL1", 3, 0, 5, 2, 0), ("FAR_EL1", 3, 0, 6, 0, 0), ("MAIR_EL1", 3, 0, 10, 2, 0),
        ("AMAIR_EL1", 3, 0, 10, 3, 0), ("CONTEXTIDR_EL1", 3, 0, 13, 0, 1),
        ("CTR_EL0", 3, 3, 0, 0, 1), ("DCZID_EL0", 3, 3, 0, 0, 7), ("CNTFRQ_EL0", 3, 3, 14, 0, 0),
        ("CNTPCT_EL0", 3, 3, 14, 0, 1), ("CNTVCT_EL0", 3, 3, 14, 0, 2), ("MIDR_EL1", 3, 0, 0, 0, 0),
        ("VBAR_EL1", 3, 0, 12, 0, 0), ("HCR_EL2", 3, 4, 1, 1, 0), ("VTCR_EL2", 3, 4, 2, 1, 2),
        ("VTTBR_EL2", 3, 4, 2, 1, 0), ("SCR_EL3", 3, 6, 1, 1, 0), ("ID_AA64MMFR0_EL1", 3, 0, 0, 7, 0),
        ("ESR_EL2", 3, 4, 5, 2, 0), ("FAR_EL2", 3, 4, 6, 0, 0), ("HPFAR_EL2", 3, 4, 6, 0, 4),
        ("ELR_EL2", 3, 4, 4, 0, 1), ("ID_AA64PFR1_EL1", 3, 0, 0, 4, 1), ("ID_AA64ISAR1_EL1", 3, 0, 0, 6, 1),
    ]

    @Test func encodingsAndLookup() throws {
        #expect(Self.table.count == SystemRegister.allCases.count)
        for (name, op0, op1, crn, crm, op2) in Self.table {
            let encoding = SystemRegisterEncoding(op0: op0, op1: op1, crn: crn, crm: crm, op2: op2)
            let register = try #require(SystemRegister(rawValue: name), "\(name)")
            #expect(register.encoding == encoding, "\(name)")
            #expect(SystemRegister(encoding: encoding) == register)
            #expect(encoding.displayName == name)
        }
    }

    @Test func tvmSet() {
        let trapped = Set(["SCTLR_EL1", "TTBR0_EL1", "TTBR1_EL1", "TCR_EL1", "AFSR0_EL1", "AFSR1_EL1",
                           "ESR_EL1", "FAR_EL1", "MAIR_EL1", "AMAIR_EL1", "CONTEXTIDR_EL1"])
        for register in SystemRegister.allCases {
            #expect(register.isTrappedByTVM == trapped.contains(register.rawValue), "\(register)")
            #expect(register.isTrappedByTRVM == trapped.contains(register.rawValue), "\(register)")
        }
        #expect(SystemRegister.virtualMemoryControlRegisters.count == 11)
    }

    @Test func genericNames() {
        let unknown = SystemRegisterEncoding(op0: 3, op1: 0, crn: 10, crm: 2, op2: 1)  // MAIR2_EL1's slot, not in the table
        #expect(SystemRegister(encoding: unknown) == nil)
        #expect(unknown.displayName == "S3_0_C10_C2_1")
        #expect(SystemRegister.mairEL1.encoding.genericName == "S3_0_C10_C2_0")
        #expect(SystemRegisterEncoding(op0: 1, op1: 0, crn: 8, crm: 7, op2: 0).displayName == "S1_0_C8_C7_0")
    }

    @Test func hcrAndSctlrBits() {
        let positions: [(RegisterBit, Int)] = [
            (HCR_EL2.TVM, 26), (HCR_EL2.TRVM, 30), (HCR_EL2.TSW, 22), (HCR_EL2.TPC, 23), (HCR_EL2.TPU, 24),
            (HCR_EL2.TTLB, 25), (HCR_EL2.TDZ, 28), (HCR_EL2.FWB, 46), (HCR_EL2.DC, 12), (HCR_EL2.VM, 0),
            (HCR_EL2.RW, 31), (SCTLR_EL1.M, 0), (SCTLR_EL1.C, 2), (SCTLR_EL1.I, 12),
        ]
        for (bit, position) in positions {
            #expect(bit.position == position, "\(bit)")
            #expect(bit.mask == 1 << UInt64(position))
        }
        #expect(HCR_EL2.FWB.isSet(in: 0x0000_4000_0000_0000))
        #expect(HCR_EL2.TVM.isSet(in: 0x0000_4000_0000_0000) == false)
        #expect(HCR_EL2.TVM.description == "HCR_EL2.TVM")
    }

    @Test func cacheMaintenanceOperations() throws {
        // (name, op1, CRn, CRm, op2, by VA / set-way / whole cache, trap control)
        let expected: [(String, UInt8, UInt8, UInt8, UInt8, CacheMaintenanceOperation.Operand, String)] = [
            ("DC IVAC", 0, 7, 6, 1, .virtualAddress, "HCR_EL2.TPC"),
            ("DC ISW", 0, 7, 6, 2, .setWay, "HCR_EL2.TSW"),
            ("DC CSW", 0, 7, 10, 2, .setWay, "HCR_EL2.TSW"),
            ("DC CISW", 0, 7, 14, 2, .setWay, "HCR_EL2.TSW"),
            ("DC ZVA", 3, 7, 4, 1, .virtualAddress, "HCR_EL2.TDZ"),
            ("DC CVAC", 3, 7, 10, 1, .virtualAddress, "HCR_EL2.TPC"),
            ("DC CVAU", 3, 7, 11, 1, .virtualAddress, "HCR_EL2.TPU"),
            ("DC CIVAC", 3, 7, 14, 1, .virtualAddress, "HCR_EL2.TPC"),
            ("IC IALLU", 0, 7, 5, 0, .none, "HCR_EL2.TPU"),
            ("IC IVAU", 3, 7, 5, 1, .virtualAddress, "HCR_EL2.TPU"),
            ("IC IALLUIS", 0, 7, 1, 0, .none, "HCR_EL2.TPU"),
        ]
        #expect(expected.count == CacheMaintenanceOperation.allCases.count)
        for (name, op1, crn, crm, op2, operand, trap) in expected {
            let encoding = SystemRegisterEncoding(op0: 1, op1: op1, crn: crn, crm: crm, op2: op2)
            let operation = try #require(CacheMaintenanceOperation(encoding: encoding), "\(name)")
            #expect(operation.rawValue == name)
            #expect(operation.encoding == encoding)
            #expect(operation.operand == operand, "\(name)")
            #expect(operation.trapControl.name == trap, "\(name)")
            #expect(encoding.displayName == name)
        }
        #expect(CacheMaintenanceOperation(encoding: SystemRegister.mairEL1.encoding) == nil)
    }
}
