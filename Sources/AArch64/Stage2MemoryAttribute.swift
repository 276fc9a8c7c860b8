// Stage 2 MemAttr (descriptor bits [5:2]) under HCR_EL2.FWB = 0 and = 1
// (Arm ARM, "Stage 2 memory region attributes"; pseudocode S2AttrDecode, S2ApplyFWBMemAttrs).

/// The meaning of a stage 2 block/page descriptor's MemAttr[3:0].
///
/// Which cases can occur depends on HCR_EL2.FWB, so a value says by itself how it combines
/// with stage 1: `.normal` exists only with FWB = 0; `.nonCacheable`, `.forceWriteBack` and
/// `.useStage1` only with FWB = 1; `.device` has the same encoding and meaning in both.
public enum Stage2MemoryAttribute: Hashable, Sendable, CustomStringConvertible {
    /// FWB = 0: `0b00dd`; FWB = 1: `0b0dd`.
    case device(DeviceType)
    /// FWB = 0: MemAttr[3:2] outer, MemAttr[1:0] inner, each `01` NC, `10` WT, `11` WB.
    case normal(inner: Cacheability, outer: Cacheability)
    /// FWB = 1, `0b101`: Normal Non-cacheable, unless stage 1 is Device (then stage 1 stands).
    case nonCacheable
    /// FWB = 1, `0b110`: Normal Write-Back whatever stage 1 says.
    case forceWriteBack
    /// FWB = 1, `0b111`: the stage 1 attribute unchanged.
    case useStage1
    /// An encoding the Arm ARM reserves: FWB = 0 `0b0100`, `0b1000`, `0b1100` (an inner half of
    /// `00` under a Normal outer half); FWB = 1 `0b100`, and any value with MemAttr[3] set
    /// (see `init(memAttr:fwb:)`).
    case reserved(memAttr: UInt8, fwb: Bool)

    /// Decodes MemAttr[3:0] (only the low four bits of `memAttr` are read).
    ///
    /// With FWB = 1, MemAttr[3] (descriptor bit 5) is RES0, and the Arm ARM's FWB table lists
    /// `0b100` as reserved. Both are reported as `.reserved` rather than given a meaning, so that
    /// such a stage 2 entry shows up as a finding: the pseudocode S2ApplyFWBMemAttrs reads only
    /// MemAttr[2:0] (letting `0b100` fall into its Non-cacheable branch) except that FEAT_MTE_PERM
    /// gives `0b111x` a NoTagAccess meaning, which is not modelled; QEMU's `combined_attrs_fwb`
    /// maps all of these to Device-nGnRnE. Reporting them avoids choosing between the two.
    public init(memAttr: UInt8, fwb: Bool) {
        let field = memAttr & 0xF
        if fwb {
            switch field {
            case 0b0000...0b0011: self = .device(DeviceType(dd: field))
            case 0b0101: self = .nonCacheable
            case 0b0110: self = .forceWriteBack
            case 0b0111: self = .useStage1
            default: self = .reserved(memAttr: field, fwb: true)
            }
            return
        }
        let outerBits = field >> 2
        let innerBits = field & 0b11
        if outerBits == 0 {
            self = .device(DeviceType(dd: innerBits))
        } else if let outer = Stage2MemoryAttribute.cacheability(outerBits),
                  let inner = Stage2MemoryAttribute.cacheability(innerBits) {
            self = .normal(inner: inner, outer: outer)
        } else {
            self = .reserved(memAttr: field, fwb: false)
        }
    }

    /// The MemAttr[3:0] value of this attribute (the FWB setting is implied by the case).
    public var memAttr: UInt8 {
        switch self {
        case .device(let type): type.rawValue
        case .normal(let inner, let outer): Stage2MemoryAttribute.bits(outer) << 2 | Stage2MemoryAttribute.bits(inner)
        case .nonCacheable: 0b101
        case .forceWriteBack: 0b110
        case .useStage1: 0b111
        case .reserved(let memAttr, _): memAttr
        }
    }

    public var isReserved: Bool {
        if case .reserved = self { return true }
        return false
    }

    private static func cacheability(_ bits: UInt8) -> Cacheability? {
        switch bits {
        case 0b01: .nonCacheable
        case 0b10: .writeThrough
        case 0b11: .writeBack
        default: nil
        }
    }

    private static func bits(_ cacheability: Cacheability) -> UInt8 {
        switch cacheability {
        case .nonCacheable: 0b01
        case .writeThrough: 0b10
        case .writeBack: 0b11
        }
    }

    public var description: String {
        switch self {
        case .device(let type):
            return type.description
        case .normal(let inner, let outer) where inner == outer:
            return "Normal \(inner)"
        case .normal(let inner, let outer):
            return "Normal Inner \(inner), Outer \(outer)"
        case .nonCacheable:
            return "Normal Non-cacheable unless stage 1 is Device (FWB)"
        case .forceWriteBack:
            return "Normal Write-Back, forced (FWB)"
        case .useStage1:
            return "stage 1 attribute unchanged (FWB)"
        case .reserved(let memAttr, let fwb):
            return "reserved MemAttr 0x\(hex(memAttr, digits: 1)) with FWB = \(fwb ? 1 : 0)"
        }
    }
}
