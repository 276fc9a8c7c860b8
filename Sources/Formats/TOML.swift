// The TOML subset that snippet manifests use, with the line of every value kept so that
// a bad manifest is reported as `file:line: field 'memory[1].size': ...`, never as a crash.
// Beyond TOML 1.0: integers up to UInt64.max (addresses). Not supported: dates and times,
// inf and nan (and floats that round to inf). Inline tables stay on one line, as TOML 1.0
// requires. README, "The TOML subset", lists the departures; a test holds them against tomllib.

/// A TOML value. Integers have two cases: `.integer` holds every value in `Int64`'s range and
/// `.unsignedInteger` only values above `Int64.max` (addresses such as 0xffff_0000_0000_0000).
/// Keeping them apart, rather than storing a bit pattern, means `-1` is never read as
/// 0xffff_ffff_ffff_ffff; `UInt64` fields accept both cases, `Int64` fields only the first.
public enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case unsignedInteger(UInt64)
    case float(Double)
    case bool(Bool)
    case array([TOMLItem])
    case table(TOMLTable)
}

/// A value and the line it starts on.
public struct TOMLItem: Sendable, Equatable {
    public let value: TOMLValue
    public let line: Int
}

/// A table: the document root, a `[header]` table, an `[[array]]` element or an inline table.
/// It knows its file and field path so that its accessors can throw complete errors.
public struct TOMLTable: Sendable, Equatable {
    public let file: String
    /// The field path from the root, e.g. `memory[1].flags`; empty for the root.
    public let path: String
    /// The line of the table's header (for the root, 1).
    public let line: Int
    /// Keys in document order.
    public let keys: [String]
    let items: [String: TOMLItem]

    /// Parses a whole document; `file` is only used to name the file in errors.
    public init(parsing text: String, file: String) throws(FormatError) {
        var parser = TOMLParser(file: file, text: text)
        self = try parser.parseDocument()
    }

    /// Parses a document read as bytes. TOML 1.0 (Spec): a document must be valid UTF-8, so
    /// the first malformed byte is an error at its line and column.
    init(utf8 bytes: [UInt8], file: String) throws(FormatError) {
        if let offset = UTF8Check.firstMalformedByte(in: bytes) {
            let lineStart = bytes[..<offset].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            let line = 1 + bytes[..<offset].reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            let mark = TOMLParser.Mark(line: line, lineStart: lineStart, position: offset)
            throw FormatError(file: file, line: line, column: TOMLParser.column(of: mark, in: bytes),
                              message: "not UTF-8 text (byte 0x\(String(bytes[offset], radix: 16)) does not begin a valid UTF-8 sequence)")
        }
        var parser = TOMLParser(file: file, bytes: bytes)
        self = try parser.parseDocument()
    }

    init(file: String, path: String, line: Int, keys: [String], items: [String: TOMLItem]) {
        self.file = file
        self.path = path
        self.line = line
        self.keys = keys
        self.items = items
    }

    public subscript(key: String) -> TOMLItem? { items[key] }
}

// MARK: - Typed access

/// Why a value could not be read as a type: what was expected, e.g. "an integer".
public struct TOMLMismatch: Error, Sendable {
    public let expected: String

    public init(expected: String) {
        self.expected = expected
    }
}

/// A type a manifest field can be read as.
public protocol TOMLConvertible {
    init(toml value: TOMLValue) throws(TOMLMismatch)
}

extension String: TOMLConvertible {
    public init(toml value: TOMLValue) throws(TOMLMismatch) {
        guard case .string(let string) = value else { throw TOMLMismatch(expected: "a string") }
        self = string
    }
}

extension Bool: TOMLConvertible {
    public init(toml value: TOMLValue) throws(TOMLMismatch) {
        guard case .bool(let bool) = value else { throw TOMLMismatch(expected: "a boolean") }
        self = bool
    }
}

