import Foundation
import Hypervisor

extension CostModel {
    /// A cost model with parameters from a TOML file (numbers measured on the user's own
    /// hardware, e.g. with kvm-unit-tests micro-bench); parameters the file leaves out keep
    /// their defaults. Keys: trap_round_trip, fast_path_handling, world_switch,
    /// stage2_flush_per_mib, cycles_per_instruction (cycles), all under [cost].
    public static func load(contentsOf url: URL, displayPath: String) throws(FormatError) -> CostModel {
        try model(in: TOMLTable(contentsOf: url, displayPath: displayPath), file: displayPath)
    }

    public static func parse(_ text: String, file: String) throws(FormatError) -> CostModel {
        try model(in: TOMLTable(parsing: text, file: file), file: file)
    }

    static func model(in root: TOMLTable, file: String) throws(FormatError) -> CostModel {
        try root.rejectUnknownKeys(allowed: ["cost"])
        let table = try root.table("cost")
        let fields: [(String, WritableKeyPath<CostModel, Parameter>)] = [
            ("trap_round_trip", \.trapRoundTrip), ("fast_path_handling", \.fastPathHandling),
            ("world_switch", \.worldSwitch), ("stage2_flush_per_mib", \.stage2FlushPerMiB),
            ("cycles_per_instruction", \.cyclesPerInstruction),
        ]
        try table.rejectUnknownKeys(allowed: Set(fields.map(\.0)))
        var model = CostModel.defaults
        for (key, path) in fields {
            guard let item = table[key] else { continue }
            let cycles: Double
            switch item.value {
            case .integer(let value): cycles = Double(value)
            case .float(let value): cycles = value
            default: throw table.fieldError(key, "expected a number of cycles")
            }
            guard cycles >= 0, cycles.isFinite else { throw table.fieldError(key, "must be a non-negative number") }
            model[keyPath: path] = Parameter(cycles, source: "\(file):\(item.line)")
        }
        return model
    }
}
