import Foundation
import Hypervisor

/// 64-bit values print as 16 hex digits: exact in JSON (no float rounding past 2^53) and
/// comparable by eye with the Arm ARM's register layouts.
public func hex64(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}

public func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

/// How a run ended. A guest's misbehaviour (a fault, never ending) is an outcome, not an error.
public struct Outcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// The guest signalled the end of its run (`hvc #0`).
        case completed
        /// The guest used its whole instruction budget without ending.
        case budgetExhausted = "budget-exhausted"
        /// The wall-clock safety net fired (never expected: the budget comes first).
        case timedOut = "timed-out"
        /// The guest took an exception the harness does not emulate, or touched unmapped memory.
        case guestFault = "guest-fault"
    }

    public var status: Status
    /// x0 at `hvc #0` (completed runs).
    public var exitStatus: UInt64?
    /// The fault that ended the run (guest-fault runs).
    public var fault: GuestFault?
    /// One line for a person.
    public var message: String

    enum CodingKeys: String, CodingKey {
        case status, exitStatus = "exit_status", fault, message
    }
}

/// A guest exception or bad access that ended the run, named by kind and guest site.
public struct GuestFault: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case undefinedInstruction = "undefined-instruction"
        case dataAbort = "data-abort"
        case prefetchAbort = "prefetch-abort"
        case unmappedAccess = "unmapped-access"
        case supervisorCall = "svc"
        case secureMonitorCall = "smc"
        case breakpoint = "brk"
        case otherException = "exception"
    }

    public var kind: Kind
    public var pc: String
    public var site: String
    /// The instruction at the site, disassembled, when it lies in the image.
    public var instruction: String?
    /// The virtual address accessed, where known.
    public var address: String?
    /// What the harness knows beyond the kind (e.g. the stage-1 walk's verdict).
    public var detail: String
}

/// A sync point the guest signalled with `hvc #n` (n > 0).
public struct SyncPoint: Codable, Sendable, Equatable {
    public var id: Int
    public var site: String
    /// Guest instructions executed up to and including its HVC.
    public var instructions: UInt64
}

/// The trap counts of a run, as the CLI and the collector show them.
public struct TrapSummary: Codable, Sendable, Equatable {
    public struct Event: Codable, Sendable, Equatable {
        public var register: String
        public var direction: String
        public var value: String
        public var loaded: String
        public var site: String
        public var pc: String
    }

    public var total: Int
    public var byRegister: [String: Int]
    public var bySite: [String: Int]
    public var events: [Event]

    enum CodingKeys: String, CodingKey {
        case total, byRegister = "by_register", bySite = "by_site", events
    }

    public init(_ log: TrapLog) {
        total = log.total
        byRegister = log.byRegister
        bySite = log.bySite
        events = log.accesses.map {
            Event(register: $0.register.rawValue, direction: $0.direction.rawValue, value: hex64($0.value),
                  loaded: hex64($0.loaded), site: $0.site, pc: hex($0.pc))
        }
    }
}

/// Everything one run of one snippet produced.
public struct RunReport: Codable, Sendable, Equatable {
    public var snippet: String
    public var snippetHash: String
    public var outcome: Outcome
    /// Guest instructions begun, counted by a code hook (see `GuestRun`).
    public var guestInstructions: UInt64
    public var traps: TrapSummary
    public var syncPoints: [SyncPoint]
    /// The VM control registers as the guest left them (hardware values, after any rewrite).
    public var finalRegisters: [String: String]

    enum CodingKeys: String, CodingKey {
        case snippet, snippetHash = "snippet_hash", outcome, guestInstructions = "guest_instructions",
             traps, syncPoints = "sync_points", finalRegisters = "final_registers"
    }

    /// One JSON object, keys sorted, so the same run prints the same bytes everywhere.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain Codable structs of strings and integers cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}
