import Testing
@testable import Unicorn

/// Each test pins one behaviour of Unicorn 2.0.1 that the harness relies on
/// (shared/docs/unicorn-2.0.1.md), through the wrapper.
@Suite struct UnicornQuirkTests {
    static let ram: UInt64 = 0x4000_0000
    static let ramSize: UInt64 = 0x20_0000
    static let end: UInt64 = ram + 0x400   // every test program parks at `.org 0x400`

    /// A machine with RAM and `source` at its base; the program ends at `ram + 0x400`.
    func machine(_ source: String) throws -> Machine {
        let m = try Machine()
        try m.map(Self.ram, size: Self.ramSize)
        try m.write(try TestAssembler.flat(source + "\nb end\n.ltorg\n.org 0x400\nend: b end\n", at: Self.ram), at: Self.ram)
        return m
    }

    @Test func startsAtEL1WithFixedPSTATE() throws {
        let m = try machine("nop")
        #expect(try m.currentEL() == 1)
        #expect(try m.read(.pstate) == 0x4000_03c5)   // EL1h, DAIF masked, Z set
        #expect(try m.start(at: Self.ram, until: Self.end) == .reachedUntil)
    }

    @Test func msrHookFiresBeforeTheWriteWithPCOnTheInstruction() throws {
        let m = try machine("""
            mov x3, #0x44
            msr mair_el1, x3
            msr mair_el1, xzr
            """)
        try m.write(.MAIR_EL1, 0x1111)
        var seen: [(pc: UInt64, rt: Int, value: UInt64, old: UInt64, addr: SystemRegisterAddress)] = []
        try m.onSystemInstruction(.msr) { insn in
            seen.append(((try? m.read(.pc)) ?? 0, insn.rt, insn.value, (try? m.read(.MAIR_EL1)) ?? 0, insn.address))
            return .execute
        }
        try m.start(at: Self.ram, until: Self.end)
        #expect(seen.count == 2)
        #expect(seen[0].pc == Self.ram + 4)
        #expect(seen[0].rt == 3)
        #expect(seen[0].value == 0x44)
        #expect(seen[0].old == 0x1111)
        #expect(seen[0].addr == SystemRegisterAddress(op0: 3, op1: 0, crn: 10, crm: 2, op2: 0))
        #expect(seen[1].rt == 31)
        #expect(seen[1].value == 0)
        #expect(try m.read(.MAIR_EL1) == 0)
    }

    @Test func skippingAnMSRLeavesTheRegisterForTheHostToWrite() throws {
        let m = try machine("mov x0, #0x44\nmsr mair_el1, x0")
        try m.onSystemInstruction(.msr) { _ in
            try? m.write(.MAIR_EL1, 0xff)
            return .skip
        }
        try m.start(at: Self.ram, until: Self.end)
        #expect(try m.read(.MAIR_EL1) == 0xff)
        #expect(try m.read(.x(0)) == 0x44)   // the guest's Xt is untouched
    }

    @Test func mrsHookCanAnswerAReadByWritingXt() throws {
        // The generic timer counts host time: the harness answers CNTVCT_EL0 itself.
        let m = try machine("mrs x5, cntvct_el0\nmrs x6, cntvct_el0")
        var n: UInt64 = 0
        try m.onSystemInstruction(.mrs) { insn in
            n += 1
            try? m.write(.x(insn.rt), 1000 * n)
            return .skip
        }
        try m.start(at: Self.ram, until: Self.end)
        #expect(try m.read(.x(5)) == 1000)
        #expect(try m.read(.x(6)) == 2000)
    }

    @Test func sysHookSeesCacheMaintenanceWithItsVA() throws {
        let m = try machine("ldr x1, =0x40001040\ndc civac, x1\ndc cvac, x1")
        var ops: [(SystemRegisterAddress, UInt64)] = []
        try m.onSystemInstruction(.sys) { insn in
            ops.append((insn.address, insn.value)); return .execute
        }
        try m.start(at: Self.ram, until: Self.end)
        #expect(ops.count == 2)
        #expect(ops[0].0 == SystemRegisterAddress(op0: 1, op1: 3, crn: 7, crm: 14, op2: 1))
        #expect(ops[0].1 == 0x4000_1040)
        #expect(ops[1].0 == SystemRegisterAddress(op0: 1, op1: 3, crn: 7, crm: 10, op2: 1))
    }

    @Test func onlyOneHookPerSystemInstructionKind() throws {
        let m = try machine("nop")
        try m.onSystemInstruction(.msr) { _ in .execute }
        #expect(throws: UnicornError.self) { try m.onSystemInstruction(.msr) { _ in .execute } }
    }

