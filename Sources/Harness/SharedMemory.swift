import AArch64
import Coherency
import Formats
import Hypervisor
import Unicorn

/// What shared memory answers a guest access with.
enum SharedAccess {
    case served
    /// The policy refuses to map the region at stage 2: the run ends.
    case refused(region: String, reason: String)
}

/// The guest-physical memory that more than one observer touches, served by the coherency
/// model. A guest access is performed once, whole, when its first MMIO callback arrives: each
/// byte through its own page's translation (stage 1 with the MAIR value in force, the policy's
/// stage 2 for its own region, FWB, MMU and caches off), and the callbacks are served from the
/// result (Unicorn splits accesses, and reads unaligned ones as two wider aligned reads).
final class SharedMemory {
    let regions: [Manifest.ObservedRegion]
    private(set) var model: SharedMemoryModel
    /// The effective types of the guest's accesses, the sites that make a verdict undecidable.
    private(set) var attributes = AttributeLog()
    private var mappedPages: Set<UInt64> = []
    private let chooser: ValueChooser
    /// The guest access the memory hook saw last, and the bytes it read or wrote, by PA.
    private var pending: PendingAccess?
    private(set) var pendingSequence: UInt64 = 0
    private var refused = false
    /// The resolution of the last guest access performed, when it lay in one page of one
    /// region and was served (what `remember` keeps for its site).
    private var lastResolved: (vaPage: UInt64, paPage: UInt64, access: LineAccess)?
    /// Resolutions by guest PC, for `plainAccess`.
    private var resolved: [UInt64: ResolvedSite] = [:]
    /// Bumped when the policy's stage 2 is made anew (a migration): resolutions made before
    /// no longer stand.
    private var epoch = 0
    /// Guest accesses performed as plain (by `plainAccess`, or in C and replayed).
    private(set) var plainAccesses = 0
    /// The C side of plain accesses (nil: none served there), and its sites by slot.
    var plain: PlainPath?
    /// What C's site slots stand for: the access and its writer's number in the model (plain
    /// data: a replay copies no observer).
    private var plainSites = [PlainSite?](repeating: nil, count: PlainPath.siteCapacity)
    /// The events of one replay, kept for the next (its storage reused).
    private var plainEvents: [SharedMemoryModel.PlainEvent] = []
    /// The access `plainAccess` performed last: its PA, and the bytes it read (a write: none).
    private var plainRest: (start: UInt64, isWrite: Bool, bytes: [UInt8])?

    init(regions: [Manifest.ObservedRegion], hostCacheable: (RegionKind) -> Bool, chooser: ValueChooser,
         replay: [UInt64: [WitnessStep]]? = nil, plainLines: Bool = true) {
        self.regions = regions
        self.chooser = chooser
        model = SharedMemoryModel(regions: regions.map {
            .init(name: $0.name, base: $0.base, size: $0.size, initial: $0.initial, hostCacheable: hostCacheable($0.kind))
        }, replay: replay, plainLines: plainLines)
    }

    func region(containing pa: UInt64) -> Manifest.ObservedRegion? {
        regions.first { pa >= $0.base && pa - $0.base < $0.size }
    }

    // MARK: guest accesses

    /// One MMIO callback: the bytes to return (reads), after performing the guest's access if
    /// this is its first callback. `access` is what the memory hook saw last (`sequence` counts
    /// the accesses it saw, so a new one is told from the pieces of the last).
    func callback(pa: UInt64, size: Int, isWrite: Bool, access: MemoryAccessEvent?, sequence: UInt64,
                  context: GuestContext) -> (bytes: [UInt8], answer: SharedAccess) {
        if let access, sequence != pendingSequence {
            pending = PendingAccess(access)
            pendingSequence = sequence
            plainRest = nil
        }
        if var access = pending, access.isWrite == isWrite, !access.performed {
            let answer = perform(&access, context: context)
            pending = access
            if case .refused = answer { return ([UInt8](repeating: 0, count: size), answer) }
        }
        // A byte the access does not cover (an over-wide aligned read, or the emulator's own
        // table walk) is served as memory holds it, and observed by nobody.
        let bytes = (0..<UInt64(size)).map { offset -> UInt8 in
            pending?.bytes[pa + offset] ?? model.peek(pa + offset)
        }
        return (bytes, .served)
    }

