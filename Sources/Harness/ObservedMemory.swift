import AArch64
import Coherency
import Hypervisor
import Unicorn

/// The guest-physical memory that more than one observer touches: served from MMIO callbacks
/// by the coherency model, each guest access resolved to its effective attribute (the guest's
/// stage 1 with the MAIR value in force, the policy's stage 2, FWB, MMU off), and acted on by
/// the host at sync points. Memory only the guest touches stays plain Unicorn RAM.
final class ObservedMemory {
    private let manifest: Manifest
    private let policy: Policy
    private let machine: Machine
    private let site: (UInt64) -> String
    private let candidates: Set<UInt64>
    private(set) var schedule: EvictionSchedule
    private(set) var system: MemorySystem
    private var mappedPages: Set<UInt64> = []
    private(set) var guestTypes: [String: Set<String>] = [:]
    private(set) var observations: [FinalState.Observation] = []
    /// Guest sites whose accesses had an UNPREDICTABLE effective attribute.
    private(set) var unpredictable: [String] = []
    /// The VA of the access the memory hook saw last (the MMIO callbacks see only the PA).
    var lastVirtualAddress: (va: UInt64, pc: UInt64)?

    init(manifest: Manifest, policy: Policy, machine: Machine, schedule: EvictionSchedule,
         candidates: Set<UInt64>, site: @escaping (UInt64) -> String) {
        self.manifest = manifest
        self.policy = policy
        self.machine = machine
        self.schedule = schedule
        self.candidates = candidates
        self.site = site
        var initial: [UInt64: UInt8] = [:]
        for region in manifest.observed where region.initial != 0 {
            for offset in 0..<region.size { initial[region.base + offset] = region.initial }
        }
        system = MemorySystem(regions: manifest.observed.map { .init(name: $0.name, base: $0.base, size: $0.size) },
                              initial: initial)
    }

    var isEmpty: Bool { manifest.observed.isEmpty }

    func map() throws(UnicornError) {
        for region in manifest.observed {
            try machine.mapMMIO(region.base, size: region.size, read: { [unowned self] offset, size in
                guestAccess(region, offset: offset, size: size, write: nil)
            }, write: { [unowned self] offset, size, value in
                _ = guestAccess(region, offset: offset, size: size, write: value)
            })
        }
    }

    func contains(physical address: UInt64) -> Bool { system.region(of: address) != nil }

    // MARK: guest accesses

    private func guestAccess(_ region: Manifest.ObservedRegion, offset: UInt64, size: Int, write value: UInt64?) -> UInt64 {
        let pa = region.base + offset
        let pc = lastVirtualAddress?.pc ?? 0
        let agent = Agent.guest(site: site(pc))
        let cachePolicy = resolve(region, virtualAddress: lastVirtualAddress?.va ?? pa, site: agent)
        mapAtStage2(pa)
        if let value {
            system.write(pa, size: size, value: value, policy: cachePolicy, by: agent)
            return 0
        }
        return system.read(pa, size: size, policy: cachePolicy, by: agent)
    }

    /// KVM cleans a page to PoC when stage 2 first maps it (`coherent_cache_guest_page`).
    private func mapAtStage2(_ pa: UInt64) {
        guard policy.cleansOnStage2Map, mappedPages.insert(pa & ~0xFFF).inserted else { return }
        system.cleanAndInvalidate(page: pa)
    }

    /// The effective attribute of a guest data access to `region` at `virtualAddress`.
    private func resolve(_ region: Manifest.ObservedRegion, virtualAddress: UInt64, site agent: Agent) -> CachePolicy {
        let registers = GuestRegisters(machine)
        let walker = registers.stage1
        let stage1: Stage1Attributes
        if walker.isTranslationEnabled, let translation = try? walker.translate(virtualAddress, reader: PhysicalMemory(machine: machine)) {
            stage1 = translation.attributes
        } else {
            stage1 = .translationDisabled(access: .data, sctlrEL1: registers.sctlr, hcrEL2: 0)
        }
        let stage2 = Stage2Attributes(memAttr: policy.stage2MemAttr(for: region.kind), fwb: policy.fwb,
                                      shareability: .innerShareable)
        let combined = AttributeCombiner.combine(stage1: stage1, stage2: stage2)
        switch combined.effective {
        case .defined(let attribute, _):
            guestTypes[region.name, default: []].insert(Self.typeName(attribute))
            return CachePolicy(attribute)
        case .unpredictable:
            guestTypes[region.name, default: []].insert("unpredictable")
            if case .guest(let site) = agent, !unpredictable.contains(site) { unpredictable.append(site) }
            // Nothing architected to follow: served past the cache, and reported.
            return .nonCacheable
        }
    }

