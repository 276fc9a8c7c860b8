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

    /// `fixed` against printf's `%.Nf` (through String(format:)): exact ties (which round to
    /// even), values either side of them, subnormals, signed zeros, random magnitudes, and
    /// what it leaves to cFormat.
    @Test func fixedMatchesPrintf() {
        var values: [Double] = [0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.375, 1e-310, -5e-324, 0.0049999, 0.005, 0.015,
                                1234.5, 99.995, 0x1p52 + 0.5, 0x1p53 - 1, 0x1p53, 1e300, .infinity, -.infinity, .nan]
        var seed: UInt64 = 7
        for _ in 0..<3000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let bits = seed >> 11, scale = Double(Int(seed & 63)) - 40
            values.append(Double(bits) / 0x1p53 * pow(2, scale))
            values.append(Double(Int(bits % 200_000) - 100_000) / 8)   // ties at 0, 1 and 2 digits
        }
        for value in values {
            for digits in 0...6 {
                #expect(fixed(value, digits: digits) == String(format: "%.\(digits)f", value), "\(value) to \(digits)")
            }
        }
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

struct AffinityTests {
    static func allowed() -> [Int] {
        var mask = [UInt64](repeating: 0, count: 16)
        guard GNU.getaffinity(0, 128, &mask) == 0 else { return [] }
        return (0..<1024).filter { mask[$0 / 64] & (1 << UInt64($0 % 64)) != 0 }
    }

    @Test func oneCPUInsideAndAllAfter() {
        let before = Self.allowed()
        #expect(!before.isEmpty)
        let inside = onOneCPU { Self.allowed() }
        #expect(inside == [before.last!])
        #expect(Self.allowed() == before)
    }
}
