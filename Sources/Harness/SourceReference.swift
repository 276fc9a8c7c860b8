/// A file a snippet's source names (`.include`, `.incbin`, `#include`), found by reading the
/// text as the assembler splits it: statements end at a newline or a `;`, `//` starts a
/// comment, labels may precede a directive, directive names are case-insensitive.
///
/// It reads text, not what macros expand to: a directive whose path is not a literal string
/// (a macro argument, a preprocessor name) or that a `#define` hides is refused, and so is
/// `.altmacro`, whose substitution rules reach inside strings. Token pasting that builds a
/// directive's name is not seen (docs/reliability.md, "Out of scope").
struct SourceReference: Equatable {
    let line: Int
    let field: String
    let path: String
    /// Why the statement is refused as it stands, if it is.
    var problem: String?

    static let directives = [".include", ".incbin", "#include"]

    static func all(in text: String) -> [SourceReference] {
        var found: [SourceReference] = []
        for (index, line) in withoutBlockComments(text).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            for statement in statements(line) {
                if let reference = reference(in: withoutLabels(statement), line: index + 1) { found.append(reference) }
            }
        }
        return found
    }

    /// `/* ... */` outside strings replaced by blanks, newlines kept (so lines keep their numbers).
    static func withoutBlockComments(_ text: String) -> String {
        var result = "", quoted = false, inComment = false
        var characters = text.makeIterator(), pending: Character? = nil
        while let character = pending ?? characters.next() {
            pending = nil
            if inComment {
                if character == "*", let next = characters.next() {
                    if next == "/" { inComment = false; result.append(" ") } else { pending = next }
                } else {
                    result.append(character == "\n" ? "\n" : " ")
                }
                continue
            }
            if character == "\"" { quoted.toggle() }
            if !quoted, character == "/", let next = characters.next() {
                if next == "*" { inComment = true; result.append(" ") } else { result.append(character); pending = next }
                continue
            }
            result.append(character)
        }
        return result
    }

    /// A line split at `;` outside strings, up to a `//` comment outside strings.
    static func statements(_ line: Substring) -> [Substring] {
        var parts: [Substring] = []
        var start = line.startIndex, quoted = false, index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            if character == "\"" { quoted.toggle() }
            if !quoted && character == "/" && line[index...].hasPrefix("//") { break }
            if !quoted && character == ";" {
                parts.append(line[start..<index])
                start = line.index(after: index)
            }
            index = line.index(after: index)
        }
        parts.append(line[start..<index])
        return parts
    }

    /// The statement after any `label:` prefixes, without leading blanks.
    static func withoutLabels(_ statement: Substring) -> Substring {
        var rest = statement.drop { $0 == " " || $0 == "\t" }
        while let colon = rest.firstIndex(of: ":"),
              !rest[..<colon].isEmpty, rest[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "_.$".contains($0) }) {
            rest = rest[rest.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
        }
        return rest
    }

    private static func reference(in raw: Substring, line: Int) -> SourceReference? {
        // `#  include` is `#include` to the preprocessor.
        let statement = raw.first == "#" ? "#" + raw.dropFirst().drop { $0 == " " || $0 == "\t" } : raw
        let lower = statement.lowercased()
        if lower.hasPrefix(".altmacro") {
            return SourceReference(line: line, field: ".altmacro", path: "",
                                   problem: "not accepted: its substitutions can build a file name the check cannot read")
        }
        if lower.hasPrefix("#define"), directives.contains(where: { lower.contains($0) }) {
            return SourceReference(line: line, field: "#define", path: "",
                                   problem: "a directive naming a file inside a macro cannot be checked; write it out")
        }
        guard let field = directives.first(where: { lower.hasPrefix($0) }) else { return nil }
        let rest = statement.dropFirst(field.count)
        guard let first = rest.first, first == " " || first == "\t" || first == "\"" || first == "<" else { return nil }
        let operand = rest.drop { $0 == " " || $0 == "\t" }
        let close: Character? = operand.first == "\"" ? "\"" : operand.first == "<" && field == "#include" ? ">" : nil
        guard let close, let end = operand.dropFirst().firstIndex(of: close),
              !operand[operand.index(after: operand.startIndex)..<end].contains("\\") else {
            return SourceReference(line: line, field: field, path: String(operand),
                                   problem: "\(operand.trimmingSuffix()) is not a literal file name (a macro argument or name); write the file name out")
        }
        return SourceReference(line: line, field: field, path: String(operand[operand.index(after: operand.startIndex)..<end]))
    }
}

private extension Substring {
    func trimmingSuffix() -> Substring {
        var text = self
        while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
        return text
    }
}
