import Formats
import FoundationEssentials
import Unicorn

/// Everything that can go wrong before or around a guest run, each naming the file, line,
/// field or guest site involved. A guest's own misbehaviour is an `Outcome`, not an error.
public enum HarnessError: Error, CustomStringConvertible, Equatable {
    case noToolchain
    case snippetNotFound(String)
    case manifestMissing(snippet: String, expected: String)
    /// A manifest, policy or cost file, with its file, line and field.
    case format(FormatError)
    case assembly(file: String, diagnostics: String)
    case link(file: String, diagnostics: String)
    case image(file: String, message: String)
    case unicorn(UnicornError)
    case io(String)
    /// A path a snippet names outside its folder (file, line, field).
    case isolation(SnippetIsolation.Violation)

    public var description: String {
        switch self {
        case .noToolchain:
            "no AArch64 assembler found: need clang and ld.lld (shipped with the Swift toolchain) or Debian's binutils-aarch64-linux-gnu (apt-get install -y binutils-aarch64-linux-gnu)"
        case .snippetNotFound(let path):
            "no snippet at \(path): expected NAME.S with a manifest NAME.toml beside it"
        case .manifestMissing(let snippet, let expected):
            "snippet \(snippet) has no manifest: expected \(expected)"
        case .format(let error):
            error.description
        case .assembly(let file, let diagnostics):
            "assembling \(file) failed:\n\(diagnostics)"
        case .link(let file, let diagnostics):
            "linking \(file) failed:\n\(diagnostics)"
        case .image(let file, let message):
            "\(file): \(message)"
        case .unicorn(let error):
            "emulator: \(error)"
        case .io(let message):
            message
        case .isolation(let violation):
            violation.description
        }
    }
}
