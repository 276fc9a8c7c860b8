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

    public var isGuest: Bool {
        if case .guest = self { return true }
        return false
    }

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

extension LineAccess {
    /// How a CPU access with a defined effective attribute uses the caches: Device is
    /// Non-cacheable at both levels (Arm ARM: only Normal Cacheable memory is allocated into a
    /// cache); Normal by its inner and outer cacheability, each level on its own; Tagged Normal
    /// is Write-Back. Allocation and transient hints are ignored: they are hints.
    public init(_ attribute: MemoryAttribute) {
        switch attribute {
        case .device, .unpredictable:
            self = .nonCacheable
        case .taggedNormal:
            self = .writeBack
        case .normal(let inner, let outer):
            self = .cpu(inner: inner.cacheability, outer: outer.cacheability)
        }
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
    /// Normal with different inner and outer cacheability.
    case normalMixed = "normal-mixed"
    case unpredictable

    /// The type of a defined attribute: Device by subtype, Normal by cacheability (the same at
    /// both levels, or mixed).
    public init(_ attribute: MemoryAttribute) {
        switch attribute {
        case .device(let type):
            self = [.deviceNGnRnE, .deviceNGnRE, .deviceNGRE, .deviceGRE][Int(type.rawValue)]
        case .taggedNormal:
            self = .normalWB
        case .unpredictable:
            self = .unpredictable
        case .normal(let inner, let outer):
            guard inner.cacheability == outer.cacheability else {
                self = .normalMixed
                return
            }
            self = switch inner.cacheability {
            case .nonCacheable: .normalNC
            case .writeThrough: .normalWT
            case .writeBack: .normalWB
            }
        }
    }

    public var isDevice: Bool { rawValue.hasPrefix("device-") }
}

/// The two ways coherency is lost that the model classifies.
public enum CoherencyFailure {
    public enum Kind: String, Sendable, Codable, CustomStringConvertible {
        /// A read saw a byte that is not the latest write in the run's order.
        case staleRead = "stale-read"
        /// A write-back overwrote a newer write.
        case lostWrite = "lost-write"
        public var description: String { rawValue }
    }
}

/// Bytes as hex, the first 16 and a count of the rest.
func hexDump(_ bytes: [UInt8]) -> String {
    let shown = bytes.prefix(16).map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined(separator: " ")
    return bytes.count > 16 ? shown + " ... (\(bytes.count) bytes)" : shown
}

/// Offsets as ranges: 0-7,12.
func ranges(_ offsets: [Int]) -> String {
    var parts: [String] = []
    var index = 0
    while index < offsets.count {
        var end = index
        while end + 1 < offsets.count && offsets[end + 1] == offsets[end] + 1 { end += 1 }
        parts.append(end == index ? "\(offsets[index])" : "\(offsets[index])-\(offsets[end])")
        index = end + 1
    }
    return parts.joined(separator: ",")
}
