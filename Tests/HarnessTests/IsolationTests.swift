import Foundation
import Testing
@testable import Harness

/// A snippet reads only its own folder unless the user passes another: absolute paths, `..`
/// and symbolic links that leave it are refused before anything is assembled, naming the
/// file, the line and the directive. (Fixture sources start with 4 lines: the include, `.text`,
/// `.globl`, `_start:`; the body's first line is line 5.)
@Suite struct IsolationTests {
    static func folder(_ snippet: Snippet) -> URL { snippet.source.deletingLastPathComponent() }

    /// A file outside every snippet's folder.
    static func outsideFile(_ name: String, _ text: String = "// outside\n") throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    static func hint(_ snippet: Snippet) -> String {
        "a snippet may name only files in its folder \(SnippetIsolation.resolved(folder(snippet))) (pass --allow-path DIR to allow another)"
    }

    static func refusal(_ snippet: Snippet) -> String? {
        do {
            _ = try Fixtures.load(snippet)
            return nil
        } catch HarnessError.isolation(let violation) {
            return violation.description
        } catch {
            return "other error: \(error)"
        }
    }

    /// (body, line, directive, what follows it in the message): each refused before assembly,
    /// the file absent or not. HINT stands for the folder and `--allow-path` hint.
    static let directives: [(String, Int, String, String)] = [
        ("nop\n        .incbin \"/etc/passwd\"\nmairlab_end 0", 6, ".incbin",
         "\"/etc/passwd\": an absolute path outside the snippet's folder; HINT"),
        (".include \"../../elsewhere.inc\"\nmairlab_end 0", 5, ".include",
         "\"../../elsewhere.inc\": `..` leads outside the snippet's folder; HINT"),
        ("# include <stdio.h>\nmairlab_end 0", 5, "#include",
         "\"stdio.h\": not found in the snippet's folder, its include/ or an allowed folder"),
        // Upper case, after a label and a `;`, after a block comment: the assembler reads them.
        ("here: nop; /* x */ .INCBIN \"/etc/passwd\"\nmairlab_end 0", 5, ".incbin",
         "\"/etc/passwd\": an absolute path outside the snippet's folder; HINT"),
        (".macro grab p\n.incbin \"\\p\"\n.endm\nmairlab_end 0", 6, ".incbin",
         "\"\\p\" is not a literal file name (a macro argument or name); write the file name out"),
        ("#define SECRET .incbin \"/etc/passwd\"\nmairlab_end 0", 5, "#define",
         "a directive naming a file inside a macro cannot be checked; write it out"),
        (".altmacro\nmairlab_end 0", 5, ".altmacro",
         "not accepted: its substitutions can build a file name the check cannot read"),
    ]

    @Test(arguments: directives)
    func aDirectiveNamingAPathOutsideIsRefused(body: String, line: Int, field: String, tail: String) throws {
        let snippet = try Fixtures.snippet("directive", body)
        let message = tail.replacingOccurrences(of: "HINT", with: Self.hint(snippet))
        #expect(Self.refusal(snippet) == "\(snippet.displayPath):\(line): \(field): \(message)")
    }

    @Test func aSymbolicLinkOutOfTheFolderIsRefused() throws {
        let target = try Self.outsideFile("secret.inc")
        let snippet = try Fixtures.snippet("link", "#include \"secret.inc\"\nmairlab_end 0")
        try FileManager.default.createSymbolicLink(at: Self.folder(snippet).appendingPathComponent("secret.inc"), withDestinationURL: target)
        #expect(Self.refusal(snippet) ==
                "\(snippet.displayPath):5: #include: \"secret.inc\": resolves to \(SnippetIsolation.resolved(target.path)) (through a symbolic link or the working directory), outside the snippet's folder; \(Self.hint(snippet))")
    }

    @Test func aManifestLinkedFromElsewhereIsRefused() throws {
        let snippet = try Fixtures.snippet("manifest", "mairlab_end 0")
        let target = try Self.outsideFile("manifest.toml", Fixtures.defaultManifest)
        try FileManager.default.removeItem(at: snippet.manifestFile)
        try FileManager.default.createSymbolicLink(at: snippet.manifestFile, withDestinationURL: target)
        #expect(Self.refusal(snippet) ==
                "\(snippet.displayManifest): manifest: a symbolic link to \(SnippetIsolation.resolved(target.path)), outside its folder; \(Self.hint(snippet))")
    }

    /// A file the source includes is read the same way: its own directives name it and its line.
    @Test func anIncludedFileIsCheckedToo() throws {
        let snippet = try Fixtures.snippet("nested", ".include \"inner.inc\"\nmairlab_end 0")
        let inner = Self.folder(snippet).appendingPathComponent("include/inner.inc")
        try "// inner\n    .incbin \"../../x.bin\"\n".write(to: inner, atomically: true, encoding: .utf8)
        #expect(Self.refusal(snippet) ==
                "\(Snippet.relative(inner.path)):2: .incbin: \"../../x.bin\": `..` leads outside the snippet's folder; \(Self.hint(snippet))")
    }

    /// What the user passes is allowed, and `..` that stays inside the folder is fine.
    @Test func allowedFoldersAndInnerDotDotAreRead() throws {
        let data = try Self.outsideFile("data.bin", "ABCD")
        let snippet = try Fixtures.snippet("allowed", """
                    b       over
                    .incbin "\(data.path)"
                    .incbin "../include/mairlab.inc"
                    .balign 4
            over:   mairlab_end 0
            """)
        #expect(Self.refusal(snippet) == "\(snippet.displayPath):6: .incbin: \"\(data.path)\": an absolute path outside the snippet's folder; \(Self.hint(snippet))")
        let report = try Fixtures.run(snippet.allowing([data.deletingLastPathComponent()]))
        #expect(report.outcome.status == .completed)
        #expect(report.outcome.exitStatus == 0)
    }

    @Test func directivesAreFoundWithTheirLines() {
        let text = "  .include \"a.inc\"\n// .include \"no\"\n\t.incbin \"b.bin\", 0, 4\n#include <c.h>\n.includex\n/* .incbin \"no\"\n */ x: .incbin \"d\" // .incbin \"no\""
        #expect(SourceReference.all(in: text) == [
            .init(line: 1, field: ".include", path: "a.inc"),
            .init(line: 3, field: ".incbin", path: "b.bin"),
            .init(line: 4, field: "#include", path: "c.h"),
            .init(line: 7, field: ".incbin", path: "d"),
        ])
    }
}
