import Formats
import FoundationEssentials

/// A guest snippet: `NAME.S` and its manifest `NAME.toml` side by side in `guest-images/`.
public struct Snippet: Sendable, Equatable {
    public let name: String
    public let source: URL
    public let manifestFile: URL
    /// Folders besides its own that the user lets this snippet read (`--allow-path`).
    public var allowedDirectories: [URL] = []

    /// The folder of shared includes (`mairlab.inc`) next to the snippets.
    public var includeDirectory: URL { source.deletingLastPathComponent().appendingPathComponent("include") }

    /// Accepts `guest-images/NAME`, `guest-images/NAME.S`, `guest-images/NAME.toml`, or a bare
    /// `NAME` looked up in `guest-images/`.
    public init(path: String, searchDirectory: URL = URL(fileURLWithPath: "guest-images")) throws {
        var base = path
        for ext in [".S", ".toml"] where base.hasSuffix(ext) { base.removeLast(ext.count) }
        var candidates = [base]
        if !base.contains("/") { candidates.append(searchDirectory.appendingPathComponent(base).path) }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + ".S") }) else {
            throw HarnessError.snippetNotFound(path)
        }
        source = URL(fileURLWithPath: found + ".S")
        manifestFile = URL(fileURLWithPath: found + ".toml")
        name = source.deletingPathExtension().lastPathComponent
        guard FileManager.default.fileExists(atPath: manifestFile.path) else {
            throw HarnessError.manifestMissing(snippet: found + ".S", expected: found + ".toml")
        }
    }

    /// Every snippet in `directory` (each `.S` with a manifest), sorted by name. A `.S` without
    /// a manifest is reported, not skipped silently.
    public static func all(in directory: URL = URL(fileURLWithPath: "guest-images")) throws -> [Snippet] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".S") }
            .sorted { $0.dropLast(2) < $1.dropLast(2) }
        return try names.map { try Snippet(path: directory.appendingPathComponent($0).path) }
    }

    /// This snippet, also allowed to read files in `directories`.
    public func allowing(_ directories: [URL]) -> Snippet {
        var copy = self
        copy.allowedDirectories += directories
        return copy
    }

    /// The path as a person typed it, relative to the working directory when possible.
    public var displayPath: String { Self.relative(source.path) }
    public var displayManifest: String { Self.relative(manifestFile.path) }

    public static func relative(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }
}