extension Int64: TOMLConvertible {
    public init(toml value: TOMLValue) throws(TOMLMismatch) {
        switch value {
        case .integer(let integer): self = integer
        case .unsignedInteger: throw TOMLMismatch(expected: "an integer no larger than \(Int64.max)")
        default: throw TOMLMismatch(expected: "an integer")
        }
    }
}

extension UInt64: TOMLConvertible {
    public init(toml value: TOMLValue) throws(TOMLMismatch) {
        switch value {
        case .integer(let integer) where integer >= 0: self = UInt64(integer)
        case .integer: throw TOMLMismatch(expected: "a non-negative integer")
        case .unsignedInteger(let integer): self = integer
        default: throw TOMLMismatch(expected: "an integer")
        }
    }
}

extension Double: TOMLConvertible {
    public init(toml value: TOMLValue) throws(TOMLMismatch) {
        guard case .float(let float) = value else { throw TOMLMismatch(expected: "a float") }
        self = float
    }
}

extension TOMLTable: TOMLConvertible {
    public init(toml value: TOMLValue) throws(TOMLMismatch) {
        guard case .table(let table) = value else { throw TOMLMismatch(expected: "a table") }
        self = table
    }
}

extension TOMLTable {
    /// The value of `key`, or an error naming this table's line and the missing field.
    public func required<T: TOMLConvertible>(_ key: String, as type: T.Type = T.self) throws(FormatError) -> T {
        guard let item = items[key] else {
            throw FormatError(file: file, line: line, field: fieldPath(key),
                              message: "missing required field '\(fieldPath(key))'")
        }
        return try convert(item, path: fieldPath(key))
    }

    /// The value of `key`, or nil when the key is absent; a value of the wrong type is an error.
    public func optional<T: TOMLConvertible>(_ key: String, as type: T.Type = T.self) throws(FormatError) -> T? {
        guard let item = items[key] else { return nil }
        return try convert(item, path: fieldPath(key))
    }

    public func string(_ key: String) throws(FormatError) -> String { try required(key) }
    public func bool(_ key: String) throws(FormatError) -> Bool { try required(key) }
    public func int64(_ key: String) throws(FormatError) -> Int64 { try required(key) }
    public func uint64(_ key: String) throws(FormatError) -> UInt64 { try required(key) }
    public func table(_ key: String) throws(FormatError) -> TOMLTable { try required(key) }

    /// The integer at `key`, or nil when the key is absent; a value outside `range` (negative
    /// ones included) is an error naming the range, e.g. "expected `what` from 1 to 10, found
    /// integer 0". Every numeric manifest field has such a range, so no later arithmetic or
    /// conversion to `Int` can overflow.
    public func optional(_ key: String, in range: ClosedRange<UInt64>, _ what: String) throws(FormatError) -> UInt64? {
        guard let item = items[key] else { return nil }
        let value: UInt64?
        switch item.value {
        case .integer(let integer): value = integer >= 0 ? UInt64(integer) : nil
        case .unsignedInteger(let integer): value = integer
        default: throw mismatch(TOMLMismatch(expected: "an integer"), item, path: fieldPath(key))
        }
        guard let value, range.contains(value) else {
            throw mismatch(TOMLMismatch(expected: "\(what) from \(range.lowerBound) to \(range.upperBound)"), item,
                           path: fieldPath(key))
        }
        return value
    }

    /// The elements of the array at `key`, each checked and named `key[i]` in errors.
    /// An absent key is an empty list: lists such as `[[memory]]` sections are naturally optional.
    public func array<T: TOMLConvertible>(_ key: String, of type: T.Type = T.self) throws(FormatError) -> [T] {
        guard let item = items[key] else { return [] }
        let path = fieldPath(key)
        guard case .array(let elements) = item.value else {
            throw mismatch(TOMLMismatch(expected: "an array"), item, path: path)
        }
        var result: [T] = []
        for (index, element) in elements.enumerated() {
            result.append(try convert(element, path: "\(path)[\(index)]"))
        }
        return result
    }

