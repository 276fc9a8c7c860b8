import Dispatch
import Formats
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C, SIGTERM and SIGHUP during a suite: the first stops it after the runs in progress
/// (each finished run is already on disk), the second quits at once (the file then has no
/// closing record and `--resume` finishes it).
final class Interruption: @unchecked Sendable {
    private let lock = Lock()
    private var caught: String?
    private var sources: [DispatchSourceSignal] = []
    private static let signals: [(Int32, String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")]

    /// The first signal caught, if any.
    var signal: String? {
        lock.lock()
        defer { lock.unlock() }
        return caught
    }

    static func install(console: Console) -> Interruption {
        let interruption = Interruption()
        for (number, name) in signals {
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                guard interruption.catchFirst(name) else { _exit(130) }
                console.error("\nmairlab: \(name): stopping after the runs in progress (again to quit now; finished runs are saved)")
            }
            source.resume()
            interruption.sources.append(source)
        }
        return interruption
    }

    /// True for the first signal.
    private func catchFirst(_ name: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard caught == nil else { return false }
        caught = name
        return true
    }

    func uninstall() {
        for source in sources { source.cancel() }
        for (number, _) in Self.signals { Glibc.signal(number, SIG_DFL) }
    }
}

/// The first failure to write a suite record (the suite goes on; the records are kept).
final class WriteFailures: @unchecked Sendable {
    private let lock = Lock()
    private var failure: String?

    func note(_ description: String) {
        lock.lock()
        defer { lock.unlock() }
        if failure == nil { failure = description }
    }

    var first: String? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }
}
