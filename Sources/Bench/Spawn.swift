import Dispatch
import Formats
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Child processes started with posix_spawn and reaped with wait4, so that their wall time
/// and peak resident memory are measured without Foundation's own threads in between.
enum Spawn {
    struct Result {
        let status: Int32
        let nanoseconds: UInt64
        /// Peak resident set of the child (ru_maxrss, KiB).
        let maxResidentKiB: Int
    }

    /// Starts every command at once (output to /dev/null) and waits for all: the time until the
    /// last one ended, and each one's result.
    static func together(_ commands: [[String]]) throws -> (nanoseconds: UInt64, results: [Result]) {
        let start = DispatchTime.now().uptimeNanoseconds
        let pids = try commands.map { try Self.start($0) }
        var results: [Result] = []
        for pid in pids {
            var status: Int32 = 0
            var usage = rusage()
            guard wait4(pid, &status, 0, &usage) == pid else { throw BenchError("wait4 failed for \(pid)") }
            let ended = DispatchTime.now().uptimeNanoseconds
            let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            results.append(Result(status: exit, nanoseconds: ended - start, maxResidentKiB: usage.ru_maxrss))
        }
        return (results.map(\.nanoseconds).max() ?? 0, results)
    }

    static func run(_ command: [String]) throws -> Result {
        try together([command]).results[0]
    }

    private static func start(_ command: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let error = ProcessRunner.spawn(command, actions: &actions, pid: &pid)
        guard error == 0 else { throw BenchError("cannot start \(command[0]): \(errnoReason(error))") }
        return pid
    }
}
