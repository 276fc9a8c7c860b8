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
