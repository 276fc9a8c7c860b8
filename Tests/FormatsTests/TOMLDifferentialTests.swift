import Foundation
import Testing
@testable import Formats

/// A fixed-seed generator (SplitMix64), so every run checks the same documents.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random TOML documents: mostly within the subset the README describes, with the documented
/// departures (dates, inf, nan, integers beyond 64 bits, floats beyond binary64) mixed in, and
/// define-once conflicts made likely by a small key pool.
struct TOMLDocumentGenerator {
    var rng: SplitMix64

    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < probability }
    mutating func pick<T>(_ choices: [T]) -> T { choices[int(0..<choices.count)] }

    mutating func document() -> String {
        let newline = chance(0.2) ? "\r\n" : "\n"
        var lines: [String] = []
        for _ in 0..<int(1..<8) {
            let indent = chance(0.1) ? pick([" ", "\t", "  "]) : ""
            switch int(0..<10) {
            case 0..<5: lines.append(indent + key() + pick([" = ", "=", " =\t", "\t= "]) + value(depth: 0) + trailer())
            case 5, 6: lines.append(indent + "[" + pick(["", " "]) + key() + pick(["", " "]) + "]" + trailer())
            case 7: lines.append(indent + "[[" + key() + "]]" + trailer())
            case 8: lines.append(indent + comment())
            default: lines.append(indent)
            }
        }
        return lines.joined(separator: newline) + (chance(0.7) ? newline : "")
    }

    mutating func trailer() -> String { chance(0.2) ? pick([" ", "\t"]) + comment() : "" }

    mutating func comment() -> String {
        var text = "#"
        for _ in 0..<int(0..<8) {
            // Mostly allowed characters; now and then one TOML 1.0 forbids in a comment.
            text += chance(0.04) ? pick(["\u{1}", "\u{7F}", "\u{1F}", "\u{0}"])
                : pick([" ", "a", "Z", "#", "=", "\"", "'", "\t", "é", "\u{85}", "😀", "[", "]"])
        }
        return text
    }

    mutating func simpleKey() -> String {
        pick(["a", "b", "c", "x-y", "_k", "1", "0x1", "true", "inf", "k2", "A", "1979-05-27",
              "\"a\"", "\"a.b\"", "\"\"", "\"é\"", "\"\\u0061\"", "\"sp ace\"", "\"\\t\"",
              "'a'", "'lit'", "'a\"b'", "'é'"])
    }

    mutating func key() -> String {
        (0..<(chance(0.3) ? int(2..<4) : 1)).map { _ in simpleKey() }.joined(separator: pick([".", " . ", ".", "\t."]))
    }

    mutating func value(depth: Int) -> String {
        switch int(0..<14) {
        case 0, 1, 2: integer()
        case 3: float()
        case 4, 5, 6: string()
        case 7: pick(["true", "false"])
        case 8: departure()
        case 9, 10, 11: depth < 3 ? array(depth: depth + 1) : integer()
        default: depth < 3 ? inlineTable(depth: depth + 1) : string()
        }
    }

    mutating func digits(_ count: Int, radix: Int = 10, underscores: Bool) -> String {
        let alphabet = Array("0123456789abcdefABCDEF".prefix(radix == 16 ? 22 : radix))
        var text = ""
        for index in 0..<count {
            if underscores && index > 0 && chance(0.2) { text += "_" }
            text.append(index == 0 && count > 1 && radix == 10 ? pick(Array(alphabet.dropFirst())) : pick(alphabet))
        }
        return text
    }

    mutating func integer() -> String {
        switch int(0..<8) {
        case 0: return pick(["0", "+0", "-0", "1", "-1", "+17", "9223372036854775807", "-9223372036854775808",
                             "9223372036854775808", "18446744073709551615", "0x7fffffffffffffff", "0x8000000000000000",
                             "0xffffffffffffffff", "0xFFFF_FFFF_FFFF_FFFF", "0o1777777777777777777777",
                             "0b" + String(repeating: "1", count: 64), "0x0", "0o0", "0b0", "0x00ff"])
        case 1: return "0x" + digits(int(1..<17), radix: 16, underscores: chance(0.3))
        case 2: return "0o" + digits(int(1..<22), radix: 8, underscores: chance(0.3))
        case 3: return "0b" + digits(int(1..<65), radix: 2, underscores: chance(0.3))
        case 4: return String(UInt64.random(in: .min ... .max, using: &rng))
        default: return pick(["", "", "+", "-"]) + digits(int(1..<20), underscores: chance(0.3))
        }
    }

    mutating func float() -> String {
        if chance(0.2) {
            return pick(["0.0", "-0.0", "+0.0", "0.1", "1e308", "1.7976931348623157e308", "4.9e-324", "2.5e-324", "1e-400",
                         "2.2250738585072014e-308", "3.14159265358979323846264338327950288", "6.02e23", "1E-3", "0e0",
                         "1e06", "1e+06", "1e-06", "9_007_199_254_740_993.0"])
        }
        var text = pick(["", "", "+", "-"]) + (chance(0.3) ? "0" : digits(int(1..<12), underscores: chance(0.2)))
        let fraction = chance(0.7), exponent = !fraction || chance(0.3)
        if fraction { text += "." + digits(int(1..<18), underscores: chance(0.1)) }
        if exponent { text += pick(["e", "E"]) + pick(["", "+", "-"]) + digits(int(1..<4), underscores: false) }
        return text
    }

    mutating func departure() -> String {
        pick(["1979-05-27", "1979-05-27T07:32:00Z", "1979-05-27T00:32:00.999999-07:00", "1979-05-27 07:32:00",
              "1979-05-27t07:32:00", "07:32:00", "00:32:00.5", "inf", "-inf", "+inf", "nan", "-nan", "+nan",
              "18446744073709551616", "-9223372036854775809", "99999999999999999999999", "0x1_0000_0000_0000_0000",
              "0o2000000000000000000000", "1e400", "-1e400", "1.7976931348623159e308"])
    }

    static let stringPieces = ["a", "Z", " ", "é", "😀", "#", "=", "[", "{", ",", "'", "\t", "\\\\", "\\\"", "\\n", "\\t",
                               "\\b", "\\f", "\\r", "\\u00e9", "\\U0001F600", "\\u0000", "\\u007f"]

    mutating func string() -> String {
        var body = ""
        switch int(0..<5) {
        case 0, 1:
            for _ in 0..<int(0..<8) { body += pick(Self.stringPieces) }
            return "\"" + body + "\""
        case 2:
            for _ in 0..<int(0..<8) { body += pick(["a", " ", "é", "\\", "\"", "#", "\t", "\\n", "😀"]) }
            return "'" + body + "'"
        case 3:
            for _ in 0..<int(0..<8) {
                body += pick(Self.stringPieces + ["\n", "\r\n", "\\\n   ", "\\  \n\n  x", "\"", "\"\"", "'''"])
            }
            return "\"\"\"" + (chance(0.5) ? "\n" : "") + body + "\"\"\""
        default:
            for _ in 0..<int(0..<8) { body += pick(["a", " ", "\\", "\"", "'", "''", "\n", "\r\n", "\t", "é"]) }
            return "'''" + (chance(0.5) ? "\n" : "") + body + "'''"
        }
    }

    mutating func array(depth: Int) -> String {
        let separator = pick([", ", ",", " , ", ",\n  ", ", # note\n  "])
        let elements = (0..<int(0..<5)).map { _ in value(depth: depth) }
        let close = chance(0.2) ? "," : ""
        return "[" + pick(["", " ", "\n  "]) + elements.joined(separator: separator) + (elements.isEmpty ? "" : close)
            + pick(["", " ", "\n"]) + "]"
    }

    mutating func inlineTable(depth: Int) -> String {
        let pairs = (0..<int(0..<4)).map { _ in key() + " = " + value(depth: depth) }
        return "{" + pick(["", " "]) + pairs.joined(separator: ", ") + pick(["", " "]) + "}"
    }

    /// One to three edits: delete, insert or replace a character, duplicate or swap lines,
    /// or cut the document short. Edits work on Unicode scalars, so the text stays UTF-8.
    mutating func mutate(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        let inserts: [Unicode.Scalar] = ["=", "\"", "'", "[", "]", "{", "}", ",", ".", "#", "\n", "\r", "\t", " ", "\\", "_",
                                         "0", "1", "x", "e", "+", "-", ":", "T", "Z", "\u{1}", "\u{7F}", "é", "a"]
        for _ in 0..<int(1..<4) {
            switch int(0..<6) {
            case 0 where !scalars.isEmpty: scalars.remove(at: int(0..<scalars.count))
            case 1: scalars.insert(pick(inserts), at: int(0..<(scalars.count + 1)))
            case 2 where !scalars.isEmpty: scalars[int(0..<scalars.count)] = pick(inserts)
            case 3, 4:
                var lines = String(String.UnicodeScalarView(scalars)).split(separator: "\n", omittingEmptySubsequences: false)
                    .map(String.init)
                let first = int(0..<lines.count), second = int(0..<lines.count)
                if int(0..<2) == 0 { lines.insert(lines[first], at: second) } else { lines.swapAt(first, second) }
                scalars = Array(lines.joined(separator: "\n").unicodeScalars)
            default: scalars = Array(scalars.prefix(int(0..<(scalars.count + 1))))
            }
        }
        return String(String.UnicodeScalarView(scalars))
    }
}

