import Foundation
import Testing
@testable import Formats

/// What Formats/HostSupport.swift and ProcessRunner rebuilt on FoundationEssentials and the C
/// library, checked against the full Foundation (which the tests may still import) and against
/// POSIX behaviour.
struct HostSupportTests {
    @Test(arguments: [("%.2f", 2.0 / 3.0), ("%.0f", 1234.5), ("%.3f%%", 12.3456), ("%.1f", -0.05), ("%.2f", 1e21)])
    func cFormatMatchesStringFormat(format: String, value: Double) {
        #expect(cFormat(format, value) == String(format: format, value))
    }

    @Test func cFormatIntegersAndLongOutput() {
        #expect(cFormat("0x%016llx %02x", UInt64(0xFF44_0C04_00), Int32(7)) == "0x000000ff440c0400 07")
        #expect(cFormat("s1 0x%02lx  fwb %d", 0x44, Int32(1)) == "s1 0x44  fwb 1")
        // Longer than the first buffer: formatted again at its full length.
        let long = cFormat("%0600.1f", 3.25)
        #expect(long.count == 600 && long.hasSuffix("003.2"))
    }

    @Test func trimmingAndPadding() {
        #expect(" \t a b \t ".trimmingBlanks() == "a b")
        #expect("\n a \n".trimmingBlanks() == "\n a \n")
        #expect("\n\t a b\r\n ".trimmingWhitespace() == "a b")
        #expect("   ".trimmingWhitespace() == "" && "".trimmingBlanks() == "")
        #expect("ab".padded(to: 5) == "ab   " && "abcdef".padded(to: 3) == "abcdef")
    }

    @Test func systemReasonNamesTheErrno() {
        #expect(throws: (any Error).self) { _ = try Data(contentsOf: URL(fileURLWithPath: "/nonexistent/mairlab")) }
        do {
            _ = try Data(contentsOf: URL(fileURLWithPath: "/nonexistent/mairlab"))
        } catch {
            #expect(systemReason(error) == "No such file or directory")
        }
    }

    @Test func lockSerialisesThreads() {
        let lock = Lock()
        final class Counter: @unchecked Sendable { var value = 0 }
        let counter = Counter()
        let group = DispatchGroup()
        for _ in 0..<4 {
            group.enter()
            startThread(stackSize: 1 << 20) {
                for _ in 0..<10_000 { lock.withLock { counter.value += 1 } }
                group.leave()
            }
        }
        group.wait()
        #expect(counter.value == 40_000)
    }
}

struct ProcessRunnerTests {
    @Test func bothPipesDrainedAtOnce() throws {
        // 1 MiB on each pipe, interleaved: reading one to its end first would deadlock.
        let script = "for i in $(seq 1 16); do head -c 65536 /dev/zero | tr '\\000' o; head -c 65536 /dev/zero | tr '\\000' e >&2; done"
        let result = try ProcessRunner.run("/bin/sh", ["-c", script])
        #expect(result.status == 0 && result.signal == nil)
        #expect(result.stdout.utf8.count == 1 << 20 && result.stderr.utf8.count == 1 << 20)
        #expect(result.stdout.allSatisfy { $0 == "o" } && result.stderr.allSatisfy { $0 == "e" })
    }

    @Test func directoryEnvironmentAndStandardInput() throws {
        let result = try ProcessRunner.run("/bin/sh", ["-c", "pwd; echo \"$MAIRLAB_X\"; cat; echo end"],
                                           in: URL(fileURLWithPath: "/tmp"), environment: ["MAIRLAB_X": "y z", "PATH": "/usr/bin:/bin"])
        #expect(result.stdout == "/tmp\ny z\nend\n")
    }

    @Test func exitStatusAndSignal() throws {
        #expect(try ProcessRunner.run("/bin/sh", ["-c", "exit 3"]).status == 3)
        let killed = try ProcessRunner.run("/bin/sh", ["-c", "kill -TERM $$"])
        #expect(killed.signal == 15 && killed.status == 15)
    }

    @Test func aMissingToolIsAnErrorNamingIt() {
        do {
            _ = try ProcessRunner.run("/nonexistent/tool", [])
            Issue.record("a missing tool started")
        } catch {
            #expect("\(error)".contains("/nonexistent/tool") && "\(error)".contains("No such file or directory"))
        }
    }
}
