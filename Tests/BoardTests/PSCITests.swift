import Testing
@testable import Board

// Function IDs and return codes from Arm DEN0022 (PSCI): "Function prototypes" (the function ID
// table) and "Return error codes"; SMCCC_VERSION from Arm DEN0028 (SMCCC).
private let NOT_SUPPORTED = UInt64(bitPattern: -1)
private let INVALID_PARAMETERS = UInt64(bitPattern: -2)

@Suite("PSCI")
struct PSCITests {
    @Test func functionIDs() {
        let expected: [(PSCI.Function, UInt32)] = [
            (.version, 0x8400_0000), (.cpuSuspend, 0x8400_0001), (.cpuSuspendSMC64, 0xC400_0001),
            (.cpuOff, 0x8400_0002), (.cpuOn, 0x8400_0003), (.cpuOnSMC64, 0xC400_0003),
            (.affinityInfo, 0x8400_0004), (.affinityInfoSMC64, 0xC400_0004),
            (.migrate, 0x8400_0005), (.migrateSMC64, 0xC400_0005), (.migrateInfoType, 0x8400_0006),
            (.migrateInfoUpCPU, 0x8400_0007), (.migrateInfoUpCPUSMC64, 0xC400_0007),
            (.systemOff, 0x8400_0008), (.systemReset, 0x8400_0009), (.features, 0x8400_000A),
            (.cpuFreeze, 0x8400_000B), (.cpuDefaultSuspend, 0x8400_000C), (.cpuDefaultSuspendSMC64, 0xC400_000C),
            (.nodeHWState, 0x8400_000D), (.nodeHWStateSMC64, 0xC400_000D),
            (.systemSuspend, 0x8400_000E), (.systemSuspendSMC64, 0xC400_000E),
            (.setSuspendMode, 0x8400_000F), (.statResidency, 0x8400_0010), (.statResidencySMC64, 0xC400_0010),
            (.statCount, 0x8400_0011), (.statCountSMC64, 0xC400_0011),
            (.systemReset2, 0x8400_0012), (.systemReset2SMC64, 0xC400_0012),
            (.memProtect, 0x8400_0013), (.memProtectCheckRange, 0x8400_0014), (.memProtectCheckRangeSMC64, 0xC400_0014),
        ]
        for (function, id) in expected { #expect(function.rawValue == id, "\(function)") }
        #expect(expected.count == PSCI.Function.allCases.count)
        #expect(PSCI.Function.cpuOnSMC64.description == "CPU_ON (SMC64)")
        #expect(PSCI.Function.systemOff.description == "SYSTEM_OFF")
        #expect(PSCI.Function.cpuOn.description == "CPU_ON (SMC32)")
    }

    @Test func returnCodes() {
        let expected: [(PSCI.ReturnCode, Int32)] = [
            (.success, 0), (.notSupported, -1), (.invalidParameters, -2), (.denied, -3), (.alreadyOn, -4),
            (.onPending, -5), (.internalFailure, -6), (.notPresent, -7), (.disabled, -8), (.invalidAddress, -9),
        ]
        for (code, value) in expected { #expect(code.rawValue == value) }
        #expect(PSCI.ReturnCode.notSupported.x0 == 0xFFFF_FFFF_FFFF_FFFF)
    }

    @Test func versionIsOnePointZero() {
        // PSCI_VERSION: major in [30:16], minor in [15:0].
        #expect(PSCI.call(functionID: 0x8400_0000) == .returned(0x0001_0000))
    }

    @Test func features() {
        let implemented: [UInt32] = [0x8400_0000, 0x8400_0002, 0x8400_0003, 0xC400_0003, 0x8400_0004,
                                     0xC400_0004, 0x8400_0006, 0x8400_0008, 0x8400_0009, 0x8400_000A]
        for id in implemented {
            #expect(PSCI.call(functionID: 0x8400_000A, x1: UInt64(id)) == .returned(0), "\(hexString(id))")
        }
        // Not implemented: CPU_SUSPEND (no wake-up source), MIGRATE, PSCI 1.1's SYSTEM_RESET2,
        // SMCCC_VERSION (SMCCC v1.0), IDs that are no function at all.
        for id: UInt32 in [0x8400_0001, 0xC400_0001, 0x8400_0005, 0x8400_0012, 0xC400_0012, 0x8000_0000,
                           0x8400_001F, 0x1234_5678, 0xC400_0002] {
            #expect(PSCI.call(functionID: 0x8400_000A, x1: UInt64(id)) == .returned(NOT_SUPPORTED), "\(hexString(id))")
        }
    }

    @Test func systemOffAndResetEndTheRun() {
        #expect(PSCI.call(functionID: 0x8400_0008) == .systemOff)
        #expect(PSCI.call(functionID: 0x8400_0009) == .systemReset)
        #expect(PSCI.call(functionID: 0x8400_0008).endsRun && PSCI.call(functionID: 0x8400_0008).x0 == nil)
        // SYSTEM_RESET2 is PSCI 1.1: not offered by a 1.0 implementation.
        #expect(PSCI.call(functionID: 0x8400_0012) == .returned(NOT_SUPPORTED))
        #expect(PSCI.call(functionID: 0xC400_0012) == .returned(NOT_SUPPORTED))
    }

    @Test func cpuOnIsRefused() {
        // CPU_ON's return values: ALREADY_ON for the caller itself (MPIDR affinity 0),
        // INVALID_PARAMETERS for an affinity that names no core.
        for id: UInt32 in [0x8400_0003, 0xC400_0003] {
            let own = PSCI.call(functionID: id, x1: 0, x2: 0x4008_0000, x3: 0)
            #expect(own == .refused(.alreadyOn))
            #expect(own.x0 == UInt64(bitPattern: -4) && !own.endsRun)
            #expect(PSCI.call(functionID: id, x1: 1, x2: 0x4008_0000) == .refused(.invalidParameters))
            #expect(PSCI.call(functionID: id, x1: 0x100, x2: 0x4008_0000) == .refused(.invalidParameters))
            #expect(PSCI.call(functionID: id, x1: 1 << 24, x2: 0x4008_0000) == .refused(.invalidParameters))
        }
        #expect(PSCI.call(functionID: 0xC400_0003, x1: 1 << 32) == .refused(.invalidParameters))  // Aff3 = 1
        // SMC32: only W1 is the argument.
        #expect(PSCI.call(functionID: 0x8400_0003, x1: 1 << 32) == .refused(.alreadyOn))
    }

    @Test func affinityInfo() {
        // AFFINITY_INFO: 0 means ON.
        #expect(PSCI.call(functionID: 0xC400_0004, x1: 0, x2: 0) == .returned(0))
        #expect(PSCI.call(functionID: 0x8400_0004, x1: 0, x2: 0) == .returned(0))
        #expect(PSCI.call(functionID: 0xC400_0004, x1: 1, x2: 0) == .returned(INVALID_PARAMETERS))
        #expect(PSCI.call(functionID: 0xC400_0004, x1: 0, x2: 1) == .returned(INVALID_PARAMETERS))
    }

    @Test func migrateInfoTypeAndCPUOff() {
        // MIGRATE_INFO_TYPE 2: a trusted OS is not present or needs no migration.
        #expect(PSCI.call(functionID: 0x8400_0006) == .returned(2))
        #expect(PSCI.call(functionID: 0xC400_0005, x1: 0) == .returned(NOT_SUPPORTED))
        #expect(PSCI.call(functionID: 0x8400_0002, x1: 0) == .cpuOff)
        #expect(PSCI.call(functionID: 0x8400_0002).endsRun)
    }

    @Test func unknownAndSMCCCCalls() {
        // SMCCC (DEN0028): an unknown function ID returns -1 (NOT_SUPPORTED); SMCCC_VERSION is
        // not implemented, which tells the caller the convention is v1.0.
        #expect(PSCI.call(functionID: 0x8000_0000) == .returned(NOT_SUPPORTED))
        #expect(PSCI.call(functionID: 0x8400_0001) == .returned(NOT_SUPPORTED))  // CPU_SUSPEND
        #expect(PSCI.call(functionID: 0x8400_001F) == .returned(NOT_SUPPORTED))
        #expect(PSCI.call(functionID: 0xC400_0000) == .returned(NOT_SUPPORTED))  // no SMC64 PSCI_VERSION
        #expect(PSCI.call(functionID: 0) == .returned(NOT_SUPPORTED))
    }
}

private func hexString(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
