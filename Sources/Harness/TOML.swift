// The TOML subset that snippet manifests use, with the line of every value kept so that
// a bad manifest is reported as `file:line: field 'memory[1].size': ...`, never as a crash.
// Beyond TOML 1.0: integers up to UInt64.max (addresses). Not supported: dates and times,
// inf and nan. Inline tables stay on one line, as TOML 1.0 requires.

/// A manifest error at `file:line` (and column, for syntax errors).
public struct TOMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    /// nil when the error is about a field's value rather than a point in the text.
    public let column: Int?
    public let message: String

    public init(file: String, line: Int, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        if let column { "\(file):\(line):\(column): \(message)" } else { "\(file):\(line): \(message)" }
    }
}

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
    public init(parsing text: String, file: String) throws(TOMLError) {
        var parser = TOMLParser(file: file, text: text)
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
    public func required<T: TOMLConvertible>(_ key: String, as type: T.Type = T.self) throws(TOMLError) -> T {
        guard let item = items[key] else {
            throw TOMLError(file: file, line: line, message: "missing required field '\(fieldPath(key))'")
        }
        return try convert(item, path: fieldPath(key))
    }

    /// The value of `key`, or nil when the key is absent; a value of the wrong type is an error.
    public func optional<T: TOMLConvertible>(_ key: String, as type: T.Type = T.self) throws(TOMLError) -> T? {
        guard let item = items[key] else { return nil }
        return try convert(item, path: fieldPath(key))
    }

    public func string(_ key: String) throws(TOMLError) -> String { try required(key) }
    public func bool(_ key: String) throws(TOMLError) -> Bool { try required(key) }
    public func int64(_ key: String) throws(TOMLError) -> Int64 { try required(key) }
    public func uint64(_ key: String) throws(TOMLError) -> UInt64 { try required(key) }
    public func table(_ key: String) throws(TOMLError) -> TOMLTable { try required(key) }

    /// The elements of the array at `key`, each checked and named `key[i]` in errors.
    /// An absent key is an empty list: lists such as `[[memory]]` sections are naturally optional.
    public func array<T: TOMLConvertible>(_ key: String, of type: T.Type = T.self) throws(TOMLError) -> [T] {
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
    public func arrayOfTables(_ key: String) throws(TOMLError) -> [TOMLTable] {
        try array(key, of: TOMLTable.self)
    }

    /// Throws for the first key (in document order) outside `allowed`, so that a misspelt
    /// optional field is reported instead of silently taking its default.
    public func rejectUnknownKeys(allowed: Set<String>) throws(TOMLError) {
        guard let unknown = keys.first(where: { !allowed.contains($0) }) else { return }
        let choices = allowed.sorted().joined(separator: ", ")
        throw TOMLError(file: file, line: items[unknown]?.line ?? line,
                        message: "unknown field '\(fieldPath(unknown))' (expected one of: \(choices))")
    }

    /// An error about `key` found by the caller's own checks (alignment, ranges, ...), at the
    /// key's line, or at the table's line when the key is absent.
    public func fieldError(_ key: String, _ message: String) -> TOMLError {
        TOMLError(file: file, line: items[key]?.line ?? line, message: "field '\(fieldPath(key))': \(message)")
    }

    /// The dotted path of `key` in this table, as errors name it.
    public func fieldPath(_ key: String) -> String {
        path.isEmpty ? TOMLKey.quoted(key) : "\(path).\(TOMLKey.quoted(key))"
    }

    private func convert<T: TOMLConvertible>(_ item: TOMLItem, path: String) throws(TOMLError) -> T {
        do throws(TOMLMismatch) {
            return try T(toml: item.value)
        } catch {
            throw mismatch(error, item, path: path)
        }
    }

    private func mismatch(_ mismatch: TOMLMismatch, _ item: TOMLItem, path: String) -> TOMLError {
        TOMLError(file: file, line: item.line,
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

private enum TOMLKey {
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

// MARK: - Table building

/// Builds a table tree while enforcing TOML's define-once rules. Tables live in an array and
/// refer to each other by index, so the tree can grow in place without reference types.
private struct TOMLTableBuilder {
    enum Origin {
        case root
        /// Created as the parent in a header (`a` in `[a.b]`); may still be defined by `[a]`.
        case implicit
        case header
        /// Created by a dotted key (`a` in `a.b = 1`); only dotted keys may add to it.
        case dotted
    }

    enum Entry {
        /// Scalars, arrays and inline tables: closed to any later addition.
        case value(TOMLItem)
        case table(Int)
        case tableArray([Int], line: Int)
    }

    struct Node {
        var path: String
        var line: Int
        var origin: Origin
        var keys: [String] = []
        var entries: [String: Entry] = [:]
    }

    let file: String
    var nodes: [Node]

    init(file: String, path: String, line: Int) {
        self.file = file
        nodes = [Node(path: path, line: line, origin: .root)]
    }

    func path(of table: Int, extendedBy keys: [String]) -> String {
        keys.reduce(nodes[table].path) { $0.isEmpty ? TOMLKey.quoted($1) : "\($0).\(TOMLKey.quoted($1))" }
    }

    /// `[keys]`: returns the index of the table that following key/values go into.
    mutating func defineTable(_ keys: [String], line: Int, column: Int) throws(TOMLError) -> Int {
        let what = "table [\(path(of: 0, extendedBy: keys))]"
        let parent = try descend(keys.dropLast(), from: 0, byHeader: true, what: what, line: line, column: column)
        let key = keys[keys.count - 1]
        switch nodes[parent].entries[key] {
        case nil:
            return add(key, in: parent, origin: .header, line: line)
        case .table(let index) where nodes[index].origin == .implicit:
            nodes[index].origin = .header
            nodes[index].line = line
            return index
        case let existing?:
            throw redefinition(what, existing, line: line, column: column)
        }
    }

    /// `[[keys]]`: appends a table to the array and returns its index.
    mutating func appendArrayTable(_ keys: [String], line: Int, column: Int) throws(TOMLError) -> Int {
        let what = "array of tables [[\(path(of: 0, extendedBy: keys))]]"
        let parent = try descend(keys.dropLast(), from: 0, byHeader: true, what: what, line: line, column: column)
        let key = keys[keys.count - 1]
        let arrayPath = path(of: parent, extendedBy: [key])
        switch nodes[parent].entries[key] {
        case nil:
            let index = newNode(Node(path: "\(arrayPath)[0]", line: line, origin: .header))
            nodes[parent].keys.append(key)
            nodes[parent].entries[key] = .tableArray([index], line: line)
            return index
        case .tableArray(var indices, let firstLine):
            let index = newNode(Node(path: "\(arrayPath)[\(indices.count)]", line: line, origin: .header))
            indices.append(index)
            nodes[parent].entries[key] = .tableArray(indices, line: firstLine)
            return index
        case let existing?:
            throw redefinition(what, existing, line: line, column: column)
        }
    }

    /// `keys = item` inside `table`.
    mutating func insert(_ item: TOMLItem, at keys: [String], in table: Int, line: Int, column: Int) throws(TOMLError) {
        let what = "key '\(path(of: table, extendedBy: keys))'"
        let parent = try descend(keys.dropLast(), from: table, byHeader: false, what: what, line: line, column: column)
        let key = keys[keys.count - 1]
        if let existing = nodes[parent].entries[key] {
            throw redefinition(what, existing, line: line, column: column)
        }
        nodes[parent].keys.append(key)
        nodes[parent].entries[key] = .value(item)
    }

    /// Walks (creating as needed) the parent tables named by `keys`. Headers may pass through
    /// any table and into the last element of an array of tables; dotted keys only through
    /// tables that dotted keys created.
    private mutating func descend(_ keys: ArraySlice<String>, from start: Int, byHeader: Bool,
                                  what: String, line: Int, column: Int) throws(TOMLError) -> Int {
        var current = start
        for key in keys {
            switch nodes[current].entries[key] {
            case nil:
                current = add(key, in: current, origin: byHeader ? .implicit : .dotted, line: line)
            case .table(let index) where byHeader || nodes[index].origin == .dotted:
                current = index
            case .tableArray(let indices, _) where byHeader:
                current = indices[indices.count - 1]
            case let existing?:
                let conflicting = path(of: current, extendedBy: [key]), firstLine = self.line(of: existing)
                throw TOMLError(file: file, line: line, column: column,
                                message: "\(what) conflicts with '\(conflicting)' defined at line \(firstLine)")
            }
        }
        return current
    }

    private mutating func add(_ key: String, in parent: Int, origin: Origin, line: Int) -> Int {
        let index = newNode(Node(path: path(of: parent, extendedBy: [key]), line: line, origin: origin))
        nodes[parent].keys.append(key)
        nodes[parent].entries[key] = .table(index)
        return index
    }

    private mutating func newNode(_ node: Node) -> Int {
        nodes.append(node)
        return nodes.count - 1
    }

    private func line(of entry: Entry) -> Int {
        switch entry {
        case .value(let item): item.line
        case .table(let index): nodes[index].line
        case .tableArray(_, let line): line
        }
    }

    private func redefinition(_ what: String, _ existing: Entry, line: Int, column: Int) -> TOMLError {
        TOMLError(file: file, line: line, column: column,
                  message: "\(what) is already defined at line \(self.line(of: existing))")
    }

    func build(_ index: Int = 0) -> TOMLTable {
        let node = nodes[index]
        var items: [String: TOMLItem] = [:]
        for (key, entry) in node.entries {
            switch entry {
            case .value(let item):
                items[key] = item
            case .table(let child):
                items[key] = TOMLItem(value: .table(build(child)), line: nodes[child].line)
            case .tableArray(let children, let line):
                let elements = children.map { TOMLItem(value: .table(build($0)), line: nodes[$0].line) }
                items[key] = TOMLItem(value: .array(elements), line: line)
            }
        }
        return TOMLTable(file: file, path: node.path, line: node.line, keys: node.keys, items: items)
    }
}

// MARK: - Parsing

private struct TOMLParser {
    let file: String
    let bytes: [UInt8]
    var position = 0
    var line = 1
    var lineStart = 0
    /// Arrays and inline tables currently open.
    var nesting = 0

    /// Deeper keys or values only come from a broken file, and recursing on them could
    /// exhaust the stack.
    static let maximumDepth = 64

    init(file: String, text: String) {
        self.file = file
        bytes = Array(text.utf8)
    }

    /// 1-based, in characters rather than bytes, as editors count.
    var column: Int {
        bytes[lineStart..<position].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
    }

    var current: UInt8? { peek(0) }

    func peek(_ offset: Int) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    func error(_ message: String) -> TOMLError {
        TOMLError(file: file, line: line, column: column, message: message)
    }

    func error(_ message: String, line: Int, column: Int) -> TOMLError {
        TOMLError(file: file, line: line, column: column, message: message)
    }

    /// How an error message names the byte at the cursor.
    var found: String {
        switch current {
        case nil: return "end of file"
        case UInt8(ascii: "\n")?: return "end of line"
        case UInt8(ascii: "\r")? where peek(1) == UInt8(ascii: "\n"): return "end of line"
        case let byte? where byte < 0x20 || byte == 0x7F: return "control character 0x\(String(byte, radix: 16))"
        default:
            // Decode the whole character so that non-ASCII input is shown as written.
            var end = position + 1
            while end < bytes.count && bytes[end] & 0xC0 == 0x80 { end += 1 }
            return "'\(String(decoding: bytes[position..<end], as: UTF8.self))'"
        }
    }

    mutating func advance(_ count: Int = 1) {
        position += count
    }

    /// Consumes LF or CRLF and starts a new line.
    mutating func consumeNewline() -> Bool {
        if current == UInt8(ascii: "\n") {
            advance()
        } else if current == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n") {
            advance(2)
        } else {
            return false
        }
        line += 1
        lineStart = position
        return true
    }

    mutating func skipSpaces() {
        while current == UInt8(ascii: " ") || current == UInt8(ascii: "\t") { advance() }
    }

    mutating func skipComment() {
        guard current == UInt8(ascii: "#") else { return }
        while let byte = current, byte != UInt8(ascii: "\n"), byte != UInt8(ascii: "\r") { advance() }
    }

    /// Spaces, comments and newlines, as allowed between array elements.
    mutating func skipBlank() {
        while true {
            skipSpaces()
            skipComment()
            if !consumeNewline() { return }
        }
    }

    mutating func expectEndOfLine() throws(TOMLError) {
        skipSpaces()
        skipComment()
        if current != nil && !consumeNewline() { throw error("expected end of line, found \(found)") }
    }

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        var builder = TOMLTableBuilder(file: file, path: "", line: 1)
        var table = 0
        while true {
            skipSpaces()
            guard let byte = current else { break }
            switch byte {
            case UInt8(ascii: "#"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): break
            case UInt8(ascii: "["): table = try parseHeader(&builder)
            default: try parseKeyValue(into: &builder, table: table)
            }
            try expectEndOfLine()
        }
        return builder.build()
    }

    mutating func parseHeader(_ builder: inout TOMLTableBuilder) throws(TOMLError) -> Int {
        let line = self.line, column = self.column
        advance()
        let isArray = current == UInt8(ascii: "[")
        if isArray { advance() }
        let keys = try parseKey()
        for _ in 0..<(isArray ? 2 : 1) {
            guard current == UInt8(ascii: "]") else {
                throw error("expected '\(isArray ? "]]" : "]")' after table name '\(dotted(keys))', found \(found)")
            }
            advance()
        }
        return isArray
            ? try builder.appendArrayTable(keys, line: line, column: column)
            : try builder.defineTable(keys, line: line, column: column)
    }

    mutating func parseKeyValue(into builder: inout TOMLTableBuilder, table: Int) throws(TOMLError) {
        let line = self.line, column = self.column
        let keys = try parseKey()
        guard current == UInt8(ascii: "=") else {
            throw error("expected '=' after key '\(dotted(keys))', found \(found)")
        }
        advance()
        skipSpaces()
        let item = try parseValue(path: builder.path(of: table, extendedBy: keys))
        try builder.insert(item, at: keys, in: table, line: line, column: column)
    }

    /// A dotted key; leaves the cursor after any spaces that follow it.
    mutating func parseKey() throws(TOMLError) -> [String] {
        var keys: [String] = []
        while true {
            skipSpaces()
            keys.append(try parseSimpleKey())
            if keys.count > Self.maximumDepth { throw error("a key may have at most \(Self.maximumDepth) parts") }
            skipSpaces()
            guard current == UInt8(ascii: ".") else { return keys }
            advance()
        }
    }

    mutating func parseSimpleKey() throws(TOMLError) -> String {
        switch current {
        case UInt8(ascii: "\"")?: return try parseBasicString()
        case UInt8(ascii: "'")?: return try parseLiteralString()
        case let byte? where TOMLKey.isBare(byte):
            let start = position
            while let byte = current, TOMLKey.isBare(byte) { advance() }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        default:
            throw error("expected a key, found \(found)")
        }
    }

    func dotted(_ keys: [String]) -> String {
        keys.map(TOMLKey.quoted).joined(separator: ".")
    }

    /// A value; `path` names it for the tables it may contain.
    mutating func parseValue(path: String) throws(TOMLError) -> TOMLItem {
        let line = self.line
        let value: TOMLValue
        switch current {
        case UInt8(ascii: "\"")?:
            value = .string(try isTripleQuote ? parseMultilineString() : parseBasicString())
        case UInt8(ascii: "'")?:
            value = .string(try isTripleQuote ? parseMultilineString() : parseLiteralString())
        case UInt8(ascii: "[")?, UInt8(ascii: "{")?:
            guard nesting < Self.maximumDepth else {
                throw error("arrays and inline tables may be nested at most \(Self.maximumDepth) deep")
            }
            nesting += 1
            defer { nesting -= 1 }
            if current == UInt8(ascii: "[") {
                value = .array(try parseArray(path: path))
            } else {
                value = .table(try parseInlineTable(path: path))
            }
        case let byte? where TOMLKey.isBare(byte) || byte == UInt8(ascii: "+"):
            value = try parseBareValue()
        default:
            throw error("expected a value, found \(found)")
        }
        return TOMLItem(value: value, line: line)
    }

    var isTripleQuote: Bool {
        peek(1) == current && peek(2) == current
    }

    mutating func parseArray(path: String) throws(TOMLError) -> [TOMLItem] {
        advance()
        var items: [TOMLItem] = []
        while true {
            skipBlank()
            if current == UInt8(ascii: "]") {
                advance()
                return items
            }
            items.append(try parseValue(path: "\(path)[\(items.count)]"))
            skipBlank()
            switch current {
            case UInt8(ascii: ",")?: advance()
            case UInt8(ascii: "]")?:
                advance()
                return items
            default: throw error("expected ',' or ']' in array, found \(found)")
            }
        }
    }

    /// `{ a = 1, b.c = 2 }`: a table of its own, closed once the brace is.
    mutating func parseInlineTable(path: String) throws(TOMLError) -> TOMLTable {
        var builder = TOMLTableBuilder(file: file, path: path, line: line)
        advance()
        skipSpaces()
        if current == UInt8(ascii: "}") {
            advance()
            return builder.build()
        }
        while true {
            skipSpaces()
            try parseKeyValue(into: &builder, table: 0)
            skipSpaces()
            switch current {
            case UInt8(ascii: ",")?: advance()
            case UInt8(ascii: "}")?:
                advance()
                return builder.build()
            default: throw error("expected ',' or '}' in inline table, found \(found)")
            }
        }
    }

    // MARK: Strings

    mutating func parseBasicString() throws(TOMLError) -> String {
        let line = self.line, column = self.column
        advance()
        var text: [UInt8] = []
        while true {
            switch current {
            case nil, UInt8(ascii: "\n")?, UInt8(ascii: "\r")?:
                throw error("unterminated string", line: line, column: column)
            case UInt8(ascii: "\"")?:
                advance()
                return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\")?:
                try parseEscape(into: &text)
            case let byte?:
                try append(byte, to: &text)
            }
        }
    }

    mutating func parseLiteralString() throws(TOMLError) -> String {
        let line = self.line, column = self.column
        advance()
        var text: [UInt8] = []
        while true {
            switch current {
            case nil, UInt8(ascii: "\n")?, UInt8(ascii: "\r")?:
                throw error("unterminated string", line: line, column: column)
            case UInt8(ascii: "'")?:
                advance()
                return String(decoding: text, as: UTF8.self)
            case let byte?:
                try append(byte, to: &text)
            }
        }
    }

    /// `"""..."""` (with escapes) or `'''...'''` (without). A newline right after the opening
    /// quotes is dropped, and in basic strings a backslash at the end of a line joins it to
    /// the next non-blank text, as TOML specifies.
    mutating func parseMultilineString() throws(TOMLError) -> String {
        let line = self.line, column = self.column
        let quote = bytes[position]
        advance(3)
        _ = consumeNewline()
        var text: [UInt8] = []
        while let byte = current {
            if byte == quote && peek(1) == quote && peek(2) == quote {
                // Up to two more quotes are content: `"""a""""` is `a"`.
                var run = 3
                while run < 5 && peek(run) == quote { run += 1 }
                text.append(contentsOf: repeatElement(quote, count: run - 3))
                advance(run)
                return String(decoding: text, as: UTF8.self)
            }
            if consumeNewline() {
                text.append(UInt8(ascii: "\n"))
            } else if quote == UInt8(ascii: "\"") && byte == UInt8(ascii: "\\") {
                if isLineEndingBackslash {
                    advance()
                    skipSpaces()
                    while consumeNewline() { skipSpaces() }
                } else {
                    try parseEscape(into: &text)
                }
            } else {
                try append(byte, to: &text)
            }
        }
        throw error("unterminated multi-line string", line: line, column: column)
    }

    var isLineEndingBackslash: Bool {
        var offset = 1
        while peek(offset) == UInt8(ascii: " ") || peek(offset) == UInt8(ascii: "\t") { offset += 1 }
        return peek(offset) == UInt8(ascii: "\n")
            || (peek(offset) == UInt8(ascii: "\r") && peek(offset + 1) == UInt8(ascii: "\n"))
    }

    /// Appends one byte of string content; TOML forbids control characters other than tab.
    mutating func append(_ byte: UInt8, to text: inout [UInt8]) throws(TOMLError) {
        if (byte < 0x20 && byte != UInt8(ascii: "\t")) || byte == 0x7F {
            throw error("control character 0x\(String(byte, radix: 16)) must be escaped in a string")
        }
        text.append(byte)
        advance()
    }

    mutating func parseEscape(into text: inout [UInt8]) throws(TOMLError) {
        let line = self.line, column = self.column
        advance()
        guard let letter = current else { throw error("unterminated string") }
        advance()
        switch letter {
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): text.append(letter)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = letter == UInt8(ascii: "u") ? 4 : 8
            let end = min(position + count, bytes.count)
            let digits = String(decoding: bytes[position..<end], as: UTF8.self)
            guard digits.utf8.count == count, digits.allSatisfy(\.isHexDigit),
                  let code = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(code) else {
                throw error("invalid unicode escape '\\\(Character(Unicode.Scalar(letter)))\(digits)'",
                            line: line, column: column)
            }
            advance(count)
            text.append(contentsOf: String(Character(scalar)).utf8)
        default:
            throw error("invalid escape '\\\(String(decoding: [letter], as: UTF8.self))'", line: line, column: column)
        }
    }

    // MARK: Booleans and numbers

    /// A value written without quotes: a boolean, an integer or a float.
    mutating func parseBareValue() throws(TOMLError) -> TOMLValue {
        let line = self.line, column = self.column
        let start = position
        while let byte = current, TOMLKey.isBare(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") {
            advance()
        }
        let token = String(decoding: bytes[start..<position], as: UTF8.self)
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: break
        }
        if let first = token.utf8.first,
           !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) && first != UInt8(ascii: "+") && first != UInt8(ascii: "-") {
            throw error("expected a value, found '\(token)' (strings need quotes)", line: line, column: column)
        }
        switch TOMLNumber.parse(token) {
        case .valid(let value): return value
        case .outOfRange: throw error("integer '\(token)' does not fit in 64 bits", line: line, column: column)
        case .invalid: throw error("invalid number '\(token)'", line: line, column: column)
        }
    }
}

