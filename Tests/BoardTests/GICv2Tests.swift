import Testing
@testable import Board

/// The GICv2 model against the GIC Architecture Specification v2 (IHI 0048B): register
/// offsets from its tables 4-1 (distributor) and 4-2 (CPU interface).
@Suite struct GICv2Tests {
    /// Distributor and CPU interface enabled, PMR 0xF0, PPI `id` enabled.
    static func ready(_ id: Int) -> GICv2 {
        var gic = GICv2()
        gic.distributorWrite(offset: 0x000, size: 4, value: 1)
        gic.distributorWrite(offset: 0x100, size: 4, value: 1 << UInt64(id))
        gic.cpuInterfaceWrite(offset: 0x04, value: 0xF0)
        gic.cpuInterfaceWrite(offset: 0x00, value: 1)
        return gic
    }

    @Test func typerSaysSixtyFourInterruptsOneCPU() {
        var gic = GICv2()
        #expect(gic.distributorRead(offset: 0x004, size: 4) == 1)   // ITLinesNumber 1: 64 IDs; CPUNumber 0
        #expect(gic.distributorRead(offset: 0xC00, size: 4) == 0xAAAA_AAAA)
    }

    @Test func nothingPendingReadsSpurious() {
        var gic = Self.ready(27)
        #expect(gic.cpuInterfaceRead(offset: 0x0C) == 1023)
        #expect(!gic.signalsIRQ)
    }

    /// A level-sensitive PPI held high: acknowledged it is active and still pending, so it does
    /// not signal again until EOI; after EOI with the line still high it signals again.
    @Test func levelSensitiveAcknowledgeAndEOI() {
        var gic = Self.ready(27)
        gic.setLine(27, true)
        #expect(gic.signalsIRQ)
        #expect(gic.cpuInterfaceRead(offset: 0x18) == 27)          // GICC_HPPIR
        #expect(gic.cpuInterfaceRead(offset: 0x0C) == 27)          // GICC_IAR
        #expect(gic.distributorRead(offset: 0x300, size: 4) == 1 << 27)   // active
        #expect(gic.distributorRead(offset: 0x200, size: 4) == 1 << 27)   // and pending
        #expect(!gic.signalsIRQ)
        #expect(gic.cpuInterfaceRead(offset: 0x14) == 0)           // GICC_RPR: its priority, 0
        gic.cpuInterfaceWrite(offset: 0x10, value: 27)             // GICC_EOIR
        #expect(gic.signalsIRQ)
        gic.setLine(27, false)
        #expect(!gic.signalsIRQ)
        #expect(gic.acknowledged == [27: 1])
    }

    @Test func priorityMaskAndDisabledInterfaces() {
        var gic = Self.ready(30)
        gic.distributorWrite(offset: 0x41C, size: 4, value: 0xF0 << 16)   // IPRIORITYR7 byte 2: ID 30
        gic.setLine(30, true)
        #expect(!gic.signalsIRQ)                                   // priority 0xF0 is not below PMR 0xF0
        gic.cpuInterfaceWrite(offset: 0x04, value: 0xF8)
        #expect(gic.signalsIRQ)
        gic.cpuInterfaceWrite(offset: 0x00, value: 0)
        #expect(!gic.signalsIRQ)
    }

    /// GICD_SGIR with TargetListFilter 0b10 (this CPU) latches the SGI; acknowledging consumes it.
    @Test func softwareGeneratedInterruptToSelf() {
        var gic = Self.ready(5)
        gic.distributorWrite(offset: 0xF00, size: 4, value: 0b10 << 24 | 5)
        #expect(gic.cpuInterfaceRead(offset: 0x0C) == 5)
        gic.cpuInterfaceWrite(offset: 0x10, value: 5)
        #expect(gic.cpuInterfaceRead(offset: 0x0C) == 1023)
    }
}

/// GICD_ITARGETSR (IHI 0048B 4.3.12): read-only CPU 0 for SGIs and PPIs; for SPIs the fields
/// keep what is written, bits of CPUs that do not exist masked; an SPI targeting no CPU is not
/// forwarded to the CPU interface.
@Suite struct GICv2TargetTests {
    @Test func spiTargetsKeepTheExistingCPUsBit() {
        var gic = GICv2()
        #expect(gic.distributorRead(offset: 0x81C, size: 4) == 0x0101_0101)        // PPIs 28-31: CPU 0
        gic.distributorWrite(offset: 0x820, size: 4, value: 0x0101_00FF)            // SPIs 32-35
        #expect(gic.distributorRead(offset: 0x820, size: 4) == 0x0101_0001)
        gic.distributorWrite(offset: 0x822, size: 1, value: 0x1E)                   // SPI 34: no existing CPU
        #expect(gic.distributorRead(offset: 0x822, size: 1) == 0)
    }

    @Test func anSPITargetingNoCPUIsNotSignalled() {
        var gic = GICv2Tests.ready(0)
        gic.distributorWrite(offset: 0x104, size: 4, value: 1)                     // enable SPI 32
        gic.distributorWrite(offset: 0x204, size: 4, value: 1)                     // pending
        #expect(!gic.signalsIRQ)
        gic.distributorWrite(offset: 0x820, size: 1, value: 1)                     // target CPU 0
        #expect(gic.signalsIRQ)
    }
}
