import AArch64

/// When the hypervisor traps the guest's writes of the virtual-memory control registers
/// (HCR_EL2.TVM, Arm ARM D13.2.47).
public enum TrapRegime: String, CaseIterable, Sendable, Codable {
    /// TVM never set (an FWB host: KVM stops setting it when stage 2 can force Write-Back).
    case none
    /// The 2015 KVM default: TVM set at vCPU reset until the guest has SCTLR_EL1.M and .C both
    /// set (`kvm_toggle_cache`), set again by a set/way operation (`kvm_set_way_flush`).
    case untilCachesOn = "until-caches-on"
    /// The RFC's patch 3: TVM kept set for the life of the guest.
    case always
}

/// A hypervisor configuration: the traps it sets, what it does with a trapped MAIR_EL1
/// write, and which trapped accesses it handles at EL2 without a world switch.
public struct Policy: Sendable, Equatable {
    public var name: String
    public var summary: String
    public var trap: TrapRegime
    public var rewrite: MAIRRewriteRule
    public var rewriteScope: MAIRRewriteScope
    /// The RFC's patch 1: trivial trapped writes (and TRVM reads) handled at EL2.
    public var fastPath: Bool
    /// HCR_EL2.TRVM: reads of the same registers trap too, and are answered with the guest's
    /// own (shadow) value, so a guest never sees a rewritten MAIR_EL1.
    public var trvm: Bool
    /// HCR_EL2.TSW: data cache maintenance by set/way traps (KVM sets it for every guest).
    public var trapSetWay: Bool
    /// HCR_EL2.FWB (FEAT_S2FWB, ARMv8.4).
    public var fwb: Bool
    /// How stage 2 maps passthrough device memory.
    public var deviceMapping: DeviceMapping
    /// The 2025 change: cacheable stage 2 for cacheable PFNMAP memory, refused without FWB.
    public var cacheablePFNMAP: Bool
    /// What the VM registers hold before the guest writes them.
    public var reset: ResetValues
    /// When KVM cleans a page to PoC as stage 2 maps it.
    public var cleanOnMap: CleanOnMap

    public init(name: String, summary: String, trap: TrapRegime, rewrite: MAIRRewriteRule = .none,
                rewriteScope: MAIRRewriteScope = .all, fastPath: Bool = false, trvm: Bool = false,
                trapSetWay: Bool = true, fwb: Bool = false, deviceMapping: DeviceMapping = .device,
                cacheablePFNMAP: Bool = false, reset: ResetValues = .unknown, cleanOnMap: CleanOnMap = .always) {
        self.name = name
        self.summary = summary
        self.trap = trap
        self.rewrite = rewrite
        self.rewriteScope = rewriteScope
        self.fastPath = fastPath
        self.trvm = trvm
        self.trapSetWay = trapSetWay
        self.fwb = fwb
        self.deviceMapping = deviceMapping
        self.cacheablePFNMAP = cacheablePFNMAP
        self.reset = reset
        self.cleanOnMap = cleanOnMap
    }

    public static let kvm2015 = Policy(
        name: "kvm-2015", summary: "the KVM default the RFC competed with: TVM until caches on, set/way trapping",
        trap: .untilCachesOn, cleanOnMap: .cachesOffOrReadOnly)
    public static let rfc2015 = Policy(
        name: "rfc-2015", summary: "the 2015 RFC: TVM always, MAIR rewrite (uncached), EL2 fast path",
        trap: .always, rewrite: .uncached, fastPath: true, cleanOnMap: .cachesOffOrReadOnly)
    public static let rfc2015NoFastPath = Policy(
        name: "rfc-2015-no-fastpath", summary: "the RFC without patch 1: every trap a full exit",
        trap: .always, rewrite: .uncached, fastPath: false, cleanOnMap: .cachesOffOrReadOnly)
    public static let fwbHost = Policy(
        name: "fwb", summary: "ARMv8.4 FEAT_S2FWB: stage 2 forces Write-Back for RAM, no TVM",
        trap: .none, fwb: true)

    public static let vfioWCVGA2022 = Policy(
        name: "vfio-wc-vga-2022", summary: "the rejected vfio patch: stage 2 Normal-NC only for a VGA-class device window",
        trap: .untilCachesOn, deviceMapping: .normalNCForVGA)
    public static let s2NormalNC2024 = Policy(
        name: "s2-normal-nc-2024", summary: "v6.9: stage 2 Normal-NC for PCIe BARs so the guest chooses; other device memory stays Device",
        trap: .untilCachesOn, deviceMapping: .normalNCForPCIe)
    public static let cacheablePFNMAP2025 = Policy(
        name: "cacheable-pfnmap-2025", summary: "cacheable stage 2 for cacheable device memory, only with FWB (refused at fault time without it)",
        trap: .none, fwb: true, deviceMapping: .normalNCForPCIe, cacheablePFNMAP: true)

    /// The policies every suite knows by name, in the order of the record.
    public static let builtIn: [Policy] = [kvm2015, rfc2015, rfc2015NoFastPath, fwbHost, vfioWCVGA2022,
                                           s2NormalNC2024, cacheablePFNMAP2025]

    public static func named(_ name: String) -> Policy? { builtIn.first { $0.name == name } }

