import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// kvm-unit-tests' `<arch>/unittests.cfg` (its docs/unittests.txt), read as its
/// scripts/common.bash reads it: lines trimmed, `[name]` opening a test, `key = value` lines,
/// `#` lines ignored, a `"""` value running to the line that closes it. Unlike the script,
/// unknown keys and stray lines are errors, so a typo is not silently a default.
public struct UnitTestsConfig: Sendable, Equatable {
    public struct Test: Sendable, Equatable {
        public var name: String
        /// The line of `[name]`.
        public var line: Int
        /// As written: relative to the cfg file's folder (the script's `$TEST_DIR`).
        public var file: String
        /// `test_args` with the shell's quotes removed, else the `-append` argument of
        /// `qemu_params`/`extra_params`: the guest's `/chosen/bootargs`, its argv.
        public var bootargs: String = ""
        /// QEMU's `-m`, in MiB.
        public var memoryMiB: UInt64?
        public var groups: [String] = []
        /// CPUs asked for, with `$MAX_SMP` taken as this board's one CPU.
        public var smp: Int = 1
        public var arch: String?
        public var machine: String?
        public var accel: String?
        public var disabledIf: String?
        public var check: String?
    }

    public var tests: [Test]

    static let keys = ["accel", "arch", "check", "disabled_if", "extra_params", "file", "groups", "kvmtool_params",
                       "machine", "qemu_params", "smp", "test_args", "timeout"]

    public init(contentsOf url: URL, displayPath: String) throws(FormatError) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            // errno's words: Foundation's own message for a missing file names no cause.
            let reason = access(url.path, R_OK) == 0 ? "not a file" : errnoReason(errno).lowercased()
            throw FormatError(file: displayPath, line: nil, message: "cannot read: \(reason)")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), file: displayPath)
    }

    public init(text: String, file: String) throws(FormatError) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingBlanks() }
        var tests: [Test] = []
        var hasFile = false
        var index = 0
        func fail(_ line: Int, _ message: String) -> FormatError { FormatError(file: file, line: line, message: message) }
        while index < lines.count {
            let number = index + 1, line = lines[index]
            index += 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                if let last = tests.last, !hasFile { throw fail(last.line, "test '\(last.name)' has no 'file = ...'") }
                let name = String(line.dropFirst().dropLast())
                if name.isEmpty { throw fail(number, "a test needs a name: [name]") }
                if let first = tests.first(where: { $0.name == name }) {
                    throw fail(number, "test '\(name)' is defined twice (first at line \(first.line))")
                }
                tests.append(Test(name: name, line: number, file: ""))
                hasFile = false
                continue
            }
            guard let equals = line.firstIndex(of: "="),
                  case let key = line[..<equals].trimmingBlanks(),
                  !key.isEmpty, key.allSatisfy({ $0.isLetter || $0 == "_" }) else {
                throw fail(number, "expected [name], 'key = value' or a # comment")
            }
            guard Self.keys.contains(key) else {
                throw fail(number, "unknown key '\(key)' (known: \(Self.keys.joined(separator: ", ")))")
            }
            guard !tests.isEmpty else { throw fail(number, "'\(key)' before the first [name]") }
            var value = line[line.index(after: equals)...].trimmingBlanks()
            if value.hasPrefix("\"\"\"") {
                value = String(value.dropFirst(3))
                while !value.hasSuffix("\"\"\"") {
                    guard index < lines.count else { throw fail(number, "'\(key)': no closing \"\"\"") }
                    value += " " + lines[index]
                    index += 1
                }
                value = String(value.dropLast(3)).trimmingBlanks()
            }
            do {
                try Self.set(key, value, in: &tests[tests.count - 1])
            } catch {
                throw fail(number, "\(key) '\(value)': \(error.reason)")
            }
            if key == "file" { hasFile = true }
        }
        if let last = tests.last, !hasFile { throw fail(last.line, "test '\(last.name)' has no 'file = ...'") }
        self.tests = tests
    }

    struct ValueError: Error { let reason: String }

    private static func set(_ key: String, _ value: String, in test: inout Test) throws(ValueError) {
        switch key {
        case "file":
            if value.isEmpty { throw ValueError(reason: "expected an image's file name") }
            test.file = value
        case "smp":
            guard let count = ShellArithmetic.evaluate(value, maxSMP: 1) else {
                throw ValueError(reason: "expected a number, $MAX_SMP, or a $((...)) expression of them")
            }
            test.smp = count
        case "test_args": test.bootargs = try ShellWords.split(value).joined(separator: " ")
        case "qemu_params", "extra_params":
            let words = try ShellWords.split(value)
            for (option, argument) in zip(words, words.dropFirst()) {
                if option == "-append", test.bootargs.isEmpty { test.bootargs = argument }
                if option == "-m" {
                    guard let mib = Self.mebibytes(argument) else {
                        throw ValueError(reason: "-m '\(argument)': expected MiB, or a size with M or G")
                    }
                    test.memoryMiB = mib
                }
            }
        case "groups": test.groups = value.split(separator: " ").map(String.init)
        case "arch": test.arch = value
        case "machine": test.machine = value
        case "accel": test.accel = value
        case "disabled_if": test.disabledIf = value
        case "check": test.check = value
        default: break  // timeout (the budget bounds a run) and kvmtool_params
        }
    }

    /// QEMU's `-m 256`, `-m 256M`, `-m 1G`, `-m size=256`.
    static func mebibytes(_ text: String) -> UInt64? {
        let size = text.hasPrefix("size=") ? text.dropFirst(5) : Substring(text)
        switch size.last {
        case "M", "m": return UInt64(size.dropLast())
        case "G", "g": return UInt64(size.dropLast()).map { $0 << 10 }
        default: return UInt64(size)
        }
    }
}

/// The shell's word splitting and quote removal for a cfg value: '...', "..." (with \" \\ \$
/// \` escapes) and \x. Command substitution is refused: nothing here runs a shell.
enum ShellWords {
    static func split(_ text: String) throws(UnitTestsConfig.ValueError) -> [String] {
        var words: [String] = [], word = "", inWord = false
        var characters = text.makeIterator()
        var quote: Character?
        if text.contains("`") || text.contains("$(") {
            throw .init(reason: "command substitution (` or $(...)) is not run here")
        }
        while let c = characters.next() {
            switch (quote, c) {
            case (nil, " "), (nil, "\t"):
                if inWord { words.append(word) }
                (word, inWord) = ("", false)
            case (nil, "'"), (nil, "\""): (quote, inWord) = (c, true)
            case ("'", "'"), ("\"", "\""): quote = nil
            case (nil, "\\"), ("\"", "\\"):
                guard let next = characters.next() else { throw .init(reason: "a \\ ends the value") }
                if quote == "\"" && !"\"\\$`".contains(next) { word.append("\\") }
                word.append(next)
                inWord = true
            default:
                word.append(c)
                inWord = true
            }
        }
        if let quote { throw .init(reason: "unterminated \(quote) quote") }
        if inWord { words.append(word) }
        return words
    }
}
