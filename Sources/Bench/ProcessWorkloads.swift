import FoundationEssentials
import Formats
import Harness
import Hypervisor

extension Benchmark {
    /// The default suite as `mairlab run` runs it: on one core, on two, and the control (two
    /// independent one-core suites at once: what this machine gives two processes).
    func suite() throws -> BenchFigures.Suite {
        let results = folder.directory.appendingPathComponent("suite-results").path
        func suite(jobs: Int, tag: String) -> [String] {
            [options.executable, "run", "--images", options.images.path, "--results", results + "-" + tag, "--jobs", "\(jobs)"]
        }
        func timed(_ commands: [[String]]) throws -> UInt64 {
            let (time, outcomes) = try Spawn.together(commands)
            // Exit status 1 is a verdict (a condition did not hold), not a broken measurement.
            if let bad = outcomes.first(where: { $0.status > 1 }) {
                throw BenchError("the suite exited with status \(bad.status)")
            }
            return time
        }
        let rounds = max(1, min(options.rounds, 3))
        var samples: [[UInt64]] = [[], [], []]
        for _ in 0..<rounds {
            samples[0].append(try timed([suite(jobs: 1, tag: "one")]))
            samples[1].append(try timed([suite(jobs: 2, tag: "two")]))
            samples[2].append(try timed([suite(jobs: 1, tag: "a"), suite(jobs: 1, tag: "b")]))
        }
        let (one, two, control) = (Double(median(samples[0])), Double(median(samples[1])), Double(median(samples[2])))
        let runs = try Snippet.all(in: options.images).count * Policy.builtIn.count
        return BenchFigures.Suite(runs: runs, oneCoreSeconds: one / 1e9, twoCoresSeconds: two / 1e9, controlSeconds: control / 1e9,
                                  suiteSpeedupTwoCores: one / two, controlSpeedup: 2 * one / control,
                                  parallelEfficiency: (one / two) / (2 * one / control))
    }

    /// `mairlab run` of a small snippet (image cached) against a C program that runs the same
    /// ELF's segments with raw Unicorn: each a fresh process.
    func processStart() throws -> BenchFigures.ProcessStart {
        let snippet = try folder.write("start", Workload.compute(iterations: 1000))
        let loaded = try LoadedSnippet.load(snippet)
        let raw = try rawProgram()
        let image = try flatImage(loaded)
        let end = try RawRun(loaded).until
        let ram = loaded.manifest.memory[0]
        let rawCommand = [raw, image.file, Workload.hex(image.base), Workload.hex(loaded.image.entry), Workload.hex(end),
                          Workload.hex(ram.base), Workload.hex(ram.size)]
        let mairlabCommand = [options.executable, "run", "--images", folder.directory.path, "--policy", "fwb", snippet.name]
        var samples: [[UInt64]] = [[], []]
        for round in 0..<max(options.rounds * 4, 10) {
            for index in round % 2 == 0 ? [0, 1] : [1, 0] {
                let result = try Spawn.run(index == 0 ? rawCommand : mairlabCommand)
                guard result.status == 0 else {
                    throw BenchError("\(index == 0 ? "the raw program" : "mairlab run") exited with \(result.status)")
                }
                samples[index].append(result.nanoseconds)
            }
        }
        let (rawTime, mairlabTime) = (Double(median(samples[0])), Double(median(samples[1])))
        return BenchFigures.ProcessStart(rawMilliseconds: rawTime / 1e6, mairlabMilliseconds: mairlabTime / 1e6,
                                         ratio: mairlabTime / rawTime)
    }

    /// Builds Benchmarks/raw-run.c with the toolchain's clang against libunicorn.
    private func rawProgram() throws -> String {
        guard FileManager.default.fileExists(atPath: options.rawSource.path) else {
            throw BenchError("no \(options.rawSource.path) (run from the repository's top level)")
        }
        let clang = try Toolchain.find().assembler
        let output = folder.directory.appendingPathComponent("raw-run").path
        let include = options.rawSource.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/CUnicorn").path
        let result = try ProcessRunner.run(clang, ["-O2", "-I", include, options.rawSource.path, "-lunicorn", "-o", output])
        guard result.status == 0 else { throw BenchError("cannot build the raw program: \(result.stderr)") }
        return output
    }

    /// The image's segments laid out flat from the lowest address, for the raw program.
    private func flatImage(_ loaded: LoadedSnippet) throws -> (file: String, base: UInt64) {
        let segments = loaded.image.segments.filter { !$0.bytes.isEmpty }
        guard let base = segments.map(\.physicalAddress).min(),
              let end = segments.map({ $0.physicalAddress + UInt64($0.bytes.count) }).max() else {
            throw BenchError("the start workload has no loadable bytes")
        }
        var bytes = [UInt8](repeating: 0, count: Int(end - base))
        for segment in segments {
            let offset = Int(segment.physicalAddress - base)
            bytes.replaceSubrange(offset..<offset + segment.bytes.count, with: segment.bytes)
        }
        let file = folder.directory.appendingPathComponent("start.bin")
        try Data(bytes).write(to: file)
        return (file.path, base)
    }
}
