// The TOML 1.0 parser: documents, tables, keys, arrays and inline tables (strings and numbers
// are in TOMLScalars.swift).

struct TOMLParser {
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
        self.init(file: file, bytes: Array(text.utf8))
    }

    /// `bytes` must be valid UTF-8 (`TOMLTable(parsing:file:)` checks bytes read from a file).
    init(file: String, bytes: [UInt8]) {
        self.file = file
        self.bytes = bytes
    }

    /// A point in the text: where a construct began, for errors found after it. The column is
    /// only counted when an error is made (counting it at every value made long lines quadratic).
    struct Mark {
        let line: Int
        let lineStart: Int
        let position: Int
    }

    var mark: Mark { Mark(line: line, lineStart: lineStart, position: position) }

    /// 1-based, in characters rather than bytes, as editors count.
    func column(of mark: Mark) -> Int { Self.column(of: mark, in: bytes) }

    static func column(of mark: Mark, in bytes: [UInt8]) -> Int {
        bytes[mark.lineStart..<mark.position].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
    }

    var current: UInt8? { peek(0) }

    func peek(_ offset: Int) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    func error(_ message: String) -> FormatError { error(message, at: mark) }

    func error(_ message: String, at mark: Mark) -> FormatError {
        FormatError(file: file, line: mark.line, column: column(of: mark), message: message)
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

    /// A comment up to its line end. TOML 1.0 (Comment): control characters other than tab
    /// (U+0000-U+0008, U+000A-U+001F, U+007F) are not permitted in comments; LF and CRLF end it.
    mutating func skipComment() throws(FormatError) {
        guard current == UInt8(ascii: "#") else { return }
        advance()
        while let byte = current, byte != UInt8(ascii: "\n") {
            if byte == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n") { return }
            if (byte < 0x20 && byte != UInt8(ascii: "\t")) || byte == 0x7F {
                throw error("control character 0x\(String(byte, radix: 16)) is not allowed in a comment")
            }
            advance()
        }
    }

    /// Spaces, comments and newlines, as allowed between array elements.
    mutating func skipBlank() throws(FormatError) {
        while true {
            skipSpaces()
            try skipComment()
            if !consumeNewline() { return }
        }
    }

    mutating func expectEndOfLine() throws(FormatError) {
        skipSpaces()
        try skipComment()
        if current != nil && !consumeNewline() { throw error("expected end of line, found \(found)") }
    }

    mutating func parseDocument() throws(FormatError) -> TOMLTable {
        var builder = TOMLTableBuilder(file: file, path: "", line: 1, bytes: bytes)
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

    mutating func parseHeader(_ builder: inout TOMLTableBuilder) throws(FormatError) -> Int {
        let mark = self.mark
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
            ? try builder.appendArrayTable(keys, at: mark)
            : try builder.defineTable(keys, at: mark)
    }

    mutating func parseKeyValue(into builder: inout TOMLTableBuilder, table: Int) throws(FormatError) {
        let mark = self.mark
        let keys = try parseKey()
        guard current == UInt8(ascii: "=") else {
            throw error("expected '=' after key '\(dotted(keys))', found \(found)")
        }
        advance()
        skipSpaces()
        let item = try parseValue(path: builder.path(of: table, extendedBy: keys))
        try builder.insert(item, at: keys, in: table, at: mark)
    }

    /// A dotted key; leaves the cursor after any spaces that follow it.
    mutating func parseKey() throws(FormatError) -> [String] {
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

    mutating func parseSimpleKey() throws(FormatError) -> String {
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
    mutating func parseValue(path: String) throws(FormatError) -> TOMLItem {
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
            value = try parseBareValue(path: path)
        default:
            throw error("expected a value, found \(found)")
        }
        return TOMLItem(value: value, line: line)
    }

    var isTripleQuote: Bool {
        peek(1) == current && peek(2) == current
    }

    mutating func parseArray(path: String) throws(FormatError) -> [TOMLItem] {
        advance()
        var items: [TOMLItem] = []
        while true {
            try skipBlank()
            if current == UInt8(ascii: "]") {
                advance()
                return items
            }
            items.append(try parseValue(path: "\(path)[\(items.count)]"))
            try skipBlank()
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
    mutating func parseInlineTable(path: String) throws(FormatError) -> TOMLTable {
        var builder = TOMLTableBuilder(file: file, path: path, line: line, bytes: bytes)
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
}
