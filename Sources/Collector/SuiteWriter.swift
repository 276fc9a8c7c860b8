import Formats
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Harness

/// Writes a suite file as the suite runs: created exclusively under a name no other process
/// uses, the context first, each run appended and flushed as it finishes (a kill loses no
/// finished run), and at the end the file rewritten in plan order with its closing record
/// (through a temporary file renamed into place), beside its Markdown, CSV and SVG.
public final class SuiteWriter: @unchecked Sendable {
    public let url: URL
    public let context: SuiteContext
    private let lock = Lock()
    /// The open file, -1 once closed.
    private var descriptor: Int32 = -1
    private var written: [SuiteRun.Entry] = []
    /// The JSON line of each run appended by this writer, by key (encoded once, outside the
    /// lock, and reused by `finish`).
    private var lines: [String: String] = [:]

    /// The runs recorded so far (resumed ones included), in the order they finished.
    public var entries: [SuiteRun.Entry] {
        lock.lock()
        defer { lock.unlock() }
        return written
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Creates `STEM.jsonl` in `directory` (a suffix added if a file of that name exists) and
    /// writes the context record.
    public init(directory: URL, stem: String, context: SuiteContext) throws(Failure) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(directory.path): \(systemReason(error))")
        }
        var candidate = directory.appendingPathComponent(stem + ".jsonl"), attempt = 1
        var descriptor: Int32 = -1
        while true {
            descriptor = open(candidate.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor >= 0 { break }
            guard errno == EEXIST, attempt < 1000 else {
                throw Failure(description: "cannot create \(candidate.path): \(errnoReason(errno))")
            }
            attempt += 1
            candidate = directory.appendingPathComponent("\(stem)-\(attempt).jsonl")
        }
        url = candidate
        self.context = context
        self.descriptor = descriptor
        try append(line: SuiteRecord.context(context).jsonLine)
    }

    /// Opens an interrupted file to finish it: the runs it holds are kept.
    public init(resuming file: SuiteFile, at url: URL) throws(Failure) {
        self.url = url
        context = file.context
        written = file.entries
        // Rewritten whole (in plan order, without a cut-short last line), then appended to.
        let lines = [SuiteRecord.context(context).jsonLine] + Self.records(file.entries).map(\.jsonLine)
        try Self.replace(url, with: lines.joined(separator: "\n") + "\n")
        descriptor = open(url.path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw Failure(description: "cannot reopen \(url.path): \(errnoReason(errno))")
        }
    }

    /// Appends a finished run (from any thread).
    public func append(_ entry: SuiteRun.Entry) throws(Failure) {
        let line = Self.records([entry])[0].jsonLine
        lock.lock()
        defer { lock.unlock() }
        written.append(entry)
        lines[entry.key] = line
        try append(line: line)
    }

    private func append(line: String) throws(Failure) {
        guard descriptor >= 0 else { return }
        let code = writeAll(line + "\n", to: descriptor)
        guard code == 0 else { throw Failure(description: "cannot write \(url.path): \(errnoReason(code))") }
    }

    /// Closes the file with its end record: in plan order when complete, as it stands (runs in
    /// the order they finished) when interrupted. Returns the files written.
    @discardableResult
    public func finish(interrupted: String?) throws(Failure) -> [URL] {
        lock.lock()
        defer { lock.unlock() }
        guard let plan = context.plan else { throw Failure(description: "no plan in the context") }
        let entries = plan.sorted(written)
        let complete = interrupted == nil && Set(entries.map(\.key)).count == plan.selected
        let end = SuiteEnd(complete: complete, runs: entries.count, errors: entries.filter { $0.error != nil }.count,
                           interrupted: interrupted)
        if complete {
            let runs = entries.map { lines[$0.key] ?? Self.records([$0])[0].jsonLine }
            let all = [SuiteRecord.context(context).jsonLine] + runs + [SuiteRecord.end(end).jsonLine]
            closeFile()
            try Self.replace(url, with: all.joined(separator: "\n") + "\n")
        } else {
            try append(line: SuiteRecord.end(end).jsonLine)
            closeFile()
            return [url]
        }
        let records = SuiteRecords(entries: entries, context: context)
        let stem = url.deletingPathExtension()
        var files = [url]
        for (ext, text) in [("md", records.markdown), ("csv", records.csv), ("svg", records.chart.svg)] {
            let file = stem.appendingPathExtension(ext)
            try Self.replace(file, with: text)
            files.append(file)
        }
        return files
    }

    private func closeFile() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    deinit { closeFile() }

    static func records(_ entries: [SuiteRun.Entry]) -> [SuiteRecord] {
        entries.map { entry in
            entry.report.map(SuiteRecord.run)
                ?? .error(SuiteRunError(snippet: entry.snippet, policy: entry.policy, error: entry.error ?? ""))
        }
    }

    /// Writes `text` to a temporary file beside `url` and renames it over `url`.
    static func replace(_ url: URL, with text: String) throws(Failure) {
        let scratch = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            try Data(text.utf8).write(to: scratch)
        } catch {
            try? FileManager.default.removeItem(at: scratch)
            throw Failure(description: "cannot write \(url.path): \(systemReason(error))")
        }
        guard rename(scratch.path, url.path) == 0 else {
            let reason = errnoReason(errno)
            try? FileManager.default.removeItem(at: scratch)
            throw Failure(description: "cannot write \(url.path): \(reason)")
        }
    }
}
