import AArch64

/// Who touches observed memory: the observers a condition names (`guest`, `vmm`, a DMA
/// master's name).
public enum Observer: Hashable, Sendable, CustomStringConvertible {
    /// The guest CPU, at a site (`symbol+offset`).
    case guest(site: String)
    /// The VMM: a host CPU with a cacheable (Normal WB) mapping, sharing the cache with the
    /// guest's cacheable accesses.
    case vmm
    /// A DMA master; a non-coherent one reads and writes memory at the PoC directly, a coherent
    /// one snoops the cache.
    case dma(name: String, coherent: Bool)

    /// The observer's name in failures and conditions: `guest`, `vmm`, or the DMA master's.
    public var observer: String {
        switch self {
        case .guest: "guest"
        case .vmm: "vmm"
        case .dma(let name, _): name
        }
    }

    public var description: String {
        switch self {
        case .guest(let site): "guest at \(site)"
        case .vmm: "vmm"
        case .dma(let name, let coherent): "\(name) (\(coherent ? "coherent" : "non-coherent") DMA)"
        }
    }
}

/// How the cache treats one access, from the effective attribute (Arm ARM B2.7: only Normal
/// Cacheable memory is allocated into a cache; Device and Non-cacheable go to the PoC).
public enum CachePolicy: Hashable, Sendable {
    case nonCacheable
    case writeThrough(readAllocate: Bool)
    case writeBack(readAllocate: Bool, writeAllocate: Bool)

    /// The model has one cache level, so the *inner* attribute decides (documented in README).
    public init(_ attribute: MemoryAttribute) {
        switch attribute {
        case .device, .unpredictable:
            self = .nonCacheable
        case .taggedNormal:
            self = .writeBack(readAllocate: true, writeAllocate: true)
        case .normal(let inner, _):
            switch inner.cacheability {
            case .nonCacheable: self = .nonCacheable
            case .writeThrough: self = .writeThrough(readAllocate: inner.readAllocate)
            case .writeBack: self = .writeBack(readAllocate: inner.readAllocate, writeAllocate: inner.writeAllocate)
            }
        }
    }

    public var isCacheable: Bool { self != .nonCacheable }
}

extension Observer {
    /// Coherent DMA snoops the cache (and the VMM shares it).
    var snoops: Bool {
        if case .dma(_, true) = self { return true }
        return false
    }
}

/// The effective type of a guest access, as conditions name it (`attribute(region, TYPE)`).
public enum EffectiveType: String, CaseIterable, Hashable, Sendable, Codable {
    case deviceNGnRnE = "device-nGnRnE"
    case deviceNGnRE = "device-nGnRE"
    case deviceNGRE = "device-nGRE"
    case deviceGRE = "device-GRE"
    case normalNC = "normal-nc"
    case normalWT = "normal-wt"
    case normalWB = "normal-wb"
    case unpredictable

    /// The type of a defined attribute: Device by subtype, Normal by the cacheability the
    /// model serves it with.
    public init(_ attribute: MemoryAttribute) {
        switch CachePolicy(attribute) {
        case .nonCacheable:
            if case .device(let type) = attribute {
                self = [.deviceNGnRnE, .deviceNGnRE, .deviceNGRE, .deviceGRE][Int(type.rawValue)]
            } else {
                self = .normalNC
            }
        case .writeThrough: self = .normalWT
        case .writeBack: self = .normalWB
        }
    }

    public var isDevice: Bool { rawValue.hasPrefix("device-") }
}
