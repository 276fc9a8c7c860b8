import Testing
@testable import Hypervisor

/// The stage-2 decisions of the record's policies, as the seeds describe them.
@Suite struct Stage2MappingTests {
    static let nc = Stage2Mapping.mapped(memAttr: 0b0101)
    static let device = Stage2Mapping.mapped(memAttr: 0b0001)

    @Test func beforeV69AllDeviceMemoryIsDevice() {
        for policy in [Policy.kvm2015, .rfc2015, .fwbHost] {
            for kind in [RegionKind.device, .pcieBar, .vgaBar, .gicv, .cacheableDevice] {
                #expect(policy.stage2Mapping(for: kind) == Self.device, "\(policy.name) \(kind)")
            }
        }
        #expect(Policy.kvm2015.stage2Mapping(for: .ram) == .mapped(memAttr: 0b1111))
        #expect(Policy.fwbHost.stage2Mapping(for: .ram) == .mapped(memAttr: 0b0110))   // FWB: force WB
    }

    /// Seed 003: only VGA-class BARs got Normal-NC.
    @Test func theVGAOnlyPatch() {
        #expect(Policy.vfioWCVGA2022.stage2Mapping(for: .vgaBar) == Self.nc)
        #expect(Policy.vfioWCVGA2022.stage2Mapping(for: .pcieBar) == Self.device)
    }

    /// Seeds 000/002: Normal-NC for PCIe BARs; the GICv2 virtual CPU interface stays Device.
    @Test func v69NormalNCForPCIeOnly() {
        let policy = Policy.s2NormalNC2024
        #expect(policy.stage2Mapping(for: .pcieBar) == Self.nc)
        #expect(policy.stage2Mapping(for: .vgaBar) == Self.nc)
        #expect(policy.stage2Mapping(for: .gicv) == Self.device)
        #expect(policy.stage2Mapping(for: .device) == Self.device)
    }

    /// Seed 001: cacheable only with FWB; refused at fault time otherwise.
    @Test func cacheablePFNMAPNeedsFWB() {
        let policy = Policy.cacheablePFNMAP2025
        #expect(policy.stage2Mapping(for: .cacheableDevice) == .mapped(memAttr: 0b0110))
        let noFWB = policy.variant("fwb=off") { $0.fwb = false }
        guard case .refused(let reason) = noFWB.stage2Mapping(for: .cacheableDevice) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(reason.contains("FEAT_S2FWB"))
        #expect(noFWB.stage2Mapping(for: .ram) == .mapped(memAttr: 0b1111))
    }

    @Test func everyPolicyOfTheRecordIsBuiltIn() {
        #expect(Policy.builtIn.map(\.name) == ["kvm-2015", "rfc-2015", "rfc-2015-no-fastpath", "fwb", "vfio-wc-vga-2022",
                                               "s2-normal-nc-2024", "cacheable-pfnmap-2025"])
    }
}
