import Formats
import Dispatch
import FoundationEssentials
import Harness
import Unicorn

/// One line of a suite's JSON lines file: the context the suite ran in, a run's report, or why a
/// run has none. On disk every line is one object whose first key is `record` (the kind); the
/// rest are the payload's keys, sorted.
public enum SuiteRecord: Codable, Sendable, Equatable {
    case context(SuiteContext)
    case run(RunReport)
    case error(SuiteRunError)
    /// The last record of a file: whether the suite (or shard) finished, with its counts.
    case end(SuiteEnd)

    public enum Kind: String, Codable, Sendable { case context, run, error, end }

    public var kind: Kind {
        switch self {
        case .context: .context
        case .run: .run
        case .error: .error
        case .end: .end
        }
    }

    private enum CodingKeys: String, CodingKey { case record }

    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: CodingKeys.self).decode(Kind.self, forKey: .record)
        switch kind {
        case .context: self = .context(try SuiteContext(from: decoder))
        case .run: self = .run(try RunReport(from: decoder))
        case .error: self = .error(try SuiteRunError(from: decoder))
        case .end: self = .end(try SuiteEnd(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .record)
        switch self {
        case .context(let context): try context.encode(to: encoder)
        case .run(let report): try report.encode(to: encoder)
        case .error(let error): try error.encode(to: encoder)
        case .end(let end): try end.encode(to: encoder)
        }
    }

    /// The line as written: `{"record":KIND,` then the payload's keys in sorted order. (A sorting
    /// encoder would bury `record` among them; readers find the kind first this way.)
    public var jsonLine: String {
        let payload: String = switch self {
        case .context(let context): JSONLine.encode(context)
        case .run(let report): report.json()
        case .error(let error): JSONLine.encode(error)
        case .end(let end): JSONLine.encode(end)
        }
        return Self.jsonLine(kind: kind.rawValue, payload: payload)
    }

    /// `{"record":KIND,` then the keys of `payload` (a JSON object), for every kind of line.
    public static func jsonLine(kind: String, payload: String) -> String {
        #"{"record":""# + kind + #"""# + (payload == "{}" ? "}" : "," + payload.dropFirst())
    }

    /// Parses one line; nil when it is not a record of this schema.
    public init(jsonLine: some StringProtocol) throws {
        self = try JSONDecoder().decode(SuiteRecord.self, from: Data(jsonLine.utf8))
    }
}

/// What a suite ran with: tool and emulator versions, the commit, the host, the date, the
/// command line, and what it set out to run. The first record of every suite file.
public struct SuiteContext: Codable, Sendable, Equatable {
    /// The version of this file format (results/README.md): readers refuse another.
    public var schema: Int?
    public var toolVersion: String
    public var gitCommit: String
    /// `true`, `false` or `unknown` (kept as text: it was never a JSON boolean in these files).
    public var gitDirty: String
    public var unicornVersion: String
    public var host: String
    public var date: String
    public var command: String
    /// What the suite set out to run (absent in bench files).
    public var plan: SuitePlan.Summary?

    enum CodingKeys: String, CodingKey {
        case schema, toolVersion = "tool_version", gitCommit = "git_commit", gitDirty = "git_dirty",
             unicornVersion = "unicorn_version", host, date, command, plan
    }

    public static let toolVersion = "0.1.0"
    /// 2: a plan in the context, runs appended as they finish, a closing `end` record.
    public static let schemaVersion = 2

    /// The context of this process now (the two git questions asked at once: `git status`
    /// alone can take tens of milliseconds).
    public static func current(command: [String], date: Date = Date()) -> SuiteContext {
        let unicorn = Unicorn.unicornVersion()
        let answers = Results<String?>(count: 2)
        answers.perform(workers: 2, shouldStop: { false }) { index in
            _ = answers.store(ProcessRunner.git(index == 0 ? ["rev-parse", "HEAD"] : ["status", "--porcelain"]), at: index)
        }
        let (commit, status) = (answers.entries[0], answers.entries[1])
        return SuiteContext(
            schema: schemaVersion, toolVersion: toolVersion, gitCommit: commit ?? "unknown",
            gitDirty: status.map { $0.isEmpty ? "false" : "true" } ?? "unknown",
            unicornVersion: "\(unicorn.major).\(unicorn.minor)", host: ProcessInfo.processInfo.hostName,
            date: date.formatted(.iso8601), command: command.joined(separator: " "), plan: nil)
    }
}

extension SuiteContext {
    /// The context of this process, found while `work` runs on this thread (a suite's context
    /// and its plan are both made before its first run).
    public static func current<T>(command: [String], during work: () -> T) -> (SuiteContext, T) {
        let found = Results<SuiteContext>(count: 1)
        let group = DispatchGroup()
        group.enter()
        startThread {
            _ = found.store(SuiteContext.current(command: command), at: 0)
            group.leave()
        }
        let result = work()
        group.wait()
        return (found.entries[0], result)
    }
}

/// The closing record of a suite file. A file without one was interrupted or is being written.
public struct SuiteEnd: Codable, Sendable, Equatable {
    /// Every planned run of this file (its shard) has a record.
    public var complete: Bool
    public var runs: Int
    public var errors: Int
    /// Why the suite stopped early (`SIGINT`, `SIGTERM`), when it did.
    public var interrupted: String?
}

/// A run the suite could not make (a broken snippet, an emulator error).
public struct SuiteRunError: Codable, Sendable, Equatable {
    public var snippet: String
    public var policy: String
    public var error: String
}

/// Sorted-key JSON for records, without escaped slashes (paths stay readable).
public enum JSONLine {
    public static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A measured ratio can be infinite (a zero time): written as text rather than a crash.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        // Records are plain structs of strings and numbers: encoding them cannot fail.
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}
