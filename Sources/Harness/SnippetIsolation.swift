import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A snippet reads files from its own folder only (its source, its manifest, `include/`, and
/// what `.include`, `.incbin` and `#include` name), unless the user passes another folder
/// (`--allow-path`): a snippet from elsewhere cannot read, or put into an image, a file the
/// user did not hand over, and the image cache key (the folder's contents) stays complete.
public enum SnippetIsolation {
    /// A path a snippet names that lies outside the folders it may read.
    public struct Violation: Error, Equatable, CustomStringConvertible {
        public let file: String
        public let line: Int?
        /// The directive (`.include`, `.incbin`, `#include`) or the file's role.
        public let field: String
        public let message: String

        public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(field): \(message)" }
    }

    /// Checks the snippet's own files and every file its sources name, recursively.
    public static func check(_ snippet: Snippet) throws(Violation) {
        let roots = ([snippet.source.deletingLastPathComponent()] + snippet.allowedDirectories).map(resolved)
        let hint = "a snippet may name only files in its folder \(Snippet.relative(roots[0])) (pass --allow-path DIR to allow another)"
        let own = [(snippet.source, "source"), (snippet.manifestFile, "manifest"), (snippet.includeDirectory, "include folder")]
            + includeFiles(snippet.includeDirectory).map { ($0, "include file") }
        for (url, role) in own where FileManager.default.fileExists(atPath: url.path) && !inside(resolved(url.path), roots) {
            throw Violation(file: Snippet.relative(url.path), line: nil, field: role,
                            message: "a symbolic link to \(resolved(url.path)), outside its folder; \(hint)")
        }
        var pending = [snippet.source.path]
        var scanned: Set<String> = []
        while let file = pending.popLast() {
            // Bytes that are not UTF-8 are read as U+FFFD: they cannot hide a directive.
            guard scanned.insert(resolved(file)).inserted, let data = FileManager.default.contents(atPath: file) else { continue }
            for reference in SourceReference.all(in: String(decoding: data, as: UTF8.self)) {
                if let problem = reference.problem {
                    throw Violation(file: Snippet.relative(file), line: reference.line, field: reference.field, message: problem)
                }
                let found = try target(of: reference, in: file, snippet: snippet, roots: roots, hint: hint)
                if reference.field != ".incbin" { pending += found }
            }
        }
    }

    /// Where the assembler or preprocessor may find `reference` (the working directory, the
    /// including file's folder, `include/` and the allowed folders, as they search): every
    /// existing candidate must lie inside the roots. Returns the candidates found.
    private static func target(of reference: SourceReference, in file: String, snippet: Snippet, roots: [String],
                               hint: String) throws(Violation) -> [String] {
        let fail = { (message: String) in
            Violation(file: Snippet.relative(file), line: reference.line, field: reference.field, message: "\"\(reference.path)\": \(message)")
        }
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        if reference.path.hasPrefix("/") && !inside(resolved(reference.path), roots) {
            throw fail("an absolute path outside the snippet's folder; \(hint)")
        }
        // `..` is read from the including file's folder or from include/ (the -I folder): it
        // must stay inside from one of them, existing or not.
        let lexical = [directory, snippet.includeDirectory.path].map {
            URL(fileURLWithPath: resolved($0) + "/" + reference.path).standardizedFileURL.path
        }
        if reference.path.split(separator: "/").contains(".."), !lexical.contains(where: { inside($0, roots) }) {
            throw fail("`..` leads outside the snippet's folder; \(hint)")
        }
        let bases = reference.path.hasPrefix("/") ? [""]
            : [FileManager.default.currentDirectoryPath, directory, snippet.includeDirectory.path] + roots
        let candidates = bases.map { $0.isEmpty ? reference.path : $0 + "/" + reference.path }
            .filter { FileManager.default.fileExists(atPath: $0) }
        for candidate in candidates where !inside(resolved(candidate), roots) {
            throw fail("resolves to \(resolved(candidate)) (through a symbolic link or the working directory), outside the snippet's folder; \(hint)")
        }
        // Not found inside: the assembler would search further (system folders), or fail.
        guard !candidates.isEmpty else { throw fail("not found in the snippet's folder, its include/ or an allowed folder") }
        return candidates
    }

    private static func includeFiles(_ directory: URL) -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).map { directory.appendingPathComponent($0) }
    }

    /// The path with every symbolic link and `..` resolved (realpath(3)); as given if it does not exist.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return URL(fileURLWithPath: path).standardizedFileURL.path }
        defer { free(real) }
        return String(cString: real)
    }

    static func resolved(_ url: URL) -> String { resolved(url.path) }

    private static func inside(_ path: String, _ roots: [String]) -> Bool {
        roots.contains { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
    }
}