    /// Whether a trapped write of `register` can be handled at EL2 (the RFC's patch 1, or KVM's
    /// `handle_tx2_tvm`): anything but an SCTLR_EL1 write that toggles the caches, which needs
    /// the host to clean the VM's stage 2 to PoC (`kvm_toggle_cache` -> `stage2_flush_vm`).
    func handledAtEL2(_ register: SystemRegister, togglesCaches: Bool) -> Bool {
        fastPath && !(register == .sctlrEL1 && togglesCaches)
    }
}

extension Policy {
    /// This policy with one part changed, named after the change (`rfc-2015[rewrite=nc-only]`),
    /// so a report never claims the unmodified policy.
    public func variant(_ label: String, _ change: (inout Policy) -> Void) -> Policy {
        var result = self
        change(&result)
        result.name += "[\(label)]"
        return result
    }

    /// The configurations `mairlab compare` runs by default: each trap regime, each rewrite,
    /// with and without the fast path and TRVM.
    public static let comparisonSet: [Policy] = [
        kvm2015,
        rfc2015,
        rfc2015NoFastPath,
        rfc2015.variant("rewrite=nc-only") { $0.rewrite = .ncOnly },
        rfc2015.variant("rewrite=all-cacheable") { $0.rewrite = .allCacheable },
        rfc2015.variant("trvm=on") { $0.trvm = true },
        kvm2015.variant("trap=always") { $0.trap = .always },
        fwbHost,
    ]
}

/// What the host has behind an observed guest-physical region, which decides its stage-2
/// mapping.
public enum RegionKind: String, CaseIterable, Sendable, Codable {
    /// Guest RAM the host also touches (a framebuffer, a DMA buffer, RAM while the MMU is off).
    case ram
    /// Host memory behind an emulated flash in read-array mode (mapped like RAM, read-only).
    case flash
    /// A passthrough platform device's registers (not PCIe).
    case device
    /// A passthrough PCIe BAR (vfio-pci).
    case pcieBar = "pcie-bar"
    /// A VGA-class PCIe device's BAR (what the 2022 vfio patch special-cased).
    case vgaBar = "vga-bar"
    /// The GICv2 virtual CPU interface: a peripheral shared with other guests (seed 000).
    case gicv
    /// A coherent device's cacheable memory window, a cacheable PFNMAP VMA (seed 001).
    case cacheableDevice = "cacheable-device"
}

/// How stage 2 maps passthrough device memory.
public enum DeviceMapping: String, CaseIterable, Sendable, Codable {
    /// Device-nGnRE for all of it (PAGE_S2_DEVICE, KVM before v6.9).
    case device
    /// Normal-NC for VGA-class BARs only (the 2022 vfio patch, rejected).
    case normalNCForVGA = "nc-for-vga"
    /// Normal-NC for PCIe BARs (v6.9, KVM_PGTABLE_PROT_NORMAL_NC): the guest chooses Device-*
    /// or Normal-NC; other device memory (the GICv2 virtual CPU interface) stays Device.
    case normalNCForPCIe = "nc-for-pcie"
}

/// A stage-2 mapping decision for a region.
public enum Stage2Mapping: Sendable, Equatable {
    case mapped(memAttr: UInt8)
    /// KVM refuses the mapping when the guest first touches it (the fault fails).
    case refused(reason: String)
}

extension Policy {
    static let normalWB: UInt8 = 0b1111, forceWB: UInt8 = 0b0110, normalNC: UInt8 = 0b0101, deviceNGnRE: UInt8 = 0b0001

    /// The stage-2 mapping of a region of `kind`, MemAttr in the encoding HCR_EL2.FWB selects:
    /// KVM maps RAM Normal WB (0b1111; with FWB 0b110 forces WB), device memory Device-nGnRE
    /// (PAGE_S2_DEVICE, 0b0001 in both encodings), Normal-NC as 0b0101 (FWB: 0b101).
    public func stage2Mapping(for kind: RegionKind) -> Stage2Mapping {
        switch kind {
        case .ram, .flash:
            return .mapped(memAttr: fwb ? Self.forceWB : Self.normalWB)
        case .device, .gicv:
            return .mapped(memAttr: Self.deviceNGnRE)
        case .vgaBar:
            return .mapped(memAttr: deviceMapping == .device ? Self.deviceNGnRE : Self.normalNC)
        case .pcieBar:
            return .mapped(memAttr: deviceMapping == .normalNCForPCIe ? Self.normalNC : Self.deviceNGnRE)
        case .cacheableDevice:
            if cacheablePFNMAP {
                return fwb ? .mapped(memAttr: Self.forceWB)
                    : .refused(reason: "KVM maps cacheable PFNMAP memory cacheable only with FEAT_S2FWB; without it the stage-2 fault is refused (a check at memslot creation is only a courtesy)")
            }
            // Before 2025 KVM demoted it to the device mapping of its time.
            return .mapped(memAttr: deviceMapping == .normalNCForPCIe ? Self.normalNC : Self.deviceNGnRE)
        }
    }

    /// Whether KVM cleans a page to PoC as stage 2 maps it, when the vCPU's caches are on
    /// (`vcpu_has_cache_enabled`) or not and the memory slot is read-only (a flash) or not.
    public func cleansOnStage2Map(cachesOn: Bool, readOnly: Bool) -> Bool {
        switch cleanOnMap {
        case .cachesOffOrReadOnly: !cachesOn || readOnly
        case .always: !fwb
        case .never: false
        }
    }
}
