// PSCI 1.0 (Arm DEN0022, Power State Coordination Interface) as the hypervisor of a one-CPU
// board with no interrupt delivery answers it, through the SMC Calling Convention (Arm DEN0028,
// SMCCC): the function ID in W0, arguments in X1-X3, the result in X0.

import AArch64

/// The PSCI function IDs, return codes and the board's answers.
public enum PSCI {
    /// `PSCI_VERSION`'s answer: major 1 in bits [30:16], minor 0 in [15:0] (DEN0022,
    /// PSCI_VERSION).
    public static let version: UInt32 = 0x0001_0000

    /// SMCCC_VERSION (DEN0028, "SMCCC_VERSION"), an Arm Architecture Service call.
    public static let smcccVersionID: UInt32 = 0x8000_0000

    /// The MPIDR affinity (Aff3..Aff0) of the board's only CPU.
    public static let onlyCPUAffinity: UInt64 = 0

    /// Function IDs (DEN0022, table "PSCI function IDs" in "Function prototypes"): fast calls of
    /// the Standard Secure Service, 0x84000000 + n for SMC32 and 0xC4000000 + n for SMC64.
    public enum Function: UInt32, CaseIterable, Hashable, Sendable, CustomStringConvertible {
        case version = 0x8400_0000
        case cpuSuspend = 0x8400_0001, cpuSuspendSMC64 = 0xC400_0001
        case cpuOff = 0x8400_0002
        case cpuOn = 0x8400_0003, cpuOnSMC64 = 0xC400_0003
        case affinityInfo = 0x8400_0004, affinityInfoSMC64 = 0xC400_0004
        case migrate = 0x8400_0005, migrateSMC64 = 0xC400_0005
        case migrateInfoType = 0x8400_0006
        case migrateInfoUpCPU = 0x8400_0007, migrateInfoUpCPUSMC64 = 0xC400_0007
        case systemOff = 0x8400_0008
        case systemReset = 0x8400_0009
        case features = 0x8400_000A
        case cpuFreeze = 0x8400_000B
        case cpuDefaultSuspend = 0x8400_000C, cpuDefaultSuspendSMC64 = 0xC400_000C
        case nodeHWState = 0x8400_000D, nodeHWStateSMC64 = 0xC400_000D
        case systemSuspend = 0x8400_000E, systemSuspendSMC64 = 0xC400_000E
        case setSuspendMode = 0x8400_000F
        case statResidency = 0x8400_0010, statResidencySMC64 = 0xC400_0010
        case statCount = 0x8400_0011, statCountSMC64 = 0xC400_0011
        case systemReset2 = 0x8400_0012, systemReset2SMC64 = 0xC400_0012
        case memProtect = 0x8400_0013
        case memProtectCheckRange = 0x8400_0014, memProtectCheckRangeSMC64 = 0xC400_0014

        /// SMCCC: bit 30 of the function ID selects the 64-bit convention.
        public var isSMC64: Bool { rawValue & 0x4000_0000 != 0 }