/// Our reader against Python's `tomllib` (TOML 1.0) on the same documents: both accept or both
/// reject, and accepted documents have equal values. Where the README documents a departure,
/// the expected outcome is written out below, never skipped.
@Suite struct TOMLDifferentialTests {
    static let pythonHasTOMLLib: Bool = {
        guard let result = try? ProcessRunner.run("/usr/bin/env", ["python3", "-c", "import tomllib"]) else { return false }
        return result.status == 0
    }()

    /// Reads one hex-encoded UTF-8 document a line; writes `OK FLAGS VALUE`, `ERR` or
    /// `CRASH TYPE` a line. VALUE is the encoding `canonical` below makes; FLAGS lists the
    /// README's departures the value contains (`-` for none).
    static let script = #"""
        import sys, tomllib, math, struct, datetime

        def encode(value, flags):
            if isinstance(value, bool):
                return "b:true" if value else "b:false"
            if isinstance(value, int):
                if value < -2**63 or value > 2**64 - 1:
                    flags.add("bigint")
                elif value > 2**63 - 1:
                    flags.add("u64")
                return "i:%d" % value
            if isinstance(value, float):
                if math.isinf(value) or math.isnan(value):
                    flags.add("nonfinite")
                return "f:" + struct.pack(">d", value).hex()
            if isinstance(value, str):
                return "s:" + value.encode("utf-8", "surrogatepass").hex()
            if isinstance(value, (datetime.date, datetime.time)):
                flags.add("datetime")
                return "d:" + value.isoformat()
            if isinstance(value, list):
                return "[" + ",".join(encode(item, flags) for item in value) + "]"
            if isinstance(value, dict):
                pairs = sorted((key.encode("utf-8").hex(), encode(item, flags)) for key, item in value.items())
                return "{" + ",".join(key + "=" + item for key, item in pairs) + "}"
            raise TypeError(type(value).__name__)

