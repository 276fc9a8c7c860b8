extension Policy {
    /// Whether KVM lets a VM under this policy move to a host with (or without) FEAT_S2FWB
    /// (seed 001): a VM with a device window mapped cacheable at stage 2 (cacheable PFNMAP,
    /// which needs FWB) can only move between FWB hosts; Device and Normal-NC mappings move both
    /// ways. Returns why a region of `kind` the guest has touched stops the move, or nil.
    public func migrationRefusal(toFWB: Bool, touched kind: RegionKind) -> String? {
        guard !toFWB, fwb, case .mapped(let memAttr) = stage2Mapping(for: kind), memAttr == Self.forceWB,
              kind == .cacheableDevice else { return nil }
        return "is mapped cacheable at stage 2, which only an FWB host can do: a VM with a device mapped cacheable can only migrate between FWB-capable hosts"
    }

    /// The policy on the target host: everything the same but FWB.
    public func migrated(toFWB: Bool) -> Policy {
        var result = self
        result.fwb = toFWB
        return result
    }
}

extension Policy {
    /// Whether the host maps memory of `kind` cacheable on its side (the VMM's mapping of guest
    /// RAM and flash; a cacheable device window where this policy maps it cacheable): such
    /// lines may be brought into a cache at any moment, by speculation through that mapping.
    public func hostMapsCacheable(_ kind: RegionKind) -> Bool {
        switch kind {
        case .ram, .flash: true
        case .cacheableDevice: stage2Mapping(for: kind) == .mapped(memAttr: Self.forceWB)
        case .device, .pcieBar, .vgaBar, .gicv: false
        }
    }
}
