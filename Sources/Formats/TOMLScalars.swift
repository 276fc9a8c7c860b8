// TOML strings, booleans and numbers.

extension TOMLParser {
    // MARK: Strings

    mutating func parseBasicString() throws(FormatError) -> String {
        let mark = self.mark
        advance()
        var text: [UInt8] = []
        while true {
            switch current {
            case nil, UInt8(ascii: "\n")?, UInt8(ascii: "\r")?:
                throw error("unterminated string", at: mark)
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

    mutating func parseLiteralString() throws(FormatError) -> String {
        let mark = self.mark
        advance()
        var text: [UInt8] = []
        while true {
            switch current {
            case nil, UInt8(ascii: "\n")?, UInt8(ascii: "\r")?:
                throw error("unterminated string", at: mark)
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
    mutating func parseMultilineString() throws(FormatError) -> String {
        let mark = self.mark
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
        throw error("unterminated multi-line string", at: mark)
    }

    var isLineEndingBackslash: Bool {
        var offset = 1
        while peek(offset) == UInt8(ascii: " ") || peek(offset) == UInt8(ascii: "\t") { offset += 1 }
        return peek(offset) == UInt8(ascii: "\n")
            || (peek(offset) == UInt8(ascii: "\r") && peek(offset + 1) == UInt8(ascii: "\n"))
    }

    /// Appends one byte of string content; TOML forbids control characters other than tab.
    mutating func append(_ byte: UInt8, to text: inout [UInt8]) throws(FormatError) {
        if (byte < 0x20 && byte != UInt8(ascii: "\t")) || byte == 0x7F {
            throw error("control character 0x\(String(byte, radix: 16)) must be escaped in a string")
        }
        text.append(byte)
        advance()
    }

    mutating func parseEscape(into text: inout [UInt8]) throws(FormatError) {
        let mark = self.mark
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
                            at: mark)
            }
            advance(count)
            text.append(contentsOf: String(Character(scalar)).utf8)
        default:
            throw error("invalid escape '\\\(String(decoding: [letter], as: UTF8.self))'", at: mark)
        }
    }

    // MARK: Booleans and numbers

    /// A value written without quotes: a boolean, an integer or a float; `path` names it.
    mutating func parseBareValue(path: String) throws(FormatError) -> TOMLValue {
        let mark = self.mark
        let start = position
        while let byte = current, TOMLKey.isBare(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") {
            advance()
        }
        let token = String(decoding: bytes[start..<position], as: UTF8.self)
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf", "-inf", "nan", "+nan", "-nan":
            // Valid TOML 1.0 (Float), but no field has a use for them: a documented departure.
            throw valueError(path, "inf and nan are not supported, found '\(token)'", at: mark)
        default: break
        }
        if let first = token.utf8.first,
           !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) && first != UInt8(ascii: "+") && first != UInt8(ascii: "-") {
            throw error("expected a value, found '\(token)' (strings need quotes)", at: mark)
        }
        switch TOMLNumber.parse(token) {
        case .valid(let value): return value
        case .outOfRange: throw valueError(path, "integer '\(token)' does not fit in 64 bits", at: mark)
        case .infinite: throw valueError(path, "float '\(token)' does not fit in 64 bits (it rounds to inf)", at: mark)
        case .invalid:
            // TOML 1.0 (Offset Date-Time ... Local Time): valid, but a documented departure.
            if isDateOrTime(token) { throw valueError(path, "dates and times are not supported, found '\(token)'", at: mark) }
            throw error("invalid number '\(token)'", at: mark)
        }
    }

    /// `1979-05-27...` (a date, maybe with a time) or `07:32...` (a time): four digits and a
    /// dash, or two digits followed by a colon.
    func isDateOrTime(_ token: String) -> Bool {
        let bytes = Array(token.utf8), isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        if bytes.count >= 5 && bytes[0..<4].allSatisfy(isDigit) && bytes[4] == UInt8(ascii: "-") { return true }
        return bytes.count == 2 && bytes.allSatisfy(isDigit) && current == UInt8(ascii: ":")
    }

    /// An error about a value that has a field path (a number out of range, an unsupported
    /// form): named as type errors are, at the value's line and column.
    func valueError(_ path: String, _ message: String, at mark: Mark) -> FormatError {
        FormatError(file: file, line: mark.line, column: column(of: mark), field: path, message: "field '\(path)': \(message)")
    }
}

enum TOMLNumber {
    enum Parsed {
        case valid(TOMLValue)
        case outOfRange
        /// A float beyond binary64's range: TOML 1.0 would round it to inf, which we reject.
        case infinite
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
        // The caller checked magnitude <= 2^63; -2^63 alone has no positive Int64 counterpart.
        if negative { return .integer(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)) }
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
        guard let value = Double(literal) else { return .invalid }
        guard value.isFinite else { return .infinite }
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
