import Foundation
import Testing
@testable import Formats

/// Issue 14, the reader's side: control characters in comments, malformed UTF-8, the
/// departures the README documents (inf, nan, dates), and time linear in the input.
@Suite struct TOMLInputTests {
    static let file = "t.toml"

    static func outcome(_ text: String) -> String {
        do {
            _ = try TOMLTable(parsing: text, file: file)
            return "accepted"
        } catch {
            return error.description
        }
    }

    static func outcome(bytes: [UInt8]) -> String {
        do {
            _ = try TOMLTable(utf8: bytes, file: file)
            return "accepted"
        } catch {
            return error.description
        }
    }

    /// TOML 1.0 (Comment): "Control characters other than tab (U+0000 to U+0008, U+000A to
    /// U+001F, U+007F) are not permitted in comments." LF and CRLF end a comment.
    @Test(arguments: [
        ("# a\u{1}b", "t.toml:1:4: control character 0x1 is not allowed in a comment"),
        ("# \u{0}", "t.toml:1:3: control character 0x0 is not allowed in a comment"),
        ("a = 1 # x\u{7F}", "t.toml:1:10: control character 0x7f is not allowed in a comment"),
        ("a = 1\n# \u{8}", "t.toml:2:3: control character 0x8 is not allowed in a comment"),
        ("#\u{B}", "t.toml:1:2: control character 0xb is not allowed in a comment"),
        ("#\u{C}", "t.toml:1:2: control character 0xc is not allowed in a comment"),
        ("# \u{1F}", "t.toml:1:3: control character 0x1f is not allowed in a comment"),
        // A CR is a line end only before LF.
        ("# a\rb = 1", "t.toml:1:4: control character 0xd is not allowed in a comment"),
        ("# a\r", "t.toml:1:4: control character 0xd is not allowed in a comment"),
        // Inside an array, where comments may sit between elements.
        ("a = [ # x\u{1B}[0m\n 1]", "t.toml:1:10: control character 0x1b is not allowed in a comment"),
        // Columns count characters, not bytes.
        ("# é\u{2}", "t.toml:1:4: control character 0x2 is not allowed in a comment"),
        // Allowed: tab, CRLF as the line end, non-ASCII (C1 controls are not in the list).
        ("# a\tb\na = 1", "accepted"),
        ("a = 1 # c\r\nb = 2 # d\r\n", "accepted"),
        ("# \u{85} \u{9F} é \u{1F600}", "accepted"),
        ("a = [ # one\r\n 1, # two\n 2 ]", "accepted"),
    ])
    func controlCharactersInComments(text: String, expected: String) {
        #expect(Self.outcome(text) == expected)
    }

    static func bytes(_ text: String, _ tail: [UInt8]) -> [UInt8] { Array(text.utf8) + tail }

    static let utf8Cases: [([UInt8], String)] = [
        (bytes("", [0xFF]), "t.toml:1:1: not UTF-8 text (byte 0xff does not begin a valid UTF-8 sequence)"),
        (bytes("a = 1\nb = \"", [0xFE, 0x22, 0x0A]),
         "t.toml:2:6: not UTF-8 text (byte 0xfe does not begin a valid UTF-8 sequence)"),
        // After a two-byte character the bad byte is at column 7, not 8.
        (bytes("a = \"é", [0x80, 0x22]), "t.toml:1:7: not UTF-8 text (byte 0x80 does not begin a valid UTF-8 sequence)"),
        // Overlong '/' (C0 AF) and overlong NUL (E0 80 80).
        (bytes("# ", [0xC0, 0xAF]), "t.toml:1:3: not UTF-8 text (byte 0xc0 does not begin a valid UTF-8 sequence)"),
        (bytes("# ", [0xE0, 0x80, 0x80]), "t.toml:1:3: not UTF-8 text (byte 0xe0 does not begin a valid UTF-8 sequence)"),
        // A surrogate, U+D800 (ED A0 80), and U+110000 (F4 90 80 80).
        (bytes("a = 1\r\n# ", [0xED, 0xA0, 0x80]), "t.toml:2:3: not UTF-8 text (byte 0xed does not begin a valid UTF-8 sequence)"),
        (bytes("# ", [0xF4, 0x90, 0x80, 0x80]), "t.toml:1:3: not UTF-8 text (byte 0xf4 does not begin a valid UTF-8 sequence)"),
        // A three-byte sequence cut short by the end of the file, then by a space.
        (bytes("\n\n# ab", [0xE2, 0x82]), "t.toml:3:5: not UTF-8 text (byte 0xe2 does not begin a valid UTF-8 sequence)"),
        (bytes("# ", [0xE2, 0x82, 0x20]), "t.toml:1:3: not UTF-8 text (byte 0xe2 does not begin a valid UTF-8 sequence)"),
        // Valid: the largest scalar U+10FFFF, U+FFFD, U+D7FF just below the surrogates.
        (bytes("# ", [0xF4, 0x8F, 0xBF, 0xBF, 0xEF, 0xBF, 0xBD, 0xED, 0x9F, 0xBF]), "accepted"),
    ]

    /// TOML 1.0 (Spec): "A TOML file must be a valid UTF-8 encoded Unicode document." What is
    /// valid is the Unicode Standard's table 3-7: no overlong forms, no surrogates, nothing
    /// above U+10FFFF, no stray continuation bytes, no sequence cut short.
    @Test(arguments: utf8Cases)
    func malformedUTF8IsReportedWhereItIs(bytes: [UInt8], expected: String) {
        #expect(Self.outcome(bytes: bytes) == expected)
    }

