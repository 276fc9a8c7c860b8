import Dispatch
import Formats
import FoundationEssentials
import Harness
import Hypervisor

extension BenchFigures {
    /// Debian's arm64 kernel on the board with our init (guest-images/linux-init): power-on to
    /// the init's power-off, under kvm-2015 and rfc-2015.
    public struct Linux: Codable, Sendable {
        public var instructions: UInt64
        public var kvm2015Seconds: Double
        public var rfc2015Seconds: Double
        public var millionInstructionsPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case instructions, kvm2015Seconds = "kvm_2015_s", rfc2015Seconds = "rfc_2015_s",
                 millionInstructionsPerSecond = "million_instructions_per_s"
        }
    }

    var linuxRows: [(String, String, String)] {
        guard let l = linux else { return [] }
        return [("boot linux to init's power-off (\(l.instructions) insns)",
                 cFormat("%.1f s kvm-2015, %.1f s rfc-2015  (%.1f M insns/s)", l.kvm2015Seconds, l.rfc2015Seconds,
                        l.millionInstructionsPerSecond), "-")]
    }
}

extension Benchmark {
    /// One boot per policy per round (at most two rounds: a boot takes seconds).
    func linux() throws -> BenchFigures.Linux {
        let image: String
        switch DebianKernel.image() {
        case .success(let found): image = found
        case .failure(let reason): throw BenchError("no Debian arm64 kernel: \(reason)")
        }
        let source = options.images.appendingPathComponent("linux-init/init.S")
        let cpio = folder.directory.appendingPathComponent("init.cpio")
        try Data(LinuxInit.initramfs(executable: LinuxInit.executable(source: source, toolchain: Toolchain.find()))).write(to: cpio)
        var instructions: UInt64 = 0
        let once = { (policy: Policy) throws -> UInt64 in
            let start = DispatchTime.now().uptimeNanoseconds
            let run = try Harness.Boot.run(BootOptions(imagePath: image, memory: 512 << 20, bootargs: "console=ttyAMA0 panic=-1 quiet",
                                                       initrdPath: cpio.path, budget: 3_000_000_000, policy: policy))
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            guard run.outcome.status == .systemOff else { throw BenchError("Linux did not power off: \(run.outcome.message)") }
            instructions = run.guestInstructions
            return elapsed
        }
        var samples: [[UInt64]] = [[], []]
        for round in 0..<max(1, min(options.rounds, 2)) {
            for index in round % 2 == 0 ? [0, 1] : [1, 0] { samples[index].append(try once(index == 0 ? .kvm2015 : .rfc2015)) }
        }
        let (kvm, rfc) = (median(samples[0]), median(samples[1]))
        return BenchFigures.Linux(instructions: instructions, kvm2015Seconds: Double(kvm) / 1e9, rfc2015Seconds: Double(rfc) / 1e9,
                                  millionInstructionsPerSecond: Double(instructions) / Double(max(kvm, 1)) * 1e3)
    }
}