    @Test func aHookAddedAfterARunStillFires() throws {
        let m = try machine("nop\nnop")
        try m.start(at: Self.ram, until: Self.end)   // translates and caches the block
        var count = 0
        try m.onCode { _, _ in count += 1 }           // the wrapper flushes the TB cache
        try m.start(at: Self.ram, until: Self.end)
        #expect(count == 3)   // nop, nop, b end
    }

    @Test func readingCurrentELThroughCPRegIsRefusedNotFatal() throws {
        let m = try Machine()
        let currentEL = SystemRegisterAddress(op0: 3, op1: 0, crn: 4, crm: 2, op2: 2)
        let nzcv = SystemRegisterAddress(op0: 3, op1: 3, crn: 4, crm: 2, op2: 0)
        #expect(throws: UnicornError.self) { _ = try m.readSystemRegister(currentEL) }
        #expect(throws: UnicornError.self) { _ = try m.readSystemRegister(nzcv) }
        #expect(try m.currentEL() == 1)
    }

    @Test func hvcArrivesAsInterruptOneWithPCOnIt() throws {
        let m = try machine("hvc #5\nmov x7, #1")
        var events: [(UInt32, UInt64)] = []
        try m.onInterrupt { intno in
            let pc = (try? m.read(.pc)) ?? 0
            events.append((intno, pc))
            try? m.write(.pc, pc + 4)   // Unicorn re-executes the HVC forever otherwise
        }
        try m.start(at: Self.ram, until: Self.end)
        #expect(events.count == 1)
        #expect(events[0].0 == 1)
        #expect(events[0].1 == Self.ram)
        #expect(try m.read(.x(7)) == 1)
    }

    @Test func instructionCountStopsExactly() throws {
        let m = try machine("loop: add x0, x0, #1\nb loop")
        #expect(try m.start(at: Self.ram, until: Self.end, count: 11) == .countExhausted)
        #expect(try m.read(.x(0)) == 6)
    }

    /// Identity map of RAM (VA 0x4000_0000 = PA) plus an alias at VA 0x8000_0000, both 1 GB
    /// level-1 blocks, Normal WB; then SCTLR_EL1.M = 1 and a load through the alias.
    static let mmuProgram = """
        ldr x0, =0xff
        msr mair_el1, x0
        ldr x0, =0x803519     // T0SZ 25, IRGN0/ORGN0 WB, SH0 inner, EPD1
        msr tcr_el1, x0
        ldr x0, =0x40100000
        msr ttbr0_el1, x0
        isb
        mrs x0, sctlr_el1
        orr x0, x0, #1
        msr sctlr_el1, x0
        isb
        ldr x1, =0x80001000
        ldr x2, [x1]
        """