    /// The tables of `[[key]]` sections (or of an array of inline tables); empty when absent.
    public func arrayOfTables(_ key: String) throws(FormatError) -> [TOMLTable] {
        try array(key, of: TOMLTable.self)
    }

    /// Throws for the first key (in document order) outside `allowed`, so that a misspelt
    /// optional field is reported instead of silently taking its default.
    public func rejectUnknownKeys(allowed: Set<String>) throws(FormatError) {
        guard let unknown = keys.first(where: { !allowed.contains($0) }) else { return }
        let choices = allowed.sorted().joined(separator: ", ")
        throw FormatError(file: file, line: items[unknown]?.line ?? line, field: fieldPath(unknown),
                          message: "unknown field '\(fieldPath(unknown))' (expected one of: \(choices))")
    }

    /// An error about `key` found by the caller's own checks (alignment, ranges, ...), at the
    /// key's line, or at the table's line when the key is absent.
    public func fieldError(_ key: String, _ message: String) -> FormatError {
        FormatError(file: file, line: items[key]?.line ?? line, field: fieldPath(key),
                    message: "field '\(fieldPath(key))': \(message)")
    }

    /// The dotted path of `key` in this table, as errors name it.
    public func fieldPath(_ key: String) -> String {
        path.isEmpty ? TOMLKey.quoted(key) : "\(path).\(TOMLKey.quoted(key))"
    }

    private func convert<T: TOMLConvertible>(_ item: TOMLItem, path: String) throws(FormatError) -> T {
        do throws(TOMLMismatch) {
            return try T(toml: item.value)
        } catch {
            throw mismatch(error, item, path: path)
        }
    }

    private func mismatch(_ mismatch: TOMLMismatch, _ item: TOMLItem, path: String) -> FormatError {
        FormatError(file: file, line: item.line, field: path,
                    message: "field '\(path)': expected \(mismatch.expected), found \(item.value.summary)")
    }
}

extension TOMLValue {
    /// How an error message names this value.
    var summary: String {
        switch self {
        case .string(let string): "string \(string.debugDescription)"
        case .integer(let integer): "integer \(integer)"
        case .unsignedInteger(let integer): "integer \(integer)"
        case .float(let float): "float \(float)"
        case .bool(let bool): "boolean \(bool)"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

enum TOMLKey {
    /// A key as it would be written in TOML: bare when possible, else quoted.
    static func quoted(_ key: String) -> String {
        if !key.isEmpty && key.utf8.allSatisfy(isBare) { return key }
        return key.debugDescription
    }

    static func isBare(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"): true
        default: false
        }
    }
}


/// UTF-8 well-formedness as the Unicode Standard defines it (chapter 3, table 3-7, "Well-Formed
/// UTF-8 Byte Sequences"): no overlong forms, no surrogates, nothing above U+10FFFF.
enum UTF8Check {
    /// The offset of the first byte that does not begin a well-formed sequence, or nil.
    static func firstMalformedByte(in bytes: [UInt8]) -> Int? {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            // The number of continuation bytes and the range allowed for the first of them.
            let count: Int, second: ClosedRange<UInt8>
            switch lead {
            case 0xC2...0xDF: (count, second) = (1, 0x80...0xBF)
            case 0xE0: (count, second) = (2, 0xA0...0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (count, second) = (2, 0x80...0xBF)
            case 0xED: (count, second) = (2, 0x80...0x9F)
            case 0xF0: (count, second) = (3, 0x90...0xBF)
            case 0xF1...0xF3: (count, second) = (3, 0x80...0xBF)
            case 0xF4: (count, second) = (3, 0x80...0x8F)
            default: return index
            }
            guard index + count < bytes.count, second.contains(bytes[index + 1]),
                  bytes[(index + 2)..<(index + count + 1)].allSatisfy({ $0 & 0xC0 == 0x80 }) else {
                return index
            }
            index += count + 1
        }
        return nil
    }
}
