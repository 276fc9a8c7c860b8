import FoundationEssentials
import Hypervisor

/// Everything one boot produced: where the image went, how the boot ended with the console's
/// tail, the console itself, and the guest's profile under the policy.
public struct BootReport: Codable, Sendable, Equatable {
    public struct Image: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        /// `raw` or `elf`.
        public var format: String
        /// `flash` or `ram`.
        public var placement: String
        public var base: String
        public var size: UInt64
        public var entry: String
    }

    public struct BoardSummary: Codable, Sendable, Equatable {
        public var ramBase: String
        public var ramMiB: UInt64
        public var deviceTree: String
        public var bootargs: String
        public var input: String

        enum CodingKeys: String, CodingKey {
            case ramBase = "ram_base", ramMiB = "ram_mib", deviceTree = "device_tree", bootargs, input
        }
    }

    public struct Relocation: Codable, Sendable, Equatable {
        public var offset: String
        public var source: String
    }

    public struct Ending: Codable, Sendable, Equatable {
        public var status: Outcome.Status
        public var message: String
        public var fault: GuestFault?
        /// The console's last lines, without carriage returns.
        public var consoleTail: String
        /// What the guest reported of itself in kvm-unit-tests' vocabulary, when it did.
        public var test: GuestTestResult? = nil

        enum CodingKeys: String, CodingKey { case status, message, fault, consoleTail = "console_tail", test }
    }

    public var image: Image
    public var board: BoardSummary
    public var policy: PolicySummary
    public var outcome: Ending
    /// Every byte the guest sent to the UART, as text (CR LF as sent).
    public var console: String
    public var guestInstructions: UInt64
    public var relocation: Relocation?
    public var profile: BootProfile
    /// Exceptions the guest took at its own vectors, by class (absent when none).
    public var exceptionsTaken: [String: Int]? = nil
    /// Interrupts the guest acknowledged at the GIC (GICC_IAR), by INTID (absent when none).
    public var interruptsAcknowledged: [String: Int]? = nil
    /// WFIs after which the count skipped ahead to the next timer event.
    public var wfiSkips: Int = 0

    enum CodingKeys: String, CodingKey {
        case image, board, policy, outcome, console, guestInstructions = "guest_instructions", relocation, profile,
             exceptionsTaken = "exceptions_taken", interruptsAcknowledged = "interrupts_acknowledged", wfiSkips = "wfi_skips"
    }

    /// One JSON object, keys sorted; `includingHostTiming: false` leaves the one measured
    /// figure (`cost.host_ns_per_trap`) null, so the rest is the same on every host.
    public func json(includingHostTiming: Bool = true) -> String {
        var report = self
        if !includingHostTiming { report.profile.cost.hostNsPerTrap = nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Plain Codable structs of strings and numbers cannot fail to encode.
        return String(decoding: try! encoder.encode(report), as: UTF8.self)
    }
}

/// What the guest did that a hypervisor sees: trapped accesses aggregated, maintenance by kind,
/// exits by cause, MAIR values before and after the rewrite, PSCI calls, the modeled cost.
public struct BootProfile: Codable, Sendable, Equatable {
    /// Trapped accesses with the same register, direction, value, loaded value and path
    /// (maintenance by set/way: the same operation and path).
    public struct Trapped: Codable, Sendable, Equatable {
        public var target: String
        public var direction: TrappedAccess.Direction
        public var value: String?
        public var loaded: String?
        public var path: ExitPath
        public var count: Int
        public var stage2Flushes: Int
        public var firstSite: String
        public var lastSite: String

        enum CodingKeys: String, CodingKey {
            case target, direction, value, loaded, path, count, stage2Flushes = "stage2_flushes",
                 firstSite = "first_site", lastSite = "last_site"
        }
    }

    /// A cache or TLB maintenance instruction: how often the guest issued it, how often it trapped.
    public struct Maintenance: Codable, Sendable, Equatable {
        public var operation: String
        public var issued: UInt64
        public var trapped: Int
    }

    /// A MAIR_EL1 value the guest wrote, and what the hardware held, index by index.
    public struct MAIRValue: Codable, Sendable, Equatable {
        public struct Index: Codable, Sendable, Equatable {
            public var attrIndx: Int
            public var requested: String
            public var loaded: String

            enum CodingKeys: String, CodingKey { case attrIndx = "attr_indx", requested, loaded }
        }

        public var requested: String
        public var loaded: String
        public var count: Int
        public var indices: [Index]
    }

    public struct PSCICall: Codable, Sendable, Equatable {
        public var conduit: String
        public var function: String
        public var result: String
        public var site: String
    }

    public var trapsTotal: Int
    public var trapped: [Trapped]
    public var maintenance: [Maintenance]
    /// Exits to the hypervisor by cause: traps by path, MMIO by device, the PSCI conduit.
    public var exits: [String: Int]
    public var mair: [MAIRValue]
    public var psci: [PSCICall]
    public var stage2Flushes: Int
    public var cost: CostSummary
    /// Every trapped access in order, only when asked for (`--events`).
    public var events: [TrapSummary.Event]?

    enum CodingKeys: String, CodingKey {
        case trapsTotal = "traps_total", trapped, maintenance, exits, mair, psci, stage2Flushes = "stage2_flushes", cost,
             events
    }
}
