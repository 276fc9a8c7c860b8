import Formats
import Foundation
import Testing

/// A reader that goes away (`mairlab run --json | head -1`) must not kill the process with
/// SIGPIPE: `main` ignores the signal, and a write that fails with EPIPE ends the output
/// quietly, with the command's own exit status.
@Suite struct PipeTests {
    /// Runs the binary with its standard output a pipe whose read end is already closed, so
    /// every write fails with EPIPE (or raises SIGPIPE, were it not ignored).
    static func runIntoAClosedPipe(_ arguments: [String]) throws -> (reason: Process.TerminationReason, status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = arguments
        process.currentDirectoryURL = CLI.repository
        let output = Pipe(), errors = Pipe()
        try output.fileHandleForReading.close()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationReason, process.terminationStatus, String(decoding: stderr, as: UTF8.self))
    }

    @Test func aRunIntoAClosedPipeExitsCleanly() throws {
        let result = try Self.runIntoAClosedPipe(["run", "guest-images/linux-2015-mmu-on", "--json"])
        #expect(result.reason == .exit)
        #expect(result.status == 0)
        #expect(result.stderr == "")
    }

    /// The shell form, with a megabyte of output (one line) so that `head` leaves mid-write.
    @Test func headLeavesEarlyAndTheProducerExitsZero() throws {
        let command = "'\(CLI.binary.path)' explain --table --json | head -c 2; echo; echo \"status ${PIPESTATUS[0]}\""
        let result = try ProcessRunner.run("/bin/bash", ["-c", command], in: CLI.repository)
        #expect(result.stdout == "[{\nstatus 0\n")
        #expect(result.stderr == "")
    }
}
