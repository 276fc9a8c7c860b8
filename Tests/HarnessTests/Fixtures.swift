import Foundation
import Hypervisor
@testable import Harness

/// Snippets written by the tests themselves, in a temporary folder beside a copy of the shared
/// include, so each test shows the guest code its assertions are derived from.
enum Fixtures {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let guestImages = repository.appendingPathComponent("guest-images")
    /// One cache for the whole test run, away from the user's.
    static let cache = ImageCache(directory: FileManager.default.temporaryDirectory
        .appendingPathComponent("mairlab-test-cache-\(ProcessInfo.processInfo.processIdentifier)"))

    static let defaultManifest = """
        description = "test snippet"
        [image]
        text = 0x40080000
        [run]
        budget = 10_000
        [[memory]]
        name = "ram"
        base = 0x40000000
        size = 0x200000
        """

    /// Writes NAME.S (prefixed with the include and a `_start` label) and NAME.toml.
    static func snippet(_ name: String, _ body: String, manifest: String = defaultManifest,
                        rawSource: Bool = false) throws -> Snippet {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-fixture-\(UUID().uuidString)")
        let include = dir.appendingPathComponent("include")
        try FileManager.default.createDirectory(at: include, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: guestImages.appendingPathComponent("include/mairlab.inc"),
                                         to: include.appendingPathComponent("mairlab.inc"))
        let source = rawSource ? body : """
                .include "mairlab.inc"
                .text
                .globl _start
        _start:
        \(body)
                .ltorg
        """
        try (source + "\n").write(to: dir.appendingPathComponent(name + ".S"), atomically: true, encoding: .utf8)
        try manifest.write(to: dir.appendingPathComponent(name + ".toml"), atomically: true, encoding: .utf8)
        return try Snippet(path: dir.appendingPathComponent(name).path)
    }

    static func run(_ snippet: Snippet, options: RunOptions = RunOptions()) throws -> RunReport {
        try Runner.run(snippet, options: options, cache: cache)
    }

    /// A snippet shipped in guest-images/, loaded.
    static func shipped(_ name: String) throws -> LoadedSnippet {
        try load(Snippet(path: guestImages.appendingPathComponent(name).path))
    }

    /// A shipped snippet under a policy, eviction schedules explored.
    static func run(shipped name: String, _ policy: Policy) throws -> RunReport {
        try Runner.run(shipped(name), options: RunOptions(policy: policy))
    }

    static func load(_ snippet: Snippet) throws -> LoadedSnippet {
        try LoadedSnippet.load(snippet, cache: cache)
    }
}
