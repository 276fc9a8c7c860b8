import Hypervisor
import Testing
@testable import Formats

/// Cost parameters are finite, non-negative and at most 10^9 cycles (CostModel.cycleRange),
/// so every modeled sum and product stays finite.
@Suite struct CostFileTests {
    static func outcome(_ value: String) -> String {
        do {
            let model = try CostModel.parse("[cost]\nworld_switch = \(value)", file: "c.toml")
            return "\(model.worldSwitch.cycles)"
        } catch {
            return error.description
        }
    }

    static let range = "expected a number of cycles from 0 to 1000000000"

    @Test(arguments: [
        ("1e308", "c.toml:2: field 'cost.world_switch': \(range), found float 1e+308"),
        ("1_000_000_001", "c.toml:2: field 'cost.world_switch': \(range), found integer 1000000001"),
        ("1000000000.5", "c.toml:2: field 'cost.world_switch': \(range), found float 1000000000.5"),
        ("-1", "c.toml:2: field 'cost.world_switch': \(range), found integer -1"),
        ("-0.5", "c.toml:2: field 'cost.world_switch': \(range), found float -0.5"),
        ("0xffffffffffffffff", "c.toml:2: field 'cost.world_switch': \(range), found integer 18446744073709551615"),
        ("9223372036854775807", "c.toml:2: field 'cost.world_switch': \(range), found integer 9223372036854775807"),
        // Rejected by the reader, still naming the field (column 16 is where the value starts).
        ("inf", "c.toml:2:16: field 'cost.world_switch': inf and nan are not supported, found 'inf'"),
        ("+inf", "c.toml:2:16: field 'cost.world_switch': inf and nan are not supported, found '+inf'"),
        ("nan", "c.toml:2:16: field 'cost.world_switch': inf and nan are not supported, found 'nan'"),
        ("-nan", "c.toml:2:16: field 'cost.world_switch': inf and nan are not supported, found '-nan'"),
        ("1e309", "c.toml:2:16: field 'cost.world_switch': float '1e309' does not fit in 64 bits (it rounds to inf)"),
        ("\"fast\"", "c.toml:2: field 'cost.world_switch': expected a number of cycles"),
        // The ends of the range.
        ("0", "0.0"),
        ("-0.0", "-0.0"),
        ("1e9", "1000000000.0"),
        ("1_000_000_000", "1000000000.0"),
        ("6500", "6500.0"),
        ("0.25", "0.25"),
    ])
    func parametersAreFiniteNonNegativeAndBounded(value: String, expected: String) {
        #expect(Self.outcome(value) == expected)
    }
}
