import ArgumentParser
import Bench
import Collector
import Formats
import FoundationEssentials

extension Mairlab {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench", _superCommandName: "mairlab",
            abstract: "Measure the harness against raw Unicorn on the same guests (not part of the tests).",
            discussion: """
                Each workload runs both ways in this process, round after round in alternating order, \
                and the medians are compared: compute (an ALU loop), traps (a MAIR_EL1 write per \
                iteration under rfc-2015, and untrapped under fwb), memory (8-byte accesses to an \
                observed window against Unicorn's C MMIO, and to plain RAM), exploration (a framebuffer \
                of 1, 8, 64 lines x 1, 2, 8 sync points), suite (the default suite on one and two cores \
                against two independent one-core suites), start (a `mairlab run` process against a C \
                program running the same image), boot (Debian's U-Boot to its prompt and reset) and linux \
                (Debian's arm64 kernel to our init's power-off: timed, no raw counterpart). Run it from the \
                repository's top level, on a release \
                build (`make bench`). Benchmarks/README.md says what the figures mean.
                """)

        @Option(help: "Rounds per workload (medians are reported).")
        var rounds: Int = 5

        @Option(help: "Comma-separated workloads: compute, traps, memory, exploration, suite, start, boot, linux (default: all).")
        var only: String?

        @Flag(help: "Workloads a tenth of their size: a quick look, noisier.")
        var quick = false

        @Flag(help: "Print the context record and the figures as JSON lines instead of the table.")
        var json = false

        @Option(help: "Also write the JSON lines to this file (refused if it exists).")
        var output: String?

        @OptionGroup var location: SnippetLocation

        func validate() throws {
            if rounds < 1 { throw ValidationError("--rounds must be at least 1") }
            if let output, FileManager.default.fileExists(atPath: output) {
                throw ValidationError("--output \(output) exists: name a new file")
            }
        }

        func run() throws {
            let console = Console.current
            var options = Benchmark.Options(executable: Self.executable)
            options.rounds = rounds
            options.images = URL(fileURLWithPath: location.images)
            options.scaleDown = quick ? 10 : 1
            #if DEBUG
            options.build = "debug"
            #else
            options.build = "release"
            #endif
            if let only {
                options.workloads = Set(try only.split(separator: ",").map { name in
                    guard let kind = Benchmark.Kind(rawValue: String(name)) else {
                        throw ValidationError("unknown workload '\(name)': known are \(Benchmark.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return kind
                })
            }
            let figures = try Benchmark(options: options) { console.error($0) }.run()
            let context = SuiteRecord.context(.current(command: CommandLine.arguments)).jsonLine
            let lines = context + "\n" + #"{"record":"bench","# + JSONLine.encode(figures).dropFirst() + "\n"
            console.output(json ? lines : figures.table, terminator: json ? "" : "\n")
            if let output {
                do {
                    try Data(lines.utf8).write(to: URL(fileURLWithPath: output), options: .withoutOverwriting)
                } catch {
                    throw BadInput("cannot write \(output): \(systemReason(error))")
                }
            }
        }

        /// This program, for the workloads that start it as a child process.
        static var executable: String {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        }
    }
}
