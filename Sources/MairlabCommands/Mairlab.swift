import ArgumentParser
import Collector
import Formats
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Harness
import Unicorn

/// `mairlab`: the root command. Its subcommands are nested types (`Mairlab.Run`, ...), each a
/// thin layer over Harness and Collector: parse, call, print through `Console`.
public struct Mairlab: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mairlab",
        abstract: "Run AArch64 guest snippets under a modelled hypervisor and report traps and coherency.",
        version: SuiteContext.toolVersion,
        subcommands: [Run.self, List.self, Check.self, Compare.self, Diff.self, Merge.self, Explain.self, Bench.self,
                      Boot.self, Initramfs.self])

    public init() {}

    /// Parses and runs one command line, printing through `Console.current`, and returns the
    /// exit status: 0, 1 when a run or check did not turn out as expected, 2 on bad input (a
    /// manifest, a policy or cost file, a snippet that does not assemble), 64 on a usage error.
    /// Every error is turned into its status here, in one place.
    public static func execute(_ arguments: [String]) -> Int32 {
        let console = Console.current
        do {
            var command = try parse(arguments)
            try command.run()
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch let error as BadInput {
            console.error("mairlab: \(error.message)")
            return BadInput.status
        } catch let error where BadInput(error) != nil {
            console.error("mairlab: \(BadInput(error)!.message)")
            return BadInput.status
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error, columns: Console.columns)
            if code == .success {
                console.output(message)
            } else if !message.isEmpty {
                console.error(message)
            }
            return code.rawValue
        }
    }
}

extension Mairlab {
    /// A command line that names a subcommand is parsed by that subcommand alone first: the
    /// root's parse builds the argument set of every subcommand by reflection, and checks for a
    /// completion-script request with two more parsers; that was most of a short run's start
    /// (callgrind: 23.5 M of 53.8 M instructions). Every subcommand names `mairlab` as its
    /// super-command, which is what it is here and what makes ArgumentParser skip that check
    /// when it parses the subcommand as a root. Only a parse that yields the named command is
    /// taken; anything else (help, `--version`, a completion-script request, a usage error) is
    /// parsed again from the root, so its messages and status are the root's.
    static func parse(_ arguments: [String]) throws -> any ParsableCommand {
        if let name = arguments.first,
           let subcommand = configuration.subcommands.first(where: { $0.configuration.commandName == name }),
           let command = try? subcommand.parseAsRoot(Array(arguments.dropFirst())),
           type(of: command) == subcommand {
            return command
        }
        return try parseAsRoot(arguments)
    }
}

/// Bad input from the user (a file, a snippet, an argument the parser cannot check): exit
/// status 2 with one line naming what is wrong.
public struct BadInput: Error, CustomStringConvertible {
    public static let status: Int32 = 2
    public let message: String

    public init(_ message: String) { self.message = message }

    /// The library errors that are the user's input, not the tool's fault.
    init?(_ error: any Error) {
        switch error {
        case let error as HarnessError: message = error.description
        case let error as FormatError: message = error.description
        case let error as SuiteRun.ShardError: message = error.description
        case let error as SuiteFile.Problem: message = error.description
        case let error as SuiteWriter.Failure: message = error.description
        case let error as UnicornError: message = "emulator: \(error)"
        default: return nil
        }
    }

    public var description: String { message }
}

/// Where commands print: standard output and error, or buffers when a test runs a command
/// in-process. Commands take `Console.current` once and hand it to any thread they start.
public final class Console: @unchecked Sendable {
    private let lock = Lock()
    private let capture: Bool
    private var outText = ""
    private var errText = ""
    /// Progress lines are rewritten in place on a terminal and printed one per line elsewhere.
    public let isTerminal: Bool

    init(capture: Bool, isTerminal: Bool) {
        self.capture = capture
        self.isTerminal = isTerminal
    }

    public static let standard = Console(capture: false, isTerminal: isatty(2) == 1)

    @TaskLocal public static var current: Console = .standard

    /// Help text width: fixed, so that help is the same on every terminal (and in golden files).
    static let columns = 100

    /// A console that keeps what is printed, for tests.
    public static func capturing() -> Console { Console(capture: true, isTerminal: false) }

    public var standardOutput: String { lock.withLock { outText } }
    public var standardError: String { lock.withLock { errText } }

    public func output(_ text: String, terminator: String = "\n") { write(text + terminator, error: false) }

    public func error(_ text: String, terminator: String = "\n") { write(text + terminator, error: true) }

    private func write(_ text: String, error: Bool) {
        lock.withLock {
            if capture {
                if error { errText += text } else { outText += text }
            } else {
                // A reader that went away (`mairlab run --json | head -1`) is not an error of ours:
                // SIGPIPE is ignored (see `main`) and EPIPE ends the writing quietly.
                writeAll(text, to: error ? 2 : 1)
            }
        }
    }
}
