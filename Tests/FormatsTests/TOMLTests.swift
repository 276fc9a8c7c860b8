import Testing
@testable import Formats

enum TOMLTests {
    static let file = "guest-images/foo.toml"

    static func parse(_ text: String) throws(FormatError) -> TOMLTable {
        try TOMLTable(parsing: text, file: file)
    }

    /// The description of the `FormatError` that `body` throws, or nil if it throws none.
    static func failure(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as FormatError {
            return error.description
        } catch {
            return "not a FormatError: \(error)"
        }
    }

    @Suite struct Parsing {
        static let manifest = #"""
        # A snippet manifest using every supported form.
        name = "fb-alias"            # basic string
        "quoted key" = 'C:\raw\path'
        budget = 1_000_000
        description = """
        first line
          second \"line\"\
           joined"""

        [platform]
        ram.base = 0x4000_0000
        ram.size = 0o20_000_000
        high = 0xffff000000000000
        mask = 0b1010_1010
        offset = -16
        scale = 1.5
        tiny = -2.5e-3
        enabled = true
        cached = false
        tags = [
            "alpha",   # comments are allowed inside arrays
            'beta',
            "\u00e9\t\\",
        ]
        window = { base = 0x1000, size = 0x200, name = "fb" }

        dma = [{ name = "gpu", window = { base = 0x10 } }, { name = "nic" }]

        [[memory]]
        base = 0x40000000
        size = 0x100000

        [[memory]]
        base = 0x50000000
        size = 0x2000
        flags.cacheable = true

        [memory.attributes]
        mair = 0xff

