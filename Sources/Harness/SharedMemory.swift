import AArch64
import Coherency
import Formats
import Hypervisor

/// What shared memory answers a guest access with.
enum SharedAccess {
    case served(bytes: [UInt8])
    /// The policy refuses to map the region at stage 2: the run ends.
    case refused(region: String, reason: String)
}

/// The guest-physical memory that more than one observer touches, served by the coherency
/// model: each guest access resolved to its effective attribute (the guest's stage 1 with the
/// MAIR value in force, the policy's stage 2, FWB, MMU off), the host's actions at sync points,
/// and the explorer's eviction choices. It answers with values; the run decides what follows.
final class SharedMemory {
    let regions: [Manifest.ObservedRegion]
    private(set) var system: MemorySystem
    /// The effective types of the guest's accesses and the UNPREDICTABLE sites.
    private(set) var attributes = AttributeLog()
    private var mappedPages: Set<UInt64> = []
    private let candidates: Set<UInt64>
    private let chooser: EvictionChooser
    private var refused = false

    init(regions: [Manifest.ObservedRegion], candidates: Set<UInt64>, chooser: EvictionChooser) {
        self.regions = regions
        self.candidates = candidates
        self.chooser = chooser
        var initial: [UInt64: UInt8] = [:]
        for region in regions where region.initial != 0 {
            for offset in 0..<region.size { initial[region.base + offset] = region.initial }
        }
        system = MemorySystem(regions: regions.map { .init(name: $0.name, base: $0.base, size: $0.size) },
                              initial: initial)
    }

    func region(containing pa: UInt64) -> Manifest.ObservedRegion? {
        regions.first { pa >= $0.base && pa - $0.base < $0.size }
    }

    // MARK: guest accesses

    /// One whole guest access to `region` at `pa` (a read when `bytes` is nil), through the
    /// VA the guest used, under `policy`, from `site`.
    func guestAccess(_ region: Manifest.ObservedRegion, pa: UInt64, count: Int, write bytes: [UInt8]?,
                     virtualAddress: UInt64, registers: TranslationRegisters, tables: some TranslationTableReader,
                     policy: Policy, site: String) -> SharedAccess {
        if case .refused(let reason) = policy.stage2Mapping(for: region.kind) {
            defer { refused = true }
            return refused ? .served(bytes: [UInt8](repeating: 0, count: count))
                : .refused(region: region.name, reason: reason)
        }
        let observer = Observer.guest(site: site)
        let cachePolicy = attributes.resolve(region, virtualAddress: virtualAddress, registers: registers,
                                             tables: tables, policy: policy, site: site)
        mapAtStage2(pa, policy: policy)
        guard let bytes else { return .served(bytes: system.readBytes(pa, count: count, policy: cachePolicy, by: observer)) }
        system.write(pa, bytes: bytes, policy: cachePolicy, by: observer)
        return .served(bytes: bytes)
    }

    /// KVM cleans a page to PoC when stage 2 first maps it (`coherent_cache_guest_page`).
    private func mapAtStage2(_ pa: UInt64, policy: Policy) {
        guard policy.cleansOnStage2Map, mappedPages.insert(pa & ~0xFFF).inserted else { return }
        system.cleanAndInvalidate(page: pa)
    }

    // MARK: maintenance

    /// DC by VA to a line of observed memory at `pa`.
    func cacheMaintenance(_ operation: CacheMaintenanceOperation, region: Manifest.ObservedRegion, pa: UInt64,
                          virtualAddress: UInt64, registers: TranslationRegisters, tables: some TranslationTableReader,
                          policy: Policy, site: String) -> Bool {
        let line = MemorySystem.line(of: pa)
        switch operation {
        case .dcCVAC: system.clean(line: line)
        // With HCR_EL2.VM = 1 an EL1 DC IVAC is performed as a clean and invalidate.
        case .dcIVAC, .dcCIVAC: system.cleanAndInvalidate(line: line)
        // One modelled level sits before both PoU and PoC: a clean to PoU leaves memory as is.
        case .dcCVAU: break
        case .dcZVA:
            let cachePolicy = attributes.resolve(region, virtualAddress: virtualAddress, registers: registers,
                                                 tables: tables, policy: policy, site: site)
            mapAtStage2(line, policy: policy)
            system.write(line, bytes: [UInt8](repeating: 0, count: Int(MemorySystem.lineSize)), policy: cachePolicy,
                         by: .guest(site: site))
        default: return false
        }
        return true
    }

