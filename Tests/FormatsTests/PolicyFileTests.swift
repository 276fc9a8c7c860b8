import Hypervisor
import Testing
@testable import Formats

@Suite struct PolicyFileTests {
    @Test func aUserPolicyStartsFromABuiltInAndOverridesParts() throws {
        let policies = try Policy.parse("""
            [[policy]]
            name = "my-board"
            base = "rfc-2015"
            rewrite = "nc-only"
            fast_path = false

            [[policy]]
            name = "bare"
            trap = "always"
            """, file: "p.toml")
        #expect(policies.map(\.name) == ["my-board", "bare"])
        #expect(policies[0].trap == .always && policies[0].rewrite == .ncOnly && !policies[0].fastPath)
        #expect(policies[1].trap == .always && policies[1].rewrite == MAIRRewriteRule.none)
    }

    @Test(arguments: [
        ("[[policy]]\nname = \"kvm-2015\"", "p.toml:2: field 'policy[0].name': 'kvm-2015' is already a policy"),
        ("[[policy]]\nname = \"a\"\nbase = \"kvm-2014\"", "p.toml:3: field 'policy[0].base': no built-in policy is named 'kvm-2014'"),
        ("[[policy]]\nname = \"a\"\ndevice_mapping = \"nc\"", "p.toml:3: field 'policy[0].device_mapping': 'nc' is not one of device, nc-for-vga, nc-for-pcie"),
    ])
    func mistakesNameFileLineAndField(text: String, message: String) {
        #expect(throws: FormatError.self) { try Policy.parse(text, file: "p.toml") }
        do {
            _ = try Policy.parse(text, file: "p.toml")
        } catch {
            #expect(error.description == message)
        }
    }
}