        with open(sys.argv[1]) as source, open(sys.argv[2], "w") as out:
            for line in source:
                text = bytes.fromhex(line.strip()).decode("utf-8")
                try:
                    flags = set()
                    value = encode(tomllib.loads(text), flags)
                    out.write("OK %s %s\n" % (",".join(sorted(flags)) or "-", value))
                except tomllib.TOMLDecodeError:
                    out.write("ERR\n")
                except Exception as error:
                    out.write("CRASH %s\n" % type(error).__name__)
        """#

    static func canonical(_ value: TOMLValue) -> String {
        switch value {
        case .string(let string): "s:" + hexBytes(string.utf8)
        case .integer(let integer): "i:\(integer)"
        case .unsignedInteger(let integer): "i:\(integer)"
        case .float(let float): "f:" + hexBytes((0..<8).reversed().map { UInt8(truncatingIfNeeded: float.bitPattern >> (8 * $0)) })
        case .bool(let bool): "b:\(bool)"
        case .array(let items): "[" + items.map { canonical($0.value) }.joined(separator: ",") + "]"
        case .table(let table):
            "{" + table.keys.map { (hexBytes($0.utf8), canonical(table[$0]!.value)) }.sorted { $0.0 < $1.0 }
                .map { $0.0 + "=" + $0.1 }.joined(separator: ",") + "}"
        }
    }

    static func hexBytes(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// What each documented departure makes our reader say (README, "The TOML subset").
    static let departureMessages: [String: [String]] = [
        "datetime": ["dates and times are not supported"],
        "nonfinite": ["inf and nan are not supported", "does not fit in 64 bits (it rounds to inf)"],
        "bigint": ["does not fit in 64 bits"],
    ]

    @Test(.enabled(if: pythonHasTOMLLib, "needs python3 (3.11 or later) with tomllib, the reference TOML 1.0 parser"))
    func agreesWithPythonTOMLLib() throws {
        var generator = TOMLDocumentGenerator(rng: SplitMix64(state: 14))
        var documents: [String] = []
        for _ in 0..<2500 {
            let document = generator.document()
            documents.append(document)
            documents.append(generator.mutate(document))
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-toml-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("in.txt"), output = folder.appendingPathComponent("out.txt")
        try documents.map { Self.hexBytes($0.utf8) }.joined(separator: "\n").appending("\n").write(to: input, atomically: true, encoding: .utf8)
        let python = try ProcessRunner.run("/usr/bin/env", ["python3", "-c", Self.script, input.path, output.path])
        try #require(python.status == 0, "python3 failed: \(python.stderr)")
        let answers = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").map(String.init)
        try #require(answers.count == documents.count)

        var tally: [String: Int] = [:], disagreements: [String] = []
        for (document, answer) in zip(documents, answers) {
            let ours: Result<TOMLTable, FormatError>
            do {
                ours = .success(try TOMLTable(parsing: document, file: "d.toml"))
            } catch {
                ours = .failure(error)
            }
            let parts = answer.split(separator: " ", maxSplits: 2).map(String.init)
            func disagree(_ why: String) {
                disagreements.append("\(why)\n  document: \(document.debugDescription)\n  tomllib: \(answer.prefix(200))\n  ours: \(ours)")
            }
            switch (parts[0], ours) {
            case ("ERR", .failure):
                tally["both reject", default: 0] += 1
            case ("ERR", .success):
                disagree("we accept what tomllib rejects")
            case ("OK", _) where parts[1] != "-" && parts[1] != "u64":
                // A documented departure: TOML 1.0 accepts it and we must reject it, saying why.
                let flags = parts[1].split(separator: ",").map(String.init).filter { $0 != "u64" }
                guard case .failure(let error) = ours else { disagree("we accept a documented departure"); continue }
                let expected = flags.flatMap { Self.departureMessages[$0] ?? [] }
                if expected.contains(where: error.message.contains) {
                    for flag in flags { tally["departure \(flag)", default: 0] += 1 }
                } else {
                    disagree("rejected for another reason than the documented departure (\(flags))")
                }
            case ("OK", .failure):
                disagree("we reject what tomllib accepts")
            case ("OK", .success(let table)):
                // Integers in 2^63...2^64-1 (flag u64) are our documented extension: TOML 1.0
                // rejects them, tomllib and we accept them, with the same value.
                if Self.canonical(.table(table)) == parts[2] {
                    tally[parts[1] == "u64" ? "both accept, above Int64.max" : "both accept", default: 0] += 1
                } else {
                    disagree("different values")
                }
            default:
                disagree("tomllib did not answer")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, the first: \(disagreements.prefix(5).joined(separator: "\n"))")
        // The documents exercise every outcome (minimums the generator's weights make certain).
        #expect(tally["both accept", default: 0] >= 500, "\(tally)")
        #expect(tally["both reject", default: 0] >= 1000, "\(tally)")
        #expect(tally["both accept, above Int64.max", default: 0] >= 20, "\(tally)")
        for flag in ["datetime", "nonfinite", "bigint"] {
            #expect(tally["departure \(flag)", default: 0] >= 20, "\(tally)")
        }
    }
}