    /// A DC ISW/CSW/CISW the hypervisor does not trap: the lines of the set named by the
    /// operand (Arm ARM: Set at bits [12:6] for 64-byte lines and 128 sets).
    func setWay(_ operation: CacheMaintenanceOperation, operand: UInt64) {
        let set = (operand >> 6) & (MemorySystem.sets - 1)
        for line in system.lines(inSet: set) {
            switch operation {
            case .dcISW: system.invalidate(line: line)
            case .dcCSW: system.clean(line: line)
            default: system.cleanAndInvalidate(line: line)
            }
        }
    }

    /// The hypervisor cleaned the whole VM to PoC (`stage2_flush_vm`).
    func stage2Flush() { system.cleanAndInvalidateAll() }

    /// A migration: the source cleans the VM to PoC, the target maps pages anew.
    func migrated() {
        system.cleanAndInvalidateAll()
        mappedPages = []
    }

    // MARK: eviction choices and the host's side

    /// An eviction choice for each resident candidate line, as the explorer's chooser says.
    func decide() { system.evict(choosingAmong: candidates, with: chooser) }

    /// What the VMM or a DMA master does at a sync point; returns what a read saw.
    func perform(_ action: Manifest.HostAction, dma: [Manifest.DMAMaster]) -> FinalState.HostRead? {
        guard let region = regions.first(where: { $0.name == action.region }) else { return nil }
        let observer: Observer, policy: CachePolicy
        if action.observer == "vmm" {
            // The VMM's own mapping of guest memory is Normal Write-Back.
            observer = .vmm
            policy = .writeBack(readAllocate: true, writeAllocate: true)
        } else {
            let coherent = dma.first { $0.name == action.observer }?.coherent ?? false
            observer = .dma(name: action.observer, coherent: coherent)
            policy = .nonCacheable
        }
        let start = region.base + action.offset
        switch action.action {
        case .read:
            let bytes = system.readBytes(start, count: Int(action.size), policy: policy, by: observer)
            return FinalState.HostRead(label: action.label, bytes: bytes)
        case .write:
            let pattern = (0..<action.size).map { UInt8(truncatingIfNeeded: action.value >> (8 * ($0 % 8))) }
            system.write(start, bytes: pattern, policy: policy, by: observer)
            return nil
        }
    }
}

/// The effective types of the guest's accesses to each observed region, and the sites whose
/// accesses had an UNPREDICTABLE one.
struct AttributeLog {
    private(set) var types: [String: Set<EffectiveType>] = [:]
    private(set) var unpredictable: [String] = []

    /// The effective attribute of a guest data access to `region` at `virtualAddress`, as the
    /// cache serves it.
    mutating func resolve(_ region: Manifest.ObservedRegion, virtualAddress: UInt64, registers: TranslationRegisters,
                          tables: some TranslationTableReader, policy: Policy, site: String) -> CachePolicy {
        guard case .mapped(let memAttr) = policy.stage2Mapping(for: region.kind) else { return .nonCacheable }
        let stage2 = Stage2Attributes(memAttr: memAttr, fwb: policy.fwb, shareability: .innerShareable)
        let resolved = AttributeResolver.resolve(virtualAddress, registers: registers, tables: tables, stage2: stage2)
        switch resolved.combined.effective {
        case .defined(let attribute, _):
            types[region.name, default: []].insert(EffectiveType(attribute))
            return CachePolicy(attribute)
        case .unpredictable:
            types[region.name, default: []].insert(.unpredictable)
            if !unpredictable.contains(site) { unpredictable.append(site) }
            // Nothing architected to follow: served past the cache, and reported.
            return .nonCacheable
        }
    }
}
