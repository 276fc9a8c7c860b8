import Formats
import FoundationEssentials
import Harness

/// A suite file read back and checked: its context, its runs, and whether it is whole. Readers
/// that compare or merge refuse partial, foreign and mismatched files; `--resume` reads a
/// partial one on purpose.
public struct SuiteFile: Sendable {
    public let display: String
    public let context: SuiteContext
    public let entries: [SuiteRun.Entry]
    /// The closing record (nil: the file was interrupted, or is still being written).
    public let end: SuiteEnd?
    /// A last line cut short by a kill (only accepted when reading for `--resume`).
    public let truncatedLastLine: Bool

    public struct Problem: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Reads `url`; `partial` accepts a file without its closing record (and a last line cut
    /// short), for resuming it.
    public init(_ url: URL, display: String, partial: Bool = false) throws(Problem) {
        self.display = display
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw Problem(description: "\(display): cannot read: \(systemReason(error))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Problem(description: "\(display): not UTF-8 text: not a suite file")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw Problem(description: "\(display): empty: not a suite file") }
        var records: [SuiteRecord] = []
        var truncated = false
        for (number, line) in lines.enumerated() {
            do {
                records.append(try SuiteRecord(jsonLine: line))
            } catch {
                // A kill can cut the last line short; anywhere else a bad line is damage.
                if partial && number == lines.count - 1 && !text.hasSuffix("\n") {
                    truncated = true
                    break
                }
                throw Problem(description: "\(display):\(number + 1): not a suite record of schema \(SuiteContext.schemaVersion)")
            }
        }
        guard case .context(let context) = records.first else {
            throw Problem(description: "\(display):1: the first record is not a context record: not a suite file")
        }
        guard context.schema == SuiteContext.schemaVersion else {
            throw Problem(description: "\(display): schema \(context.schema.map(String.init) ?? "1 (none stated)"), this mairlab reads schema \(SuiteContext.schemaVersion): run the suite again")
        }
        guard context.plan != nil else { throw Problem(description: "\(display): no suite plan in its context: not a suite file") }
        var end: SuiteEnd?
        for (number, record) in records.enumerated().dropFirst() {
            if end != nil { throw Problem(description: "\(display):\(number + 1): a record after the closing record") }
            switch record {
            case .context: throw Problem(description: "\(display):\(number + 1): a second context record")
            case .end(let closing): end = closing
            case .run, .error: break
            }
        }
        self.context = context
        self.end = end
        truncatedLastLine = truncated
        entries = SuiteRecords.entries(in: records)
        if !partial { try requireComplete() }
    }

    public var plan: SuitePlan.Summary { context.plan! }

    /// Refuses a file that does not hold every run its plan selected.
    public func requireComplete() throws(Problem) {
        guard let end else {
            throw Problem(description: "\(display): no closing record: the suite was interrupted or is still running (finish it with `mairlab run --resume \(display)`)")
        }
        guard end.complete else {
            throw Problem(description: "\(display): incomplete: \(end.interrupted.map { "interrupted by \($0)" } ?? "stopped early") after \(end.runs) of \(plan.selected) runs (finish it with `mairlab run --resume \(display)`)")
        }
        guard entries.count == plan.selected, Set(entries.map(\.key)).count == entries.count else {
            throw Problem(description: "\(display): holds \(entries.count) runs, its plan \(plan.selected): damaged")
        }
    }

    /// The run records by `snippet policy`.
    public var reports: [String: RunReport] {
        Dictionary(entries.compactMap(\.report).map { (RunDiff.key($0), $0) }, uniquingKeysWith: { first, _ in first })
    }
}

extension SuiteFile {
    /// Shards of one suite joined: each complete, all from one commit, one suite definition, one
    /// shard count, every shard present once, no run twice. Entries in plan order.
    public static func merge(_ shards: [SuiteFile]) throws(Problem) -> [SuiteRun.Entry] {
        guard let first = shards.first else { throw Problem(description: "no shard given") }
        for shard in shards {
            guard shard.context.gitCommit == first.context.gitCommit else {
                throw Problem(description: "\(shard.display) is from commit \(shard.context.gitCommit), \(first.display) from \(first.context.gitCommit): shards of different commits")
            }
            guard shard.plan.digest == first.plan.digest, shard.plan.runs == first.plan.runs else {
                throw Problem(description: "\(shard.display) and \(first.display) planned different suites (snippets or policies differ)")
            }
        }
        let parsed = shards.map { file in (file, file.plan.shard.flatMap { try? SuiteRun.Shard(parsing: $0) }) }
        if let whole = parsed.first(where: { $0.1 == nil }) {
            guard shards.count == 1 else { throw Problem(description: "\(whole.0.display) is a whole suite, not a shard") }
        } else {
            let count = parsed[0].1!.count
            guard parsed.allSatisfy({ $0.1!.count == count }) else {
                throw Problem(description: "the shards were cut into different counts: \(parsed.map { $0.1!.description }.joined(separator: ", "))")
            }
            let indices = parsed.map { $0.1!.index }
            if let twice = Dictionary(grouping: indices, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
                throw Problem(description: "shard \(twice)/\(count) given twice")
            }
            let missing = Set(1...count).subtracting(indices).sorted()
            guard missing.isEmpty else {
                throw Problem(description: "missing shard(s) \(missing.map { "\($0)/\(count)" }.joined(separator: ", ")) of \(count)")
            }
        }
        var byKey: [String: SuiteRun.Entry] = [:]
        for shard in shards {
            for entry in shard.entries {
                guard byKey[entry.key] == nil else { throw Problem(description: "\(shard.display): \(entry.key) is in two shards") }
                byKey[entry.key] = entry
            }
        }
        guard byKey.count == first.plan.runs else {
            throw Problem(description: "the shards hold \(byKey.count) runs, the suite planned \(first.plan.runs)")
        }
        return first.plan.sorted(Array(byKey.values))
    }
}