    func mmuMachine() throws -> Machine {
        let m = try machine(Self.mmuProgram)
        let block: UInt64 = 0x4000_0000 | (1 << 10) | (3 << 8) | 0b01   // AF, inner shareable, AttrIndx 0
        var table = [UInt8](repeating: 0, count: 4096)
        for (index, value) in [(1, block), (2, block)] {
            for i in 0..<8 { table[index * 8 + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        try m.write(table, at: 0x4010_0000)
        try m.write([0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0], at: 0x4000_1000)
        return m
    }

    @Test func guestEnablesItsMMUBecauseSCREL3RWIsSet() throws {
        let m = try mmuMachine()
        try m.reserveVirtualWindow(0x8000_0000, size: 0x2000)
        #expect(try m.start(at: Self.ram, until: Self.end) == .reachedUntil)
        #expect(try m.read(.x(2)) == 0xdead_beef)
    }

    @Test func withoutSCREL3RWTheFirstFetchAfterMMUOnAborts() throws {
        let m = try mmuMachine()
        try m.reserveVirtualWindow(0x8000_0000, size: 0x1000)
        try m.writeSystemRegister(Machine.scrEL3, 0)
        var intnos: [UInt32] = []
        try m.onInterrupt { intno in intnos.append(intno); m.stop() }
        _ = try? m.start(at: Self.ram, until: Self.end, count: 1000)
        #expect(intnos.first == 3)   // prefetch abort
    }

    @Test func memoryChecksUseTheVirtualAddress() throws {
        // Without a region at the alias VA the load fails as unmapped, although the guest's
        // tables map it to RAM.
        let m = try mmuMachine()
        var invalid: [InvalidMemoryAccess] = []
        try m.onInvalidMemory { invalid.append($0); return false }
        #expect(throws: UnicornError.self) { try m.start(at: Self.ram, until: Self.end) }
        #expect(invalid.count == 1)
        #expect(invalid.first?.kind == .unmappedRead)
        #expect(invalid.first?.virtualAddress == 0x8000_1000)
    }

    @Test func memoryHooksReportTheVirtualAddress() throws {
        let m = try mmuMachine()
        try m.reserveVirtualWindow(0x8000_0000, size: 0x1000_0000)
        var reads: [MemoryAccess] = []
        try m.onMemoryAccess([.read], range: 0x8000_0000...0x8fff_ffff) { reads.append($0) }
        try m.start(at: Self.ram, until: Self.end)
        #expect(reads.count == 1)
        #expect(reads.first?.virtualAddress == 0x8000_1000)
        #expect(reads.first?.size == 8)
        #expect(try m.read(.x(2)) == 0xdead_beef)   // the data came from the PA
    }

    @Test func mmioRegionIsServedBySwift() throws {
        let m = try machine("ldr x1, =0x9000000\nldr w2, [x1, #8]\nmov w3, #7\nstr w3, [x1, #4]")
        var writes: [(UInt64, Int, UInt64)] = []
        try m.mapMMIO(0x0900_0000, size: 0x1000, read: { offset, size in 0x100 + offset + UInt64(size) },
                      write: { writes.append(($0, $1, $2)) })
        try m.start(at: Self.ram, until: Self.end)
        #expect(try m.read(.x(2)) == 0x10c)
        #expect(writes.count == 1)
        #expect(writes.first.map { [$0.0, UInt64($0.1), $0.2] } == [4, 4, 7])
    }
}

@Suite struct UnicornAbortTests {
    /// A data abort arrives as intno 4 with no ESR/FAR; the memory hook has already seen the
    /// access's VA, which is how the harness names the faulting address.
    @Test func memoryHookSeesTheVAOfAnAccessThatAborts() throws {
        let t = UnicornQuirkTests()
        let m = try t.mmuMachine()
        // The load at 0x8000_1000 walks to an invalid level-1 entry once we clear it.
        try m.write([UInt8](repeating: 0, count: 8), at: 0x4010_0000 + 2 * 8)
        try m.reserveVirtualWindow(0x8000_0000, size: 0x2000)
        var accesses: [UInt64] = []
        var intnos: [UInt32] = []
        try m.onMemoryAccess([.read, .write], range: 0...UInt64.max) { accesses.append($0.virtualAddress) }
        try m.onInterrupt { intnos.append($0); m.stop() }
        try m.start(at: UnicornQuirkTests.ram, until: UnicornQuirkTests.end, count: 10_000)
        #expect(intnos == [4])
        #expect(accesses.last == 0x8000_1000)
    }
}

@Suite struct UnicornMMIOTests {
    /// The coherency model serves observed memory from MMIO callbacks (which see the physical
    /// offset) and learns the access's VA from the memory hook, which fires first.
    @Test func memoryHookSeesTheVAOfAnMMIOAccessBeforeTheCallback() throws {
        let t = UnicornQuirkTests()
        let m = try t.machine("""
            ldr x1, =0x9000010
            ldp x2, x3, [x1]
            stp x3, x2, [x1, #16]
            ldrb w4, [x1, #3]
            """)
        var log: [String] = []
        try m.mapMMIO(0x0900_0000, size: 0x1000, read: { offset, size in
            log.append("read \(offset) \(size)"); return 0x1111 * (offset + 1)
        }, write: { offset, size, value in log.append("write \(offset) \(size) \(value)") })
        try m.onMemoryAccess([.read, .write], range: 0x0900_0000...0x0900_0fff) { access in
            log.append("hook \(access.kind) \(access.virtualAddress) \(access.size)")
        }
        try m.start(at: UnicornQuirkTests.ram, until: UnicornQuirkTests.end)
        // Unicorn splits an 8-byte MMIO access into two 4-byte callbacks (low half first);
        // the hook sees the whole access, by VA, before them.
        let x2 = [0x1111 * 17, 0x1111 * 21], x3 = [0x1111 * 25, 0x1111 * 29]
        #expect(log == [
            "hook read 150994960 8", "read 16 4", "read 20 4", "hook read 150994968 8", "read 24 4", "read 28 4",
            "hook write 150994976 8", "write 32 4 \(x3[0])", "write 36 4 \(x3[1])",
            "hook write 150994984 8", "write 40 4 \(x2[0])", "write 44 4 \(x2[1])",
            "hook read 150994963 1", "read 19 1",
        ])
    }
}