        [host.vmm]
        on_hvc = [1, 2, 3,]
        """#

        @Test func readsEveryForm() throws {
            let root = try parse(Self.manifest)
            #expect(root.keys == ["name", "quoted key", "budget", "description", "platform", "memory", "host"])
            #expect(try root.string("name") == "fb-alias")
            #expect(try root.string("quoted key") == #"C:\raw\path"#)
            #expect(try root.int64("budget") == 1_000_000)
            #expect(try root.string("description") == "first line\n  second \"line\"joined")

            let platform = try root.table("platform")
            #expect(platform.path == "platform")
            #expect(platform.line == 10)
            #expect(try platform.table("ram").uint64("base") == 0x4000_0000)
            #expect(try platform.table("ram").uint64("size") == 0o20_000_000)
            #expect(try platform.uint64("high") == 0xffff_0000_0000_0000)
            #expect(platform["high"]?.value == .unsignedInteger(0xffff_0000_0000_0000))
            #expect(try platform.uint64("mask") == 0xAA)
            #expect(try platform.int64("offset") == -16)
            #expect(try platform.required("scale", as: Double.self) == 1.5)
            #expect(try platform.required("tiny", as: Double.self) == -2.5e-3)
            #expect(try platform.bool("enabled") == true)
            #expect(try platform.bool("cached") == false)
            #expect(try platform.array("tags", of: String.self) == ["alpha", "beta", "\u{e9}\t\\"])
            #expect(platform["tags"]?.value == .array([
                TOMLItem(value: .string("alpha"), line: 21),
                TOMLItem(value: .string("beta"), line: 22),
                TOMLItem(value: .string("\u{e9}\t\\"), line: 23),
            ]))

            let window = try platform.table("window")
            #expect(window.path == "platform.window")
            #expect(window.line == 25)
            #expect(window.keys == ["base", "size", "name"])
            #expect(try window.uint64("size") == 0x200)

            let dma = try platform.arrayOfTables("dma")
            #expect(try dma.map { try $0.string("name") } == ["gpu", "nic"])
            #expect(try dma[0].table("window").path == "platform.dma[0].window")
            #expect(failure { _ = try dma[1].uint64("window") }
                == "guest-images/foo.toml:27: missing required field 'platform.dma[1].window'")

            let memory = try root.arrayOfTables("memory")
            #expect(memory.map(\.path) == ["memory[0]", "memory[1]"])
            #expect(memory.map(\.line) == [29, 33])
            #expect(try memory.map { try $0.uint64("base") } == [0x4000_0000, 0x5000_0000])
            #expect(try memory[1].table("flags").bool("cacheable") == true)
            // `[memory.attributes]` extends the last `[[memory]]` element.
            #expect(try memory[1].table("attributes").uint64("mair") == 0xff)
            #expect(memory[0]["attributes"] == nil)

            let vmm = try root.table("host").table("vmm")
            #expect(vmm.path == "host.vmm")
            #expect(try vmm.array("on_hvc", of: Int64.self) == [1, 2, 3])
        }

        @Test(arguments: [
            ("0", TOMLValue.integer(0)),
            ("+17", .integer(17)),
            ("-17", .integer(-17)),
            ("1_000", .integer(1000)),
            ("9223372036854775807", .integer(.max)),
            ("-9223372036854775808", .integer(.min)),
            ("9223372036854775808", .unsignedInteger(9_223_372_036_854_775_808)),
            ("0x4000_0000", .integer(0x4000_0000)),
            ("0xDEADbeef", .integer(0xDEAD_BEEF)),
            ("0x7fffffffffffffff", .integer(.max)),
            ("0xffff000000000000", .unsignedInteger(0xffff_0000_0000_0000)),
            ("0xFFFF_FFFF_FFFF_FFFF", .unsignedInteger(.max)),
            ("0o755", .integer(0o755)),
            ("0b1010_1010", .integer(0b1010_1010)),
            ("0.5", .float(0.5)),
            ("-0.25", .float(-0.25)),
            ("+3_141.5", .float(3141.5)),
            ("6.02e23", .float(6.02e23)),
            ("1E-3", .float(0.001)),
            ("0e0", .float(0)),
            ("true", .bool(true)),
            ("false", .bool(false)),
            ("'it'", .string("it")),
            ("\"tab\\there\"", .string("tab\there")),
            ("\"\\U0001F600\"", .string("\u{1F600}")),
            ("'''a\"b'''", .string("a\"b")),
            ("\"\"\"x\"\"\"\"\"", .string("x\"\"")),
            ("[]", .array([])),
            ("{}", .table(TOMLTable(file: file, path: "v", line: 1, keys: [], items: [:]))),
        ])
        func scalar(text: String, value: TOMLValue) throws {
            #expect(try parse("v = \(text)")["v"] == TOMLItem(value: value, line: 1))
        }

        @Test func lineNumbersFollowMultilineValues() throws {
            let root = try parse("""
            a = \"\"\"
            one
            two\"\"\"
            b = [
              1,

              2,
            ]
            c = 3\r
            d = 'x'
            """)
            #expect(root["a"]?.line == 1)
            #expect(root["b"]?.line == 4)
            #expect(root["b"]?.value == .array([TOMLItem(value: .integer(1), line: 5),
                                                TOMLItem(value: .integer(2), line: 7)]))
            #expect(root["c"]?.line == 9)
            #expect(root["d"]?.line == 10)
            #expect(try root.string("a") == "one\ntwo")
        }

        @Test func implicitTableMayBeDefinedLater() throws {
            let root = try parse("""
            [a.b]
            x = 1
            [a]
            y = 2
            [a.b.c]
            z = 3
            """)
            let a = try root.table("a")
            #expect(a.line == 3)
            #expect(a.keys == ["b", "y"])
            #expect(try a.table("b").table("c").int64("z") == 3)
        }

        @Test func quotedKeysAppearQuotedInPaths() throws {
            let root = try parse("""
            ["dma master".regs]
            "a.b" = "x"
            """)
            let regs = try root.table("dma master").table("regs")
            #expect(regs.path == #""dma master".regs"#)
            #expect(failure { _ = try regs.uint64("a.b") }
                == #"\#(file):2: field '"dma master".regs."a.b"': expected an integer, found string "x""#)
        }

        @Test(arguments: [
            ("base 0x1000", "1:6: expected '=' after key 'base', found '0'"),
            ("    base", "1:9: expected '=' after key 'base', found end of file"),
            ("= 1", "1:1: expected a key, found '='"),
            ("a =", "1:4: expected a value, found end of file"),
            ("a = \n", "1:5: expected a value, found end of line"),
            ("a = 1 2", "1:7: expected end of line, found '2'"),
            ("a = normal", "1:5: expected a value, found 'normal' (strings need quotes)"),
            ("a = \"abc", "1:5: unterminated string"),
            ("a = 'abc\nb = 1", "1:5: unterminated string"),
            ("a = \"\"\"abc\n", "1:5: unterminated multi-line string"),
            ("a = \"x\\qy\"", "1:7: invalid escape '\\q'"),
            ("a = \"\\uD800\"", "1:6: invalid unicode escape '\\uD800'"),
            ("a = \"\\u12\"", "1:6: invalid unicode escape '\\u12\"'"),
            ("a = \"x\u{1}\"", "1:7: control character 0x1 must be escaped in a string"),
            ("a = 0x", "1:5: invalid number '0x'"),
            ("a = 0x_1", "1:5: invalid number '0x_1'"),
            ("a = 1__0", "1:5: invalid number '1__0'"),
            ("a = 1_", "1:5: invalid number '1_'"),
            ("a = 01", "1:5: invalid number '01'"),
            ("a = -0x10", "1:5: invalid number '-0x10'"),
            ("a = 0b102", "1:5: invalid number '0b102'"),
            ("a = 1.", "1:5: invalid number '1.'"),
            ("a = 1e", "1:5: invalid number '1e'"),
            ("a = 1979-05-27", "1:5: field 'a': dates and times are not supported, found '1979-05-27'"),
            ("a = 0x1_0000_0000_0000_0000", "1:5: field 'a': integer '0x1_0000_0000_0000_0000' does not fit in 64 bits"),
            ("a = 18446744073709551616", "1:5: field 'a': integer '18446744073709551616' does not fit in 64 bits"),
            ("a = -9223372036854775809", "1:5: field 'a': integer '-9223372036854775809' does not fit in 64 bits"),
            ("a = [1, 2", "1:10: expected ',' or ']' in array, found end of file"),
            ("a = [1 2]", "1:8: expected ',' or ']' in array, found '2'"),
            ("a = {x = 1", "1:11: expected ',' or '}' in inline table, found end of file"),
            ("a = {x = 1,\ny = 2}", "1:12: expected a key, found end of line"),
            ("a = {x = 1,}", "1:12: expected a key, found '}'"),
            ("[a\nx = 1", "1:3: expected ']' after table name 'a', found end of line"),
            ("[[a]\n", "1:5: expected ']]' after table name 'a', found end of line"),
            ("a = 'it''", "1:9: expected end of line, found '''"),
            ("[]", "1:2: expected a key, found ']'"),
            ("[a] x = 1", "1:5: expected end of line, found 'x'"),
            ("a = 1\rb = 2", "1:6: expected end of line, found control character 0xd"),
            ("a = é", "1:5: expected a value, found 'é'"),
            ("\n\n  é = 1", "3:3: expected a key, found 'é'"),
        ])
        func syntaxError(text: String, expected: String) {
            #expect(failure { _ = try parse(text) } == "\(file):\(expected)")
        }

        @Test func depthIsLimited() throws {
            let depth = 64
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            #expect(try parse("a = \(nested)")["a"] != nil)
            #expect(failure { _ = try parse("a = [\(nested)]") }
                == "\(file):1:\(5 + depth): arrays and inline tables may be nested at most 64 deep")
            #expect(failure { _ = try parse("a = " + String(repeating: "{b = ", count: depth + 1)) }
                == "\(file):1:\(5 + 5 * depth): arrays and inline tables may be nested at most 64 deep")
            let parts = (0...depth).map { "k\($0)" }
            #expect(try parse(parts.dropLast().joined(separator: ".") + " = 1")["k0"] != nil)
            #expect(failure { _ = try parse("[" + parts.joined(separator: ".") + "]") }
                == "\(file):1:\(2 + parts.joined(separator: ".").count): a key may have at most 64 parts")
        }

        @Test(arguments: [
            ("a = 1\nb = 2\na = 3", "3:1: key 'a' is already defined at line 1"),
            ("[t]\nx = 1\n[t]", "3:1: table [t] is already defined at line 1"),
            ("[t]\nx.y = 1\n[t.x]", "3:1: table [t.x] is already defined at line 2"),
            ("[t]\nx.y = 1\nx.y = 2", "3:1: key 't.x.y' is already defined at line 2"),
            ("a = 1\n[a]", "2:1: table [a] is already defined at line 1"),
            ("a = 1\n[a.b]", "2:1: table [a.b] conflicts with 'a' defined at line 1"),
            ("[[m]]\n[m]", "2:1: table [m] is already defined at line 1"),
            ("[m]\n[[m]]", "2:1: array of tables [[m]] is already defined at line 1"),
            ("m = []\n[[m]]", "2:1: array of tables [[m]] is already defined at line 1"),
            ("[[a.m]]\n[a]\nm.x = 1", "3:1: key 'a.m.x' conflicts with 'a.m' defined at line 1"),
            ("[a.b]\nx = 1\n[a]\nb.c = 1", "4:1: key 'a.b.c' conflicts with 'a.b' defined at line 1"),
            ("p = { x = 1 }\np.y = 2", "2:1: key 'p.y' conflicts with 'p' defined at line 1"),
            ("p = { x = 1 }\n[p.q]", "2:1: table [p.q] conflicts with 'p' defined at line 1"),
            ("p = { x = 1, x = 2 }", "1:14: key 'p.x' is already defined at line 1"),
            ("[[m]]\nbase = 1\n[[m]]\nbase = 2\nbase = 3", "5:1: key 'm[1].base' is already defined at line 4"),
        ])
        func redefinition(text: String, expected: String) {
            #expect(failure { _ = try parse(text) } == "\(file):\(expected)")
        }
    }

    @Suite struct Accessors {
        static let manifest = """
        name = "alias"