    /// Every byte string the Swift standard library decodes without repair, and no other, is
    /// accepted: checked on all one-, two- and three-byte strings of interesting bytes.
    @Test func utf8CheckAgreesWithTheStandardLibrary() {
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
                                    0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        var checked = 0, disagreements: [[UInt8]] = []
        for a in interesting {
            for b in interesting {
                for c in interesting {
                    for bytes in [[a], [a, b], [a, b, c], [a, b, c, 0x80], [a, b, c, 0xBF]] {
                        checked += 1
                        let ours = UTF8Check.firstMalformedByte(in: bytes) == nil
                        let standard = String(validating: bytes, as: UTF8.self) != nil
                        if ours != standard { disagreements.append(bytes) }
                    }
                }
            }
        }
        #expect(checked == 25 * 25 * 25 * 5)
        #expect(disagreements.isEmpty)
    }

    /// Files are read as bytes, so the error names the path the user gave.
    @Test func aFileThatIsNotUTF8NamesItsLine() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-utf8-\(UUID().uuidString).toml")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(Array("description = \"x\"\n[image]\ntext = 0x4008".utf8) + [0xC3, 0x28]).write(to: url)
        #expect(throws: FormatError(file: "guest-images/bad.toml", line: 3, column: 14,
                                    message: "not UTF-8 text (byte 0xc3 does not begin a valid UTF-8 sequence)")) {
            try Manifest(contentsOf: url, displayPath: "guest-images/bad.toml")
        }
    }

    /// README, "The TOML subset": dates, times, inf and nan are valid TOML 1.0 that this reader
    /// rejects; each error names the field, so a cost file's `inf` says which parameter it is.
    @Test(arguments: [
        ("a = inf", "t.toml:1:5: field 'a': inf and nan are not supported, found 'inf'"),
        ("a = -inf", "t.toml:1:5: field 'a': inf and nan are not supported, found '-inf'"),
        ("a = +nan", "t.toml:1:5: field 'a': inf and nan are not supported, found '+nan'"),
        ("[t]\nb = [1.0, nan]", "t.toml:2:11: field 't.b[1]': inf and nan are not supported, found 'nan'"),
        // 1e400 is beyond binary64: TOML 1.0 would make it inf.
        ("a = 1e400", "t.toml:1:5: field 'a': float '1e400' does not fit in 64 bits (it rounds to inf)"),
        ("a = -1_0e3_08", "t.toml:1:5: field 'a': float '-1_0e3_08' does not fit in 64 bits (it rounds to inf)"),
        ("p = { q = 1979-05-27 }", "t.toml:1:11: field 'p.q': dates and times are not supported, found '1979-05-27'"),
        ("a = 1979-05-27T07:32:00Z", "t.toml:1:5: field 'a': dates and times are not supported, found '1979-05-27T07'"),
        ("a = 07:32:00", "t.toml:1:5: field 'a': dates and times are not supported, found '07'"),
        // Not departures: these are not TOML either.
        ("a = infinity", "t.toml:1:5: expected a value, found 'infinity' (strings need quotes)"),
        ("a = 1979", "accepted"),
        ("a = 1e308", "accepted"),
        ("a = 1e-400", "accepted"),
    ])
    func documentedDepartures(text: String, expected: String) {
        #expect(Self.outcome(text) == expected)
    }

    // MARK: Linear time

    /// The time `body` takes, in seconds.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let elapsed = try clock.measure(body)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// 20,000 integers on one line. Counting the column at every value made such lines
    /// quadratic once; the column is now counted only for an error. A quadratic reader needs
    /// ~2 * 10^8 byte visits here, far beyond the bound even in a debug build.
    @Test func aLongOneLineArrayParsesQuickly() throws {
        let count = 20_000
        let text = "a = [" + (0..<count).map(String.init).joined(separator: ", ") + "]"
        var root: TOMLTable?
        let elapsed = try Self.seconds { root = try TOMLTable(parsing: text, file: Self.file) }
        let values = try #require(root).array("a", of: Int64.self)
        #expect(values.count == count)
        #expect(values.last == Int64(count - 1))
        #expect(elapsed < 1, "20,000 integers took \(elapsed) s")
    }

    /// The same line with an error at its end: the one column counted is exact and cheap.
    @Test func anErrorAtTheEndOfALongLineIsQuickAndExact() {
        let prefix = "a = [" + (0..<20_000).map(String.init).joined(separator: ", ")
        var message = ""
        let elapsed = Self.seconds { message = Self.outcome(prefix + " x]") }
        #expect(message == "t.toml:1:\(prefix.count + 2): expected ',' or ']' in array, found 'x'")
        #expect(elapsed < 1, "took \(elapsed) s")
    }

    /// Inline tables, long strings and comments on one line: each is linear too.
    @Test func otherLongLinesParseQuickly() throws {
        let table = "t = {" + (0..<20_000).map { "k\($0) = \($0)" }.joined(separator: ", ") + "}"
        let string = "s = \"" + String(repeating: "é", count: 200_000) + "\" # " + String(repeating: "x", count: 200_000)
        var tables = 0, characters = 0
        let elapsed = try Self.seconds {
            tables = try TOMLTable(parsing: table, file: Self.file).table("t").keys.count
            characters = try TOMLTable(parsing: string, file: Self.file).string("s").count
        }
        #expect(tables == 20_000)
        #expect(characters == 200_000)
        #expect(elapsed < 2, "took \(elapsed) s")
    }
}