    static func typeName(_ attribute: MemoryAttribute) -> String {
        switch CachePolicy(attribute) {
        case .nonCacheable:
            if case .device = attribute { return "device" }
            return "normal-nc"
        case .writeThrough: return "normal-wt"
        case .writeBack: return "normal-wb"
        }
    }

    // MARK: maintenance

    /// DC by VA (SYS hook). Returns true when the harness performed it (the line is observed).
    func cacheMaintenance(_ operation: CacheMaintenanceOperation, virtualAddress: UInt64, pc: UInt64) -> Bool {
        let registers = GuestRegisters(machine)
        let walker = registers.stage1
        let pa = walker.isTranslationEnabled
            ? (try? walker.translate(virtualAddress, reader: PhysicalMemory(machine: machine)))?.outputAddress
            : virtualAddress
        guard let pa, let region = manifest.observed.first(where: { pa >= $0.base && pa - $0.base < $0.size }) else {
            return false
        }
        let line = MemorySystem.line(of: pa)
        switch operation {
        case .dcCVAC: system.clean(line: line)
        // With HCR_EL2.VM = 1 an EL1 DC IVAC is performed as a clean and invalidate.
        case .dcIVAC, .dcCIVAC: system.cleanAndInvalidate(line: line)
        // One modelled level sits before both PoU and PoC: a clean to PoU leaves memory as is.
        case .dcCVAU: break
        case .dcZVA:
            lastVirtualAddress = (virtualAddress & ~(MemorySystem.lineSize - 1), pc)
            let policy = resolve(region, virtualAddress: virtualAddress, site: .guest(site: site(pc)))
            mapAtStage2(line)
            for word in stride(from: line, to: line + MemorySystem.lineSize, by: 8) {
                system.write(word, size: 8, value: 0, policy: policy, by: .guest(site: site(pc)))
            }
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

    // MARK: sync points and eviction choices

    /// At a sync point: an eviction choice, the host's actions, another choice.
    func syncPoint(_ id: Int) {
        decide()
        for action in manifest.host where action.at == id {
            perform(action)
        }
        decide()
    }

    /// At the end of the run: a last eviction choice before the final state is read.
    func finish() { decide() }

    private func decide() {
        for line in candidates.sorted() where system.cache[line] != nil {
            if schedule.nextChoice() { system.evict(line: line) }
        }
    }

    private func perform(_ action: Manifest.HostAction) {
        guard let region = manifest.observed.first(where: { $0.name == action.region }) else { return }
        let agent: Agent, policy: CachePolicy
        if action.observer == "vmm" {
            // The VMM's own mapping of guest memory is Normal Write-Back.
            agent = .vmm
            policy = .writeBack(readAllocate: true, writeAllocate: true)
        } else {
            let coherent = manifest.dma.first { $0.name == action.observer }?.coherent ?? false
            agent = .dma(name: action.observer, coherent: coherent)
            policy = .nonCacheable
        }
        let start = region.base + action.offset
        switch action.action {
        case .read:
            let bytes = system.readBytes(start, count: Int(action.size), policy: policy, by: agent)
            observations.append(.init(label: action.label, bytes: bytes))
        case .write:
            for address in stride(from: start, to: start + action.size, by: 8) {
                system.write(address, size: Int(min(8, start + action.size - address)), value: action.value,
                             policy: policy, by: agent)
            }
        }
    }

    var finalState: FinalState {
        FinalState(observations: observations,
                   failures: system.failures.map { .init(kind: $0.kind, observer: $0.observer, region: $0.region, address: $0.address) },
                   guestTypes: guestTypes)
    }
}

/// The guest's EL1 translation registers as they stand.
struct GuestRegisters {
    let sctlr, tcr, ttbr0, ttbr1, mair: UInt64

    init(_ machine: Machine) {
        func read(_ register: SystemRegister) -> UInt64 {
            (try? machine.readSystemRegister(SystemRegisterAddress(register.encoding))) ?? 0
        }
        sctlr = read(.sctlrEL1)
        tcr = read(.tcrEL1)
        ttbr0 = read(.ttbr0EL1)
        ttbr1 = read(.ttbr1EL1)
        mair = read(.mairEL1)
    }

    var stage1: Stage1Walker {
        Stage1Walker(tcrEL1: tcr, ttbr0EL1: ttbr0, ttbr1EL1: ttbr1, sctlrEL1: sctlr, mairEL1: mair)
    }
}