        /// The specification's name, with the convention when both exist.
        public var description: String {
            let name = switch self {
            case .version: "PSCI_VERSION"
            case .cpuSuspend, .cpuSuspendSMC64: "CPU_SUSPEND"
            case .cpuOff: "CPU_OFF"
            case .cpuOn, .cpuOnSMC64: "CPU_ON"
            case .affinityInfo, .affinityInfoSMC64: "AFFINITY_INFO"
            case .migrate, .migrateSMC64: "MIGRATE"
            case .migrateInfoType: "MIGRATE_INFO_TYPE"
            case .migrateInfoUpCPU, .migrateInfoUpCPUSMC64: "MIGRATE_INFO_UP_CPU"
            case .systemOff: "SYSTEM_OFF"
            case .systemReset: "SYSTEM_RESET"
            case .features: "PSCI_FEATURES"
            case .cpuFreeze: "CPU_FREEZE"
            case .cpuDefaultSuspend, .cpuDefaultSuspendSMC64: "CPU_DEFAULT_SUSPEND"
            case .nodeHWState, .nodeHWStateSMC64: "NODE_HW_STATE"
            case .systemSuspend, .systemSuspendSMC64: "SYSTEM_SUSPEND"
            case .setSuspendMode: "PSCI_SET_SUSPEND_MODE"
            case .statResidency, .statResidencySMC64: "PSCI_STAT_RESIDENCY"
            case .statCount, .statCountSMC64: "PSCI_STAT_COUNT"
            case .systemReset2, .systemReset2SMC64: "SYSTEM_RESET2"
            case .memProtect: "MEM_PROTECT"
            case .memProtectCheckRange, .memProtectCheckRangeSMC64: "MEM_PROTECT_CHECK_RANGE"
            }
            if isSMC64 { return name + " (SMC64)" }
            return Function(rawValue: rawValue | 0x4000_0000) != nil ? name + " (SMC32)" : name
        }
    }

    /// Return codes (DEN0022, "Return error codes"), signed 32-bit.
    public enum ReturnCode: Int32, CaseIterable, Hashable, Sendable, CustomStringConvertible {
        case success = 0
        case notSupported = -1
        case invalidParameters = -2
        case denied = -3
        case alreadyOn = -4
        case onPending = -5
        case internalFailure = -6
        case notPresent = -7
        case disabled = -8
        case invalidAddress = -9

        /// The value in X0: sign-extended, so that W0 holds the code for SMC32 callers and X0
        /// for SMC64 ones.
        public var x0: UInt64 { UInt64(bitPattern: Int64(rawValue)) }

        public var description: String {
            switch self {
            case .success: "SUCCESS"
            case .notSupported: "NOT_SUPPORTED"
            case .invalidParameters: "INVALID_PARAMETERS"
            case .denied: "DENIED"
            case .alreadyOn: "ALREADY_ON"
            case .onPending: "ON_PENDING"
            case .internalFailure: "INTERNAL_FAILURE"
            case .notPresent: "NOT_PRESENT"
            case .disabled: "DISABLED"
            case .invalidAddress: "INVALID_ADDRESS"
            }
        }
    }

    /// The functions this board implements; `PSCI_FEATURES` reports exactly these.
    ///
    /// Left out: CPU_SUSPEND, though DEN0022 makes it mandatory, because with no interrupt
    /// delivery nothing could ever wake the CPU (callers fall back to WFI when PSCI_FEATURES
    /// says NOT_SUPPORTED); MIGRATE and MIGRATE_INFO_UP_CPU, which only matter with a trusted OS
    /// (MIGRATE_INFO_TYPE says there is none); SYSTEM_RESET2 and later functions, which belong
    /// to PSCI 1.1 and after while this board reports 1.0.
    public static let implemented: Set<Function> = [
        .version, .cpuOff, .cpuOn, .cpuOnSMC64, .affinityInfo, .affinityInfoSMC64,
        .migrateInfoType, .systemOff, .systemReset, .features,
    ]

    /// DEN0022, CPU_ON and AFFINITY_INFO: the MPIDR affinity fields a target names (Aff3 in
    /// [39:32], Aff2..Aff0 in [23:0]); every other bit must be zero.
    static let affinityMask: UInt64 = 0xFF_00FF_FFFF

