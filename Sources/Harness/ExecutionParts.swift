import Coherency
import FoundationEssentials
import Hypervisor
import Unicorn

/// The instruction budget and the wall-clock safety net of one execution.
struct RunLimits {
    let budget: Int
    let timeoutMilliseconds: Int

    func timedOut(at site: String) -> RunEnding {
        RunEnding(status: .timedOut, exitStatus: nil, fault: nil,
                  message: "wall-clock limit of \(timeoutMilliseconds) ms passed at \(site) before the budget did")
    }

    func budgetExhausted(at site: String, instructions: UInt64) -> RunEnding {
        guard instructions == UInt64(budget) else {
            // Never expected; said plainly rather than passed off as the budget.
            return RunEnding(status: .guestFault, exitStatus: nil, fault: nil,
                             message: "the emulator stopped the run at \(site) after \(instructions) of \(budget) instructions, for no reason it reported")
        }
        return RunEnding(status: .budgetExhausted, exitStatus: nil, fault: nil,
                         message: "did not end within its budget of \(budget) instructions (stopped at \(site))")
    }
}

/// Every trapped access, and the host time spent handling system instructions.
struct TrapRecorder {
    private(set) var log = TrapLog()
    /// Host time spent in the system-instruction hooks (emulator cost, never part of the model).
    private(set) var hostNanoseconds: UInt64 = 0
    var hostTime: Duration { .nanoseconds(hostNanoseconds) }

    mutating func record(_ access: TrappedAccess, count: Int = 1) { log.record(access, count: count) }

    /// CLOCK_MONOTONIC straight from the vDSO (ContinuousClock costs as much again per read).
    var now: UInt64 { FastPath.monotonicNanoseconds() }

    /// Adds the host time since `start` (taken with `now` before the handling began).
    mutating func addHostTime(since start: UInt64) { hostNanoseconds &+= now &- start }

    mutating func addHostNanoseconds(_ nanoseconds: UInt64) { hostNanoseconds &+= nanoseconds }
}

/// What happened at the guest's sync points.
struct SyncLog {
    var points: [SyncPoint] = []
    var migrations: [String] = []
}

/// Takes the first value of every read whose value can differ: the one execution a run with
/// no exploration makes.
public final class FirstValues: ValueChooser {
    public init() {}
    public func choose(among count: Int) -> Int { 0 }
}

/// The platform a manifest describes, built in an emulator: RAM, virtual windows, the image's
/// segments, and the stack.
enum Platform {
    static func build(_ machine: Machine, for loaded: LoadedSnippet) throws(UnicornError) {
        let manifest = loaded.manifest
        for region in manifest.memory {
            try machine.map(region.base, size: region.size)
        }
        for window in manifest.virtualWindows {
            try machine.reserveVirtualWindow(window.base, size: window.size)
        }
        for segment in loaded.image.segments {
            var bytes = segment.bytes
            if UInt64(bytes.count) < segment.memorySize {
                bytes += [UInt8](repeating: 0, count: Int(segment.memorySize) - bytes.count)
            }
            try machine.write(bytes, at: segment.physicalAddress)
        }
        let text = manifest.memory.first { $0.contains(manifest.textAddress) }
        try machine.write(.sp, manifest.stack ?? text?.end ?? 0)
    }
}

extension InvalidMemoryAccess.Kind {
    /// The kind as reports spell it: `unmapped-read` ...
    var name: String {
        switch self {
        case .unmappedRead: "unmapped-read"
        case .unmappedWrite: "unmapped-write"
        case .unmappedFetch: "unmapped-fetch"
        case .protectedRead: "protected-read"
        case .protectedWrite: "protected-write"
        case .protectedFetch: "protected-fetch"
        }
    }
}
