import Dispatch
import Formats
import FoundationEssentials
import Harness
import Hypervisor

extension BenchFigures {
    /// Debian's U-Boot on the board: power-on to the prompt, `version`, `reset` through PSCI.
    public struct Boot: Codable, Sendable {
        public var instructions: UInt64
        public var traps: Int
        public var kvm2015Seconds: Double
        public var rfc2015Seconds: Double
        /// Guest instructions per host second under kvm-2015.
        public var millionInstructionsPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case instructions, traps, kvm2015Seconds = "kvm_2015_s", rfc2015Seconds = "rfc_2015_s",
                 millionInstructionsPerSecond = "million_instructions_per_s"
        }
    }

    /// The boot workload's row of the table.
    var bootRows: [(String, String, String)] {
        guard let b = boot else { return [] }
        return [("boot u-boot (\(b.instructions) insns, \(b.traps) traps)",
                 cFormat("%.2f s kvm-2015, %.2f s rfc-2015  (%.1f M insns/s)", b.kvm2015Seconds, b.rfc2015Seconds,
                        b.millionInstructionsPerSecond), "-")]
    }
}

extension Benchmark {
    /// U-Boot fetched as the tests fetch it; each policy's boot timed in interleaved rounds.
    func boot() throws -> BenchFigures.Boot {
        let path: String
        switch DebianFirmware.uBoot() {
        case .success(let found): path = found
        case .failure(let reason): throw BenchError("no U-Boot: \(reason)")
        }
        var report: BootReport?
        let once = { (policy: Policy) throws -> UInt64 in
            let start = DispatchTime.now().uptimeNanoseconds
            let run = try Harness.Boot.run(BootOptions(imagePath: path, flash: true, input: "\\rversion\\rreset\\r", policy: policy))
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            guard run.outcome.status == .systemReset else { throw BenchError("U-Boot did not reset: \(run.outcome.message)") }
            report = run
            return elapsed
        }
        let times = try interleaved([{ try once(.kvm2015) }, { try once(.rfc2015) }])
        let instructions = report?.guestInstructions ?? 0
        return BenchFigures.Boot(instructions: instructions, traps: report?.profile.trapsTotal ?? 0,
                                 kvm2015Seconds: Double(times[0]) / 1e9, rfc2015Seconds: Double(times[1]) / 1e9,
                                 millionInstructionsPerSecond: Double(instructions) / Double(max(times[0], 1)) * 1e3)
    }
}
