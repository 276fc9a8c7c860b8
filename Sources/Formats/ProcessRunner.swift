import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Runs an external tool (the assembler, the linker, llvm-objdump, git) and collects what it
/// printed. Both pipes are drained at once (poll): reading one to its end first deadlocks as
/// soon as the tool fills the other's 64 KiB buffer.
public enum ProcessRunner {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// The signal that ended the tool, when one did (`status` is then its number).
        public var signal: Int32? = nil
    }

    /// Starts `executable` (a path) with `arguments`, standard input /dev/null, in `directory`
    /// and with `environment` when given (else this process's), and waits for it.
    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String]? = nil) throws -> Result {
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        // Close-on-exec: a tool started at the same time by another thread must not hold our
        // write ends open (its pipe would never reach end of file).
        guard GNU.pipe2(&out, O_CLOEXEC) == 0 else { throw failure(executable, errno) }
        guard GNU.pipe2(&err, O_CLOEXEC) == 0 else {
            let code = errno
            close(out[0]); close(out[1])
            throw failure(executable, code)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        if let directory { _ = GNU.addchdir(&actions, directory.path) }
        var child: pid_t = 0
        let code = spawn([executable] + arguments, environment: environment, actions: &actions, pid: &child)
        close(out[1]); close(err[1])
        guard code == 0 else {
            close(out[0]); close(err[0])
            throw failure(executable, code)
        }
        let (stdout, stderr) = drain(out[0], err[0])
        let status = wait(for: child)
        return Result(status: status.code, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self), signal: status.signal)
    }

    /// `git ARGS` in the current directory: its output trimmed, or nil when git fails or is absent.
    public static func git(_ arguments: [String]) -> String? {
        guard let result = try? run("/usr/bin/env", ["git"] + arguments), result.status == 0 else { return nil }
        return result.stdout.trimmingWhitespace()
    }

    private static func failure(_ executable: String, _ code: Int32) -> FormatError {
        FormatError(file: executable, line: nil, message: "cannot start: \(errnoReason(code))")
    }

    /// posix_spawn of `command` (a path, then the arguments) with `actions`, `environment`
    /// when given (else this process's), no blocked signal and every signal's default action:
    /// its error number (0: started as `pid`).
    public static func spawn(_ command: [String], environment: [String: String]? = nil,
                             actions: inout posix_spawn_file_actions_t, pid: inout pid_t) -> Int32 {
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        return withDefaultSignals { attributes in
            envp == nil ? posix_spawn(&pid, command[0], &actions, &attributes, &argv, environ)
                : posix_spawn(&pid, command[0], &actions, &attributes, &argv, &envp!)
        }
    }

    /// Spawn attributes that give the child no blocked signal and every signal's default action
    /// (as Foundation's Process did): this process ignores SIGPIPE (`main`) and a suite's
    /// threads block SIGINT and SIGTERM, neither of which a tool should inherit.
    private static func withDefaultSignals<T>(_ body: (inout posix_spawnattr_t) -> T) -> T {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return body(&attributes)
    }

    /// Reads both pipes to their end, whichever has bytes first, and closes them.
    private static func drain(_ first: Int32, _ second: Int32) -> ([UInt8], [UInt8]) {
        var fds = [pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second, events: Int16(POLLIN), revents: 0)]
        var collected: [[UInt8]] = [[], []]
        var chunk = [UInt8](repeating: 0, count: 65536)
        var open = 2
        while open > 0 {
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in 0..<2 where fds[index].fd >= 0 && fds[index].revents != 0 {
                let count = read(fds[index].fd, &chunk, chunk.count)
                if count > 0 {
                    collected[index].append(contentsOf: chunk[..<count])
                } else if count == 0 || errno != EINTR {
                    close(fds[index].fd)
                    fds[index].fd = -1  // poll skips a negative descriptor
                    open -= 1
                }
            }
        }
        fds.filter { $0.fd >= 0 }.forEach { close($0.fd) }
        return (collected[0], collected[1])
    }

    /// The child's exit status, or the number of the signal that ended it (as Process reported).
    private static func wait(for pid: pid_t) -> (code: Int32, signal: Int32?) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7F
        return signal == 0 ? ((status >> 8) & 0xFF, nil) : (signal, signal)
    }
}