    /// After an access performed the long way from `pc`: remember its resolution when it lay
    /// in one page and was served.
    func remember(pc: UInt64, site: String, generation: UInt64, written: UInt32) {
        guard let last = lastResolved else { return }
        lastResolved = nil
        let resolution = ResolvedSite(generation: generation, written: written, epoch: epoch, vaPage: last.vaPage,
                                      paPage: last.paPage, access: last.access, observer: .guest(site: site))
        resolved[pc] = resolution
        if LineModel.bypassesCaches(last.access), let plain,
           let slot = plain.addSite(pc: pc, vaPage: last.vaPage, paPage: last.paPage, generation: generation, written: written) {
            plainSites[slot] = PlainSite(access: last.access, writer: model.observerID(resolution.observer))
        }
    }

    /// A new guest access (hook sequence `sequence`) from `pc` whose first MMIO callback is at
    /// its first byte (`pa`), within one line, resolved before under the same stamp, to a line no
    /// cache can hold, by an access that bypasses the caches: performed whole without resolving
    /// or exploring (`SharedMemoryModel.plainRead`/`plainWrite`), its callbacks then served by
    /// `plainCallback`. False, and nothing done, when any of that does not hold.
    func plainAccess(_ event: MemoryAccessEvent, sequence: UInt64, pa: UInt64, pc: UInt64, generation: UInt64,
                     written: UInt32) -> Bool {
        guard event.virtualAddress & 0xFFF == pa & 0xFFF, (pa & 63) + UInt64(event.size) <= 64,
              let site = resolved[pc], site.generation == generation, site.written == written, site.epoch == epoch,
              site.vaPage == event.virtualAddress & ~0xFFF, site.paPage == pa & ~0xFFF
        else { return false }
        var bytes: [UInt8] = []
        if event.isWrite {
            guard model.plainWrite(site.access, address: pa, value: event.value, count: event.size, by: site.observer)
            else { return false }
        } else {
            guard let read = model.plainRead(site.access, address: pa, count: event.size) else { return false }
            bytes = read
        }
        // Unicorn may split the access into several callbacks (4 bytes at most each for an
        // MMIO region): all are served from what it moved.
        pending = nil
        pendingSequence = sequence
        plainRest = (pa, event.isWrite, bytes)
        plainAccesses += 1
        // The line is plain now: C may serve it until Swift is entered again, starting with this
        // access's later callbacks.
        if let plain {
            let line = SharedMemoryModel.line(of: pa)
            plain.validate(line: line, bytes: (0..<SharedMemoryModel.lineSize).map { model.peek(line + $0) })
            plain.stash(sequence: sequence, start: pa, size: event.size, isWrite: event.isWrite, bytes: bytes)
        }
        return true
    }

    /// The accesses C performed (plain.h), into the model in order, as `plainAccess` would have
    /// performed them: C served only lines Swift had proved plain since it was last entered,
    /// from PCs resolved under the same stamp, so each is plain here too.
    func replayPlain(_ records: UnsafeBufferPointer<PlainPath.Record>) {
        plainEvents.removeAll(keepingCapacity: true)
        for record in records {
            guard let site = plainSites[record.siteSlot] else {
                preconditionFailure("an access served in C from \(hex(record.pc)), which Swift never resolved")
            }
            plainEvents.append(.init(access: site.access, address: record.physicalAddress, value: record.value,
                                     count: record.byteCount, isWrite: record.isWrite, writer: site.writer))
        }
        precondition(model.replayPlain(plainEvents), "an access served in C to a line that is not plain")
        plainAccesses += records.count
        if let last = records.last {
            pending = nil
            pendingSequence = last.sequence
            plainRest = nil
        }
    }

