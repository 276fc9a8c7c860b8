import FoundationEssentials

/// Bad input in a file the user wrote (a manifest, a policy or cost file, an image): where it
/// is, as precisely as is known, and what is wrong. It keeps its structure across module
/// boundaries, so a caller can point at the file, the line and the field, not only print it.
public struct FormatError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    /// nil when the error is about the whole file (it cannot be read).
    public let line: Int?
    /// Only for syntax errors, which point into the text.
    public let column: Int?
    /// The field path (`memory[1].size`) when the error is about a field.
    public let field: String?
    /// The whole sentence a person reads (it names the field too).
    public let message: String

    public init(file: String, line: Int?, column: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        return location + ": " + message
    }
}

/// Where a field stands in a file: for checks made after parsing (e.g. an entry symbol that
/// only the built image can confirm).
public struct FieldLocation: Sendable, Equatable {
    public let file: String
    public let line: Int
    public let field: String

    public func error(_ message: String) -> FormatError {
        FormatError(file: file, line: line, field: field, message: "field '\(field)': \(message)")
    }
}

extension TOMLTable {
    /// Reads and parses a whole file; `displayPath` names it in errors.
    public init(contentsOf url: URL, displayPath: String) throws(FormatError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw FormatError(file: displayPath, line: nil, message: "cannot read: \(Self.reason(error))")
        }
        try self.init(utf8: [UInt8](data), file: displayPath)
    }

    /// The system's reason in lower case ("no such file or directory"), as file errors read here.
    static func reason(_ error: any Error) -> String { systemReason(error).lowercased() }
}
