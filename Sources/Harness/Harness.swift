import Foundation

/// The entry points the CLI and the tests use.
public enum Harness {
    /// Assembles (or takes from the cache), loads and runs one snippet.
    public static func run(_ snippet: Snippet, options: RunOptions = RunOptions(),
                           cache: ImageCache = .standard()) throws -> RunReport {
        let loaded = try LoadedSnippet.load(snippet, cache: cache)
        return try GuestRun(loaded, options: options).run()
    }
}

extension RunReport {
    /// The report for a person at a terminal.
    public var text: String {
        var lines = ["\(snippet): \(outcome.status.rawValue)", "  \(outcome.message)"]
        if let fault = outcome.fault {
            lines.append("  fault: \(fault.kind.rawValue) at \(fault.site) (pc \(fault.pc))"
                         + (fault.instruction.map { ": \($0)" } ?? ""))
        }
        lines.append("  guest instructions: \(guestInstructions)")
        lines.append("  trapped VM-register writes (HCR_EL2.TVM): \(traps.total)")
        for (register, count) in traps.byRegister.sorted(by: { $0.key < $1.key }) {
            lines.append("    \(register.padding(toLength: 15, withPad: " ", startingAt: 0)) \(count)")
        }
        for event in traps.events {
            let rewritten = event.loaded == event.value ? "" : " -> \(event.loaded)"
            lines.append("    \(event.site): \(event.register) <- \(event.value)\(rewritten)")
        }
        if !syncPoints.isEmpty {
            lines.append("  sync points: " + syncPoints.map { "#\($0.id) at \($0.site)" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