    /// An MMIO callback of the access `plainAccess` performed last (hook sequence `sequence`):
    /// the value of its bytes (a write's: 0); nil when it is not one.
    func plainCallback(pa: UInt64, size: Int, isWrite: Bool, sequence: UInt64) -> UInt64? {
        guard sequence == pendingSequence, let rest = plainRest, rest.isWrite == isWrite, pa >= rest.start else { return nil }
        guard !isWrite else { return 0 }
        let offset = Int(pa - rest.start)
        guard offset + size <= rest.bytes.count, size <= 8 else { return nil }
        var value: UInt64 = 0
        for index in 0..<size { value |= UInt64(rest.bytes[offset + index]) << (8 * UInt64(index)) }
        return value
    }

    private func perform(_ access: inout PendingAccess, context: GuestContext) -> SharedAccess {
        access.performed = true
        let parts = context.translate(access.virtualAddress, count: access.size)
        lastResolved = nil
        for part in parts {
            guard let region = region(containing: part.physicalAddress) else { continue }
            if case .refused(let reason) = context.policy.stage2Mapping(for: region.kind) {
                defer { refused = true }
                if !refused { return .refused(region: region.name, reason: reason) }
                continue
            }
            let lineAccess = attributes.resolve(part, region: region, policy: context.policy, site: context.site,
                                                registersWritten: context.registersWritten)
            mapAtStage2(part.physicalAddress, policy: context.policy, cachesOn: context.cachesOn)
            let type = attributes.lastType?.rawValue ?? "?"
            // Made only when a replay traces it.
            let label = { "guest at \(context.site) (\(type))" }
            let range = part.offset..<part.offset + part.count
            if parts.count == 1, part.count == access.size {
                lastResolved = (access.virtualAddress & ~0xFFF, part.physicalAddress & ~0xFFF, lineAccess)
            }
            if access.isWrite {
                let bytes = Array(access.writeBytes[range])
                model.write(lineAccess, address: part.physicalAddress, bytes: bytes, by: .guest(site: context.site), label: label())
                access.bytes.store(bytes, at: part.physicalAddress)
            } else {
                let bytes = model.read(lineAccess, address: part.physicalAddress, count: part.count,
                                       by: .guest(site: context.site), label: label(), chooser: chooser)
                access.bytes.store(bytes, at: part.physicalAddress)
            }
        }
        return .served
    }

    /// KVM's clean to PoC when stage 2 maps a page (`coherent_cache_guest_page`), as the policy's
    /// era did it.
    private func mapAtStage2(_ pa: UInt64, policy: Policy, cachesOn: Bool) {
        guard mappedPages.insert(pa & ~0xFFF).inserted,
              policy.cleansOnStage2Map(cachesOn: cachesOn, readOnly: region(containing: pa)?.kind == .flash) else { return }
        model.maintain(.cleanAndInvalidate, address: pa & ~0xFFF, count: 0x1000, label: "KVM cleans the page to PoC on stage-2 map")
    }

    // MARK: maintenance and the host's side

    /// DC by VA to observed memory at `pa` (a line), from the guest at `site`.
    func cacheMaintenance(_ operation: CacheMaintenanceOperation, part: TranslatedPart, context: GuestContext) -> Bool {
        let line = SharedMemoryModel.line(of: part.physicalAddress)
        let label = "guest at \(context.site): \(operation.rawValue)"
        switch operation {
        case .dcCVAC: model.maintain(.cleanToPoC, address: line, count: 1, label: label)
        // With HCR_EL2.VM = 1 an EL1 DC IVAC is performed as a clean and invalidate (Arm ARM,
        // HCR_EL2.VM): a guest cannot discard what the hypervisor or another agent wrote.
        case .dcIVAC, .dcCIVAC: model.maintain(.cleanAndInvalidate, address: line, count: 1, label: label)
        case .dcCVAU: model.maintain(.cleanToPoU, address: line, count: 1, label: label)
        case .dcZVA:
            guard let region = region(containing: line) else { return false }
            let lineAccess = attributes.resolve(part, region: region, policy: context.policy, site: context.site,
                                                registersWritten: context.registersWritten)
            mapAtStage2(line, policy: context.policy, cachesOn: context.cachesOn)
            model.write(lineAccess, address: line, bytes: [UInt8](repeating: 0, count: Int(SharedMemoryModel.lineSize)),
                        by: .guest(site: context.site), label: label)
        default: return false
        }
        return true
    }