private enum TOMLNumber {
    enum Parsed {
        case valid(TOMLValue)
        case outOfRange
        case invalid
    }

    /// TOML integers (decimal, 0x, 0o, 0b, with `_` between digits) and decimal floats.
    static func parse(_ token: String) -> Parsed {
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where token.hasPrefix(prefix) {
            guard let digits = digitsWithoutUnderscores(token.dropFirst(2), radix: radix) else { return .invalid }
            guard let magnitude = UInt64(digits, radix: radix) else { return .outOfRange }
            return .valid(integer(magnitude, negative: false))
        }
        let negative = token.hasPrefix("-")
        let unsigned = token.hasPrefix("-") || token.hasPrefix("+") ? token.dropFirst() : Substring(token)
        if unsigned.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            return parseFloat(unsigned, negative: negative)
        }
        guard let digits = decimalWithoutLeadingZero(unsigned) else { return .invalid }
        guard let magnitude = UInt64(digits) else { return .outOfRange }
        if negative && magnitude > UInt64(Int64.max) + 1 { return .outOfRange }
        return .valid(integer(magnitude, negative: negative))
    }

    private static func integer(_ magnitude: UInt64, negative: Bool) -> TOMLValue {
        if negative { return .integer(Int64(truncatingIfNeeded: 0 &- magnitude)) }
        return magnitude <= UInt64(Int64.max) ? .integer(Int64(magnitude)) : .unsignedInteger(magnitude)
    }

    /// `1.5`, `6.02e23`, `1e-3` (the sign already removed): integer part, then a fraction,
    /// an exponent or both.
    private static func parseFloat(_ text: Substring, negative: Bool) -> Parsed {
        let exponentStart = text.firstIndex { $0 == "e" || $0 == "E" }
        let mantissa = text[..<(exponentStart ?? text.endIndex)]
            .split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = decimalWithoutLeadingZero(mantissa[0]) else { return .invalid }
        var literal = (negative ? "-" : "") + whole
        if mantissa.count == 2 {
            guard let fraction = digitsWithoutUnderscores(mantissa[1], radix: 10) else { return .invalid }
            literal += "." + fraction
        }
        if let exponentStart {
            var exponent = text[text.index(after: exponentStart)...]
            let sign = exponent.first == "-" || exponent.first == "+" ? String(exponent.removeFirst()) : ""
            guard let digits = digitsWithoutUnderscores(exponent, radix: 10) else { return .invalid }
            literal += "e" + sign + digits
        }
        guard let value = Double(literal), value.isFinite else { return .invalid }
        return .valid(.float(value))
    }

    /// Decimal digits where a leading zero is only allowed on its own, as TOML requires.
    private static func decimalWithoutLeadingZero(_ text: Substring) -> String? {
        guard let digits = digitsWithoutUnderscores(text, radix: 10) else { return nil }
        return digits.count > 1 && digits.hasPrefix("0") ? nil : digits
    }

    /// The digits of `text`, each valid in `radix`, with each `_` between two digits removed;
    /// nil if `text` is empty, has another character, or a `_` not between digits.
    private static func digitsWithoutUnderscores(_ text: Substring, radix: Int) -> String? {
        guard let first = text.first, let last = text.last, first != "_", last != "_", !text.contains("__") else {
            return nil
        }
        let digits = text.filter { $0 != "_" }
        guard digits.allSatisfy({ $0.isASCII && $0.hexDigitValue.map { $0 < radix } == true }) else { return nil }
        return digits
    }
}
