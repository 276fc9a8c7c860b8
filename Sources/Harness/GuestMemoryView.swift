import AArch64
import Coherency
import Formats
import Hypervisor
import Unicorn

/// A data access as the memory hook saw it.
struct MemoryAccessEvent {
    let virtualAddress: UInt64
    let size: Int
    let value: UInt64
    let isWrite: Bool
}

/// A guest access to shared memory: what the hook saw, whether the model has performed it, and
/// the bytes it read or wrote by PA (to serve the MMIO callbacks).
struct PendingAccess {
    let virtualAddress: UInt64
    let size: Int
    let isWrite: Bool
    /// The bytes a write stores, lowest address first.
    let writeBytes: [UInt8]
    var performed = false
    /// The bytes the access moved, by PA (at most 16, in at most two pages: searched linearly).
    var bytes = PhysicalBytes()

    init(_ event: MemoryAccessEvent) {
        virtualAddress = event.virtualAddress
        size = event.size
        isWrite = event.isWrite
        writeBytes = (0..<event.size).map { UInt8(truncatingIfNeeded: event.value >> (8 * UInt64($0))) }
    }
}

/// A few bytes by physical address, runs kept as (first PA, bytes).
struct PhysicalBytes {
    private var runs: [(base: UInt64, bytes: [UInt8])] = []

    mutating func store(_ bytes: [UInt8], at pa: UInt64) { runs.append((pa, bytes)) }

    subscript(pa: UInt64) -> UInt8? {
        for run in runs.reversed() where pa >= run.base && pa - run.base < UInt64(run.bytes.count) {
            return run.bytes[Int(pa - run.base)]
        }
        return nil
    }
}

/// The bytes of an access that lie in one page: where they went, and what stage 1 said.
struct TranslatedPart {
    /// Offset of the part's first byte in the access.
    let offset: Int
    let count: Int
    let physicalAddress: UInt64
    let stage1: Stage1Attributes
    /// The range of the walk (nil when stage 1 is disabled).
    let base: TranslationTableBase?
}

/// What a shared-memory access needs to know about the guest and the hypervisor now.
struct GuestContext {
    let policy: Policy
    let site: String
    /// SCTLR_EL1.M and .C both set, as the hypervisor sees them (`vcpu_has_cache_enabled`).
    let cachesOn: Bool
    /// The VM registers the guest has written since reset.
    let registersWritten: Set<SystemRegister>
    let translator: Translator

    func translate(_ va: UInt64, count: Int) -> [TranslatedPart] { translator.parts(va, count: count) }
}

/// The guest's stage 1, page by page, with a small cache of the pages it has resolved. The
/// cache is dropped whenever the emulator's own TLB would be: a TLBI, or a write of SCTLR_EL1,
/// TCR_EL1, TTBR0/1_EL1 or MAIR_EL1 (QEMU flushes its TLB on the same events).
final class Translator {
    private let machine: Machine
    /// The emulated PE's features (MAIR bytes decode by them).
    let features: CPUFeatures
    private var pages: [UInt64: (pa: UInt64, stage1: Stage1Attributes, base: TranslationTableBase?)?] = [:]
    /// Pages whose walk the model could not make (the emulator did): the two disagree.
    private(set) var disagreements: [UInt64] = []

    init(machine: Machine) {
        self.machine = machine
        let registers = EmulatorRegisters(machine: machine)
        features = CPUFeatures(idAA64PFR1: registers.read(.idAA64PFR1EL1), idAA64ISAR1: registers.read(.idAA64ISAR1EL1))
    }

    func invalidate() { pages.removeAll(keepingCapacity: true) }

    private var generation: UInt64 = 0

    /// Drops the cache when the translation registers were written or a TLBI ran since.
    func validate(generation now: UInt64) {
        guard now != generation else { return }
        generation = now
        invalidate()
    }

    func parts(_ va: UInt64, count: Int) -> [TranslatedPart] {
        var parts: [TranslatedPart] = []
        var offset = 0
        while offset < count {
            let address = va &+ UInt64(offset), page = address & ~0xFFF
            let length = min(count - offset, Int(0x1000 - (address & 0xFFF)))
            if let resolved = resolve(page) {
                parts.append(TranslatedPart(offset: offset, count: length, physicalAddress: resolved.pa | (address & 0xFFF),
                                            stage1: resolved.stage1, base: resolved.base))
            } else {
                disagreements.append(address)
            }
            offset += length
        }
        return parts
    }

    private func resolve(_ page: UInt64) -> (pa: UInt64, stage1: Stage1Attributes, base: TranslationTableBase?)? {
        if let cached = pages[page] { return cached }
        var registers = machine.translationRegisters
        registers.features = features
        let walker = registers.stage1
        let result: (UInt64, Stage1Attributes, TranslationTableBase?)?
        if let translation = try? walker.translate(page, reader: PhysicalMemory(machine: machine)) {
            result = (translation.outputAddress, translation.attributes, translation.walk?.translationTableBase)
        } else {
            result = nil
        }
        pages[page] = result
        return result
    }
}

/// The effective types of the guest's accesses to each observed region, and the reasons an
/// execution cannot settle Always or Never.
struct AttributeLog {
    private(set) var types: [String: Set<EffectiveType>] = [:]
    private(set) var undecided: [UndecidedReason] = []
    private(set) var lastType: EffectiveType?

    mutating func undecidable(_ scope: UndecidedReason.Scope, _ reason: String) {
        let reason = UndecidedReason(scope, reason)
        if !undecided.contains(reason) { undecided.append(reason) }
    }

    /// How a guest access to `part` of `region` uses the caches.
    mutating func resolve(_ part: TranslatedPart, region: Manifest.ObservedRegion, policy: Policy, site: String,
                          registersWritten: Set<SystemRegister>) -> LineAccess {
        if let base = part.base, policy.reset == .unknown {
            let needed: [SystemRegister] = [.mairEL1, .tcrEL1, base == .ttbr0 ? .ttbr0EL1 : .ttbr1EL1]
            for register in needed where !registersWritten.contains(register) {
                undecidable(.everything, "the access at \(site) depends on \(register), which the guest never wrote: UNKNOWN at reset (policy reset = unknown)")
            }
        }
        guard case .mapped(let memAttr) = policy.stage2Mapping(for: region.kind) else { return .nonCacheable }
        let stage2 = Stage2Attributes(memAttr: memAttr, fwb: policy.fwb, shareability: .innerShareable)
        switch AttributeCombiner.combine(stage1: part.stage1, stage2: stage2).effective {
        case .defined(let attribute, _):
            let type = EffectiveType(attribute)
            types[region.name, default: []].insert(type)
            lastType = type
            return LineAccess(attribute)
        case .unpredictable:
            types[region.name, default: []].insert(.unpredictable)
            lastType = .unpredictable
            undecidable(.failures, "UNPREDICTABLE effective attribute for the access at \(site) (served as Non-cacheable, one of the behaviours it allows)")
            return .nonCacheable
        }
    }
}