    /// A DC ISW/CSW/CISW the hypervisor does not trap: the lines of the set the operand names
    /// (Set at bits [12:6] for 64-byte lines and 128 sets; Level at bits [3:1]: 0 the inner
    /// level, above it the outer). DC ISW is performed as DC CISW under HCR_EL2.VM = 1. Where a
    /// line really sits depends on the implementation's cache geometry, so an execution that
    /// relies on set/way maintenance of shared memory cannot settle Always or Never.
    func setWay(_ operation: CacheMaintenanceOperation, operand: UInt64, site: String) {
        let level: CacheLevel = (operand >> 1) & 0b111 == 0 ? .inner : .outer
        let set = (operand >> 6) & 127
        model.maintain(operation == .dcCSW ? .clean(level) : .cleanAndInvalidateLevel(level), set: set, sets: 128,
                       label: "guest at \(site): \(operation.rawValue) (untrapped)")
        attributes.undecidable(.failures, "an untrapped set/way operation at \(site): which lines it reaches depends on the implementation's cache geometry")
    }

    /// The hypervisor cleaned the whole VM to PoC (`stage2_flush_vm`).
    func stage2Flush(_ label: String) { model.maintainAll(.cleanAndInvalidate, label: label) }

    /// A migration: the source cleans the VM to PoC, the target maps pages anew.
    func migrated() {
        model.maintainAll(.cleanAndInvalidate, label: "migration: the source cleans the VM to PoC")
        mappedPages = []
        epoch += 1
        plain?.clearSites()
        plainSites = [PlainSite?](repeating: nil, count: PlainPath.siteCapacity)
    }

    /// What the VMM or a DMA master does at a sync point, a MiB at a time; false when
    /// `expired` said between two of them that the wall-clock limit has passed.
    func perform(_ action: Manifest.HostAction, dma: [Manifest.DMAMaster], expired: () -> Bool) -> Bool {
        guard let region = regions.first(where: { $0.name == action.region }) else { return true }
        let observer: Observer, access: LineAccess
        if action.observer == "vmm" {
            // The VMM's own mapping of guest memory is Normal Write-Back.
            (observer, access) = (.vmm, .writeBack)
        } else {
            let coherent = dma.first { $0.name == action.observer }?.coherent ?? false
            (observer, access) = (.dma(name: action.observer, coherent: coherent), coherent ? .coherentDMA : .nonCoherentDMA)
        }
        let start = region.base + action.offset, end = start + action.size, label = "\(observer) at sync \(action.at)"
        let chunk: UInt64 = 1 << 20
        var address = start
        while address < end {
            if expired() { return false }
            // Pieces end on MiB boundaries, so no cache line is split between two of them.
            let next = min(end, (address & ~(chunk - 1)) + chunk), done = address - start
            switch action.action {
            case .read:
                // The host's reads do not change what it does next: every state is kept.
                _ = model.read(access, address: address, count: Int(next - address), by: observer, label: label, chooser: nil)
            case .write:
                let pattern = (done..<done + next - address).map { UInt8(truncatingIfNeeded: action.value >> (8 * ($0 % 8))) }
                model.write(access, address: address, bytes: pattern, by: observer, label: label)
            }
            address = next
        }
        return true
    }

    func finish() { model.finish() }
}

/// How a guest PC's access to shared memory resolved (its page's translation, the region's
/// stage 2, the combined attributes), and what it was resolved under: the translation
/// registers and TLB state (`FastPath.translationGeneration`, which SCTLR_EL1 writes bump
/// too), the VM registers written (the UNKNOWN-at-reset checks) and the policy's stage 2
/// (`epoch`). Resolving again under the same stamp gives the same answer and records nothing
/// new (`AttributeLog.resolve` only adds what it has not seen for the same site).
/// A site C may serve: what its accesses are to the model.
struct PlainSite {
    let access: LineAccess
    let writer: UInt32
}

struct ResolvedSite {
    let generation: UInt64
    let written: UInt32
    let epoch: Int
    let vaPage: UInt64
    let paPage: UInt64
    let access: LineAccess
    let observer: Observer
}