        [[memory]]
        base = 0x1000
        size = 0x2000

        [[memory]]
        base = 0x3000
        size = "x"
        sise = 4
        tags = ["a", 3]
        bad_list = 5

        [limits]
        negative = -1
        huge = 0xffff000000000000
        """

        let root: TOMLTable
        let memory: [TOMLTable]

        init() throws {
            root = try parse(Self.manifest)
            memory = try root.arrayOfTables("memory")
        }

        @Test func wrongTypeNamesValueLineAndPath() {
            #expect(failure { _ = try memory[1].uint64("size") }
                == #"guest-images/foo.toml:9: field 'memory[1].size': expected an integer, found string "x""#)
            #expect(failure { _ = try root.uint64("name") }
                == #"guest-images/foo.toml:1: field 'name': expected an integer, found string "alias""#)
            #expect(failure { _ = try root.string("limits") }
                == "guest-images/foo.toml:14: field 'limits': expected a string, found a table")
            #expect(failure { _ = try root.table("memory") }
                == "guest-images/foo.toml:3: field 'memory': expected a table, found an array")
            #expect(failure { _ = try memory[0].bool("base") }
                == "guest-images/foo.toml:4: field 'memory[0].base': expected a boolean, found integer 4096")
            #expect(failure { _ = try memory[0].required("size", as: Double.self) }
                == "guest-images/foo.toml:5: field 'memory[0].size': expected a float, found integer 8192")
        }

        @Test func integerRanges() throws {
            let limits = try root.table("limits")
            #expect(try limits.int64("negative") == -1)
            #expect(failure { _ = try limits.uint64("negative") }
                == "guest-images/foo.toml:15: field 'limits.negative': expected a non-negative integer, found integer -1")
            #expect(try limits.uint64("huge") == 0xffff_0000_0000_0000)
            #expect(failure { _ = try limits.int64("huge") }
                == "guest-images/foo.toml:16: field 'limits.huge': "
                    + "expected an integer no larger than 9223372036854775807, found integer 18446462598732840960")
        }

        @Test func missingFieldNamesTheTableLine() {
            #expect(failure { _ = try memory[1].uint64("flags") }
                == "guest-images/foo.toml:7: missing required field 'memory[1].flags'")
            #expect(failure { _ = try root.string("policy") }
                == "guest-images/foo.toml:1: missing required field 'policy'")
        }

        @Test func optionalFields() throws {
            #expect(try memory[0].optional("flags", as: UInt64.self) == nil)
            #expect(try memory[0].optional("size", as: UInt64.self) == 0x2000)
            #expect(failure { _ = try memory[1].optional("size", as: UInt64.self) }
                == #"guest-images/foo.toml:9: field 'memory[1].size': expected an integer, found string "x""#)
        }

        @Test func arrays() throws {
            #expect(try root.arrayOfTables("dma").isEmpty)
            #expect(try memory[0].array("tags", of: String.self).isEmpty)
            #expect(failure { _ = try memory[1].array("tags", of: String.self) }
                == "guest-images/foo.toml:11: field 'memory[1].tags[1]': expected a string, found integer 3")
            #expect(failure { _ = try memory[1].arrayOfTables("bad_list") }
                == "guest-images/foo.toml:12: field 'memory[1].bad_list': expected an array, found integer 5")
            #expect(failure { _ = try memory[1].arrayOfTables("tags") }
                == #"guest-images/foo.toml:11: field 'memory[1].tags[0]': expected a table, found string "a""#)
        }

        @Test func unknownKeys() throws {
            try memory[0].rejectUnknownKeys(allowed: ["base", "size"])
            #expect(failure { try memory[1].rejectUnknownKeys(allowed: ["base", "size", "tags", "bad_list"]) }
                == "guest-images/foo.toml:10: unknown field 'memory[1].sise' (expected one of: bad_list, base, size, tags)")
            #expect(failure { try root.rejectUnknownKeys(allowed: ["name", "memory"]) }
                == "guest-images/foo.toml:14: unknown field 'limits' (expected one of: memory, name)")
        }

        @Test func callerFieldErrors() {
            #expect(memory[0].fieldError("base", "must be 64 KiB aligned").description
                == "guest-images/foo.toml:4: field 'memory[0].base': must be 64 KiB aligned")
            #expect(memory[0].fieldError("kind", "is required for RAM above 4 GiB").description
                == "guest-images/foo.toml:3: field 'memory[0].kind': is required for RAM above 4 GiB")
        }
    }
}
