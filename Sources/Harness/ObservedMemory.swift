import AArch64
import Coherency
import Formats
import Hypervisor
import Unicorn

/// The guest-physical memory that more than one observer touches: served from MMIO callbacks
/// by the coherency model, each guest access resolved to its effective attribute (the guest's
/// stage 1 with the MAIR value in force, the policy's stage 2, FWB, MMU off), and acted on by
/// the host at sync points. Memory only the guest touches stays plain Unicorn RAM.
final class ObservedMemory {
    private let manifest: Manifest
    private(set) var policy: Policy
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
    /// The access the memory hook saw last (the MMIO callbacks see only the PA, and Unicorn
    /// splits an 8-byte access into two 4-byte callbacks).
    private var access: (va: UInt64, size: Int)?
    /// The part of that access already seen by the callbacks: where it starts, and the bytes
    /// read (served to the later pieces) or written (performed once all have arrived).
    private var piece: (pa: UInt64, bytes: [UInt8], filled: Int)?

    /// Called when the policy refuses a stage-2 mapping the guest touched: the run ends.
    var onRefusal: ((_ region: String, _ reason: String, _ pc: UInt64) -> Void)?
    /// Called when a migration is refused: the run ends.
    var onMigrationRefused: ((_ reason: String) -> Void)?
    /// The migrations done, for the report.
    private(set) var migrations: [String] = []
    private(set) var refused = false

    /// Called by the memory hook before the callbacks of each guest access.
    func guestAccessBegins(virtualAddress: UInt64, size: Int) {
        access = (virtualAddress, size)
        piece = nil
    }

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

    /// One MMIO callback. The whole guest access is performed on the model once, as one
    /// observation: a read on its first piece, a write when its last piece has arrived.
    private func guestAccess(_ region: Manifest.ObservedRegion, offset: UInt64, size: Int, write value: UInt64?) -> UInt64 {
        let pa = region.base + offset
        let whole = access.map { max($0.size, size) } ?? size
        if piece == nil || pa < piece!.pa || pa + UInt64(size) > piece!.pa + UInt64(whole) {
            piece = (pa, [UInt8](repeating: 0, count: whole), 0)
            if value == nil { piece!.bytes = perform(region, pa, whole, write: nil) }
        }
        let start = Int(pa - piece!.pa)
        guard let value else {
            return piece!.bytes[start..<start + size].enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        }
        for index in 0..<size { piece!.bytes[start + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
        piece!.filled += size
        if piece!.filled >= whole {
            _ = perform(region, piece!.pa, whole, write: piece!.bytes)
            piece = nil
        }
        return 0
    }

    private func perform(_ region: Manifest.ObservedRegion, _ pa: UInt64, _ count: Int, write bytes: [UInt8]?) -> [UInt8] {
        // Unicorn syncs PC before a memory hook runs, so it names this access's instruction here
        // too; reading it only for observed accesses keeps the hook on every access cheap.
        let pc = (try? machine.read(.pc)) ?? 0
        if case .refused(let reason) = policy.stage2Mapping(for: region.kind) {
            if !refused { onRefusal?(region.name, reason, pc) }
            refused = true
            return [UInt8](repeating: 0, count: count)
        }
        let agent = Agent.guest(site: site(pc))
        let cachePolicy = resolve(region, virtualAddress: access?.va ?? pa, site: agent)
        mapAtStage2(pa)
        guard let bytes else { return system.readBytes(pa, count: count, policy: cachePolicy, by: agent) }
        system.write(pa, bytes: bytes, policy: cachePolicy, by: agent)
        return bytes
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
        guard case .mapped(let memAttr) = policy.stage2Mapping(for: region.kind) else { return .nonCacheable }
        let stage2 = Stage2Attributes(memAttr: memAttr, fwb: policy.fwb, shareability: .innerShareable)
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
            if case .device(let type) = attribute { return "device-\(type.name)" }
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
            let policy = resolve(region, virtualAddress: virtualAddress, site: .guest(site: site(pc)))
            mapAtStage2(line)
            system.write(line, bytes: [UInt8](repeating: 0, count: Int(MemorySystem.lineSize)), policy: policy,
                         by: .guest(site: site(pc)))
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
        for migration in manifest.migrations where migration.at == id {
            migrate(migration)
        }
        decide()
    }

    /// Live migration at a sync point (seed 001): a VM with a device mapped cacheable at stage 2
    /// can move only between FWB hosts; one with Device (or NC) mappings moves both ways. The
    /// source cleans the VM to PoC, memory and registers move, the target maps pages anew.
    private func migrate(_ migration: Manifest.Migration) {
        let target = migration.toFWB ? "an FWB host" : "a non-FWB host"
        if !migration.toFWB, let region = manifest.observed.first(where: { region in
            guestTypes[region.name] != nil && region.kind == .cacheableDevice && policy.cacheablePFNMAP && policy.fwb
        }) {
            onMigrationRefused?("region '\(region.name)' is mapped cacheable at stage 2, which only an FWB host can do: a VM with a device mapped cacheable can only migrate between FWB-capable hosts")
            return
        }
        system.cleanAndInvalidateAll()
        mappedPages = []
        policy.fwb = migration.toFWB
        migrations.append("at sync \(migration.at) to \(target)")
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
            let pattern = (0..<action.size).map { UInt8(truncatingIfNeeded: action.value >> (8 * ($0 % 8))) }
            system.write(start, bytes: pattern, policy: policy, by: agent)
        }
    }

    func finalState(end: String) -> FinalState {
        FinalState(observations: observations,
                   failures: system.failures.map { .init(kind: $0.kind, observer: $0.observer, region: $0.region, address: $0.address) },
                   guestTypes: guestTypes, end: end)
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
