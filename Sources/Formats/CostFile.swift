import FoundationEssentials
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

    /// What a cost parameter may be: a world switch is thousands of cycles, so 10^9 (about a
    /// second at 1 GHz) is far above any real cost yet keeps every product finite.
    public static let cycleRange: ClosedRange<Double> = 0...1_000_000_000

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
            case .unsignedInteger(let value): cycles = Double(value)
            case .float(let value): cycles = value
            default: throw table.fieldError(key, "expected a number of cycles")
            }
            // Finite, non-negative and bounded, so the model's sums and products stay finite.
            guard Self.cycleRange.contains(cycles) else {
                throw table.fieldError(key, "expected a number of cycles from 0 to \(Int(Self.cycleRange.upperBound)), found \(item.value.summary)")
            }
            model[keyPath: path] = Parameter(cycles, source: "\(file):\(item.line)")
        }
        return model
    }
}
