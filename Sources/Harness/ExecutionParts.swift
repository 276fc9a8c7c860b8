import Coherency
import Foundation
import Hypervisor
import Unicorn

/// Guest instructions begun, the budget, and the wall-clock safety net.
struct InstructionCounter {
    let budget: Int
    let timeout: Duration
    private(set) var instructions: UInt64 = 0
    private var deadline: ContinuousClock.Instant?
    private(set) var timedOut = false
    private let clock = ContinuousClock()

    init(budget: Int, timeout: Duration) {
        self.budget = budget
        self.timeout = timeout
    }

    mutating func start() { deadline = clock.now + timeout }

    /// Counts one instruction; true when the wall-clock limit has passed and the run must stop.
    /// Checked every 64 Ki instructions. Unicorn's own timeout (a timer thread per
    /// uc_emu_start) is not used: with several engines running at once it was seen to end runs
    /// early, far from any limit.
    mutating func count() -> Bool {
        instructions += 1
        guard instructions & 0xFFFF == 0, let deadline, clock.now > deadline else { return false }
        timedOut = true
        return true
    }

    /// How a run that stopped without signalling its end ended.
    func ending(_ reason: StopReason, at site: String) -> RunEnding {
        if timedOut {
            return RunEnding(status: .timedOut, exitStatus: nil, fault: nil,
                             message: "wall-clock limit of \(timeout) passed at \(site) before the budget did")
        }
        switch reason {
        case .countExhausted where instructions < UInt64(budget):
            // Never expected; said plainly rather than passed off as the budget.
            return RunEnding(status: .guestFault, exitStatus: nil, fault: nil,
                             message: "the emulator stopped the run at \(site) after \(instructions) of \(budget) instructions, for no reason it reported")
        case .countExhausted:
            return RunEnding(status: .budgetExhausted, exitStatus: nil, fault: nil,
                             message: "did not end within its budget of \(budget) instructions (stopped at \(site))")
        case .timedOut, .reachedUntil, .stopped:
            return RunEnding(status: .guestFault, exitStatus: nil, fault: nil,
                             message: "stopped at \(site) without signalling an end")
        }
    }
}

/// Every trapped access, and the host time spent handling system instructions.
struct TrapRecorder {
    private(set) var log = TrapLog()
    /// Host time spent in the system-instruction hooks (emulator cost, never part of the model).
    private(set) var hostTime: Duration = .zero
    private let clock = ContinuousClock()

    mutating func record(_ access: TrappedAccess) { log.record(access) }

    var now: ContinuousClock.Instant { clock.now }

    /// Adds the host time since `start` (taken with `now` before the handling began).
    mutating func addHostTime(since start: ContinuousClock.Instant) { hostTime += clock.now - start }
}

/// What the memory hooks saw: the last valid data access (Unicorn reports aborts without
/// FAR) and the last invalid one.
struct AccessTracker {
    var last: MemoryAccess?
    var invalid: InvalidMemoryAccess?
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
