import Foundation
import Testing
@testable import Formats

/// The shipped manifests, damaged at random (fixed seeds): reading one never traps, and ends
/// either in a manifest or in a FormatError that names the file and a line inside it.
@Suite struct ManifestFuzzTests {
    static let guestImages = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("guest-images")

    static func shippedManifests() throws -> [(name: String, bytes: [UInt8])] {
        try FileManager.default.contentsOfDirectory(atPath: guestImages.path)
            .filter { $0.hasSuffix(".toml") }.sorted()
            .map { ($0, [UInt8](try Data(contentsOf: guestImages.appendingPathComponent($0)))) }
    }

    /// nil when `bytes` is a manifest or fails as it should; else what is wrong with the error.
    static func problem(_ bytes: [UInt8], file: String) -> String? {
        do {
            _ = try Manifest(utf8: bytes, file: file)
            return nil
        } catch {
            return problem(with: error, file: file, lines: bytes.count { $0 == UInt8(ascii: "\n") } + 1)
        }
    }

    static func problem(with error: FormatError, file: String, lines: Int) -> String? {
        guard error.file == file else { return "names file \(error.file)" }
        guard let line = error.line, (1...lines).contains(line) else { return "no line in range: \(error)" }
        if let column = error.column, column < 1 { return "column \(column): \(error)" }
        guard error.description.hasPrefix("\(file):\(line)") else { return "description \(error.description)" }
        return nil
    }

    @Test func everyShippedManifestParses() throws {
        let manifests = try Self.shippedManifests()
        #expect(manifests.count >= 20)
        for (name, bytes) in manifests {
            #expect(Self.problem(bytes, file: name) == nil)
            #expect(throws: Never.self) { try Manifest(utf8: bytes, file: name) }
        }
    }

    /// 120 random byte edits of each shipped manifest: bit flips, bytes set to values that
    /// break UTF-8 or the syntax, deletions, insertions, duplicated spans, truncations.
    @Test func randomByteMutationsNeverTrap() throws {
        var rng = SplitMix64(state: 0x14)
        let interesting: [UInt8] = [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x22, 0x23, 0x27, 0x2C, 0x2E, 0x30, 0x39, 0x3D, 0x5B, 0x5D,
                                    0x5C, 0x5F, 0x78, 0x7B, 0x7D, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
        var cases = 0, parsed = 0, problems: [String] = []
        let manifests = try Self.shippedManifests(), manifestCount = manifests.count
        for (name, original) in manifests {
            for _ in 0..<120 {
                var bytes = original
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<6, using: &rng) {
                    case 0: bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                    case 1: bytes[at] = interesting.randomElement(using: &rng)!
                    case 2: bytes.remove(at: at)
                    case 3: bytes.insert(interesting.randomElement(using: &rng)!, at: at)
                    case 4:
                        let end = min(bytes.count, at + Int.random(in: 1...40, using: &rng))
                        bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...bytes.count, using: &rng))
                    default: bytes = Array(bytes.prefix(at))
                    }
                    if bytes.isEmpty { bytes = [0x5B] }
                }
                cases += 1
                if let problem = Self.problem(bytes, file: name) {
                    problems.append("\(name) \(bytes): \(problem)")
                } else if (try? Manifest(utf8: bytes, file: name)) != nil {
                    parsed += 1
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        #expect(cases == 120 * manifestCount)
        // Some edits (in comments or descriptions) leave a valid manifest; most do not.
        #expect(parsed > 0 && parsed < cases / 2, "\(parsed) of \(cases) still parse")
    }

    /// Every integer of every shipped manifest replaced by each boundary value: the ranges of
    /// issue 14 turn them into errors naming the line, never into a trap.
    @Test func boundaryNumbersInEveryNumericField() throws {
        let boundaries = ["0", "-1", "4096", "65536", "86400001", "1000001", "1_000_000_000_001", "9223372036854775808",
                          "0xffffffffffffffff", "18446744073709551616", "0xfffffffffffff000", "0x1000000000000",
                          "0xffff000000000000", "1e308", "inf", "-0"]
        var cases = 0, problems: [String] = []
        for (name, bytes) in try Self.shippedManifests() {
            let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                // `key = <integer>`: the value is the token after '='.
                guard let equals = line.firstIndex(of: "="),
                      let first = line[line.index(after: equals)...].drop(while: { $0 == " " }).first,
                      first.isNumber else { continue }
                let key = line[..<equals]
                for value in boundaries {
                    var edited = lines
                    edited[index] = key + "= " + value
                    let text = edited.joined(separator: "\n")
                    cases += 1
                    if let problem = Self.problem(Array(text.utf8), file: name) {
                        problems.append("\(name):\(index + 1) \(value): \(problem)")
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        #expect(cases > 1000, "\(cases) cases")
    }

    /// The file path reads bytes the same way and names the display path.
    @Test func mutatedFilesOnDiskAreReportedByDisplayPath() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = SplitMix64(state: 0x1414)
        var failures = 0, problems: [String] = []
        for (name, original) in try Self.shippedManifests() {
            for _ in 0..<4 {
                var bytes = original
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = [0xFF, 0x00, 0x22, 0x5B].randomElement(using: &rng)!
                let url = folder.appendingPathComponent(name)
                try Data(bytes).write(to: url)
                do {
                    _ = try Manifest(contentsOf: url, displayPath: "guest-images/" + name)
                } catch {
                    failures += 1
                    if let problem = Self.problem(with: error, file: "guest-images/" + name,
                                                  lines: bytes.count { $0 == UInt8(ascii: "\n") } + 1) {
                        problems.append(problem)
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        #expect(failures > 0)
    }
}