    /// Decides a call. `functionID` is W0 (DEN0028: the function identifier is passed in W0);
    /// SMC32 functions take their arguments in W1-W3, so the upper halves of X1-X3 are ignored.
    public static func call(functionID: UInt32, x1: UInt64 = 0, x2: UInt64 = 0, x3: UInt64 = 0) -> PSCIResult {
        guard let function = Function(rawValue: functionID) else {
            // SMCCC_VERSION is not implemented: DEN0028 ("SMCCC_VERSION") tells a caller that
            // gets NOT_SUPPORTED to assume SMCCC v1.0, which is what this board offers (no
            // SMCCC_ARCH_FEATURES, no workaround calls). Every other unknown ID: the same answer,
            // as SMCCC requires for unknown function IDs.
            return .returned(ReturnCode.notSupported.x0)
        }
        guard implemented.contains(function) else { return .returned(ReturnCode.notSupported.x0) }
        let argument1 = function.isSMC64 ? x1 : x1 & 0xFFFF_FFFF
        let argument2 = function.isSMC64 ? x2 : x2 & 0xFFFF_FFFF

        switch function {
        case .version:
            return .returned(UInt64(version))
        case .features:
            // DEN0022, PSCI_FEATURES: 0 (no feature flags) for an implemented function;
            // NOT_SUPPORTED for the rest, SMCCC_VERSION included (see above).
            let queried = UInt32(truncatingIfNeeded: x1)
            let known = Function(rawValue: queried).map(implemented.contains) ?? false
            return .returned(known ? ReturnCode.success.x0 : ReturnCode.notSupported.x0)
        case .cpuOn, .cpuOnSMC64:
            // DEN0022, CPU_ON, return values: ALREADY_ON when the target is already on (the
            // only CPU is the caller), INVALID_PARAMETERS when target_cpu names no core of the
            // system (every other affinity, and any bit outside the affinity fields). No CPU
            // can be started, so the call is refused either way.
            let target = argument1
            if target & ~affinityMask == 0 && target == onlyCPUAffinity { return .refused(.alreadyOn) }
            return .refused(.invalidParameters)
        case .affinityInfo, .affinityInfoSMC64:
            // DEN0022, AFFINITY_INFO: 0 ON, 1 OFF, 2 ON_PENDING. The only CPU is the caller, so
            // ON. Levels above 0 are optional from PSCI 1.0 and not supported here:
            // INVALID_PARAMETERS, as for a target that names no core.
            let target = argument1, lowestLevel = argument2
            guard lowestLevel == 0, target & ~affinityMask == 0, target == onlyCPUAffinity else {
                return .returned(ReturnCode.invalidParameters.x0)
            }
            return .returned(0)
        case .migrateInfoType:
            // DEN0022, MIGRATE_INFO_TYPE: 2, a trusted OS is not present or needs no migration.
            return .returned(2)
        case .cpuOff:
            // DEN0022, CPU_OFF: does not return on success. DENIED is only for a core hosting a
            // trusted OS that must migrate; here the last core goes off and nothing can wake it.
            return .cpuOff
        case .systemOff:
            return .systemOff
        case .systemReset:
            return .systemReset
        default:
            return .returned(ReturnCode.notSupported.x0)
        }
    }
}

/// What a PSCI call does: return a value to the caller, or end the run.
public enum PSCIResult: Hashable, Sendable, CustomStringConvertible {
    /// The call returns with this value in X0.
    case returned(UInt64)
    /// The call returns this error because the board declines a well-formed request it cannot
    /// honour (CPU_ON: no second CPU); worth reporting, unlike an unsupported function.
    case refused(PSCI.ReturnCode)
    /// SYSTEM_OFF: the run ends, powered off.
    case systemOff
    /// SYSTEM_RESET: the run ends with a reset request.
    case systemReset
    /// CPU_OFF on the only CPU: nothing runs any more.
    case cpuOff

    /// The value for X0 when the call returns; nil when it does not.
    public var x0: UInt64? {
        switch self {
        case .returned(let value): value
        case .refused(let code): code.x0
        case .systemOff, .systemReset, .cpuOff: nil
        }
    }

    /// Whether the run ends here.
    public var endsRun: Bool { x0 == nil }

    public var description: String {
        switch self {
        case .returned(let value): "returned \(hex(value))"
        case .refused(let code): "refused: \(code)"
        case .systemOff: "system off"
        case .systemReset: "system reset"
        case .cpuOff: "CPU off"
        }
    }
}
