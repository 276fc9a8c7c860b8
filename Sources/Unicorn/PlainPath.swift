import CUnicorn
#if canImport(Glibc)
import Glibc
#endif

/// Guest accesses to shared memory that no cache can hold, served in C (plain.h): the Swift
/// side says which PCs resolve where (`addSite`) and which lines are plain now (`validate`),
/// takes the accesses C performed (`drain`) and withdraws every line whenever it may have
/// changed one (`withdraw`).
public final class PlainPath {
    let state: UnsafeMutablePointer<mairlab_plain>
    private var regions: [UnsafeMutablePointer<mairlab_plain_region>] = []
    private var boxes: [MMIOBox] = []

    public init() {
        state = .allocate(capacity: 1)
        state.initialize(to: mairlab_plain())
        state.pointee.line_epoch = 1
    }

    deinit {
        for region in regions {
            free(region.pointee.shadow)
            free(region.pointee.valid)
            region.deallocate()
        }
        state.deallocate()
    }

    /// `pc` resolves VA page `vaPage` to PA page `paPage` under this translation generation and
    /// these written VM registers, by an access that bypasses the caches. Its slot (what the
    /// records name), or nil when the table is full.
    public func addSite(pc: UInt64, vaPage: UInt64, paPage: UInt64, generation: UInt64, written: UInt32) -> Int? {
        let slot = mairlab_plain_add_site(state, pc, vaPage, paPage, generation, written)
        return slot < 0 ? nil : Int(slot)
    }

    /// How many sites the table holds at most.
    public static let siteCapacity = Int(MAIRLAB_PLAIN_SITES)

    /// Resolutions no longer stand (the policy's stage 2 was made anew).
    public func clearSites() {
        withUnsafeMutableBytes(of: &state.pointee.sites) { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }

    /// The line at `line` (a PA, 64-byte aligned) is plain now and holds `bytes` as its latest.
    public func validate(line: UInt64, bytes: [UInt8]) {
        guard bytes.count == 64, let region = regions.first(where: { line >= $0.pointee.base && line - $0.pointee.base < $0.pointee.size })
        else { return }
        let offset = Int(line - region.pointee.base)
        bytes.withUnsafeBytes { UnsafeMutableRawPointer(region.pointee.shadow.advanced(by: offset)).copyMemory(from: $0.baseAddress!, byteCount: 64) }
        region.pointee.valid[offset >> 6] = state.pointee.line_epoch
    }

    /// Swift performed the access with hook sequence `sequence` (at `start`, `size` bytes, and
    /// for a read the `bytes` it returned): C serves its later MMIO callbacks.
    public func stash(sequence: UInt64, start: UInt64, size: Int, isWrite: Bool, bytes: [UInt8]) {
        let padded = bytes + [UInt8](repeating: 0, count: max(0, 8 - bytes.count))
        padded.withUnsafeBufferPointer {
            mairlab_plain_stash(state, sequence, start, UInt32(size), isWrite ? 1 : 0, $0.baseAddress)
        }
    }

    /// No line is valid any more.
    public func withdraw() {
        regions.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: Optional<UnsafeMutablePointer<mairlab_plain_region>>.self,
                                                  capacity: buffer.count) {
                mairlab_plain_withdraw(state, $0, Int32(buffer.count))
            }
        }
    }

    /// One access C performed: plain.h's record, read where C wrote it.
    public typealias Record = mairlab_plain_record

    /// The accesses C performed since the last call, in order, to `body` (the buffer is C's,
    /// valid during the call only); then there are none.
    public func drain(_ body: (UnsafeBufferPointer<Record>) -> Void) {
        let count = Int(state.pointee.count)
        guard count > 0 else { return }
        withUnsafeBytes(of: &state.pointee.records) { raw in
            body(UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: Record.self), count: count))
        }
        state.pointee.count = 0
    }

    fileprivate func add(_ region: UnsafeMutablePointer<mairlab_plain_region>, box: MMIOBox) {
        regions.append(region)
        boxes.append(box)
    }
}

extension Machine {
    /// Maps `size` bytes at `base` as MMIO served first by `plain` (in C), then by `read` and
    /// `write` for what C does not serve.
    public func mapPlainMMIO(_ base: UInt64, size: UInt64, plain: PlainPath, fast: FastPath,
                             read: @escaping (_ offset: UInt64, _ size: Int) -> UInt64,
                             write: @escaping (_ offset: UInt64, _ size: Int, _ value: UInt64) -> Void) throws(UnicornError) {
        let box = MMIOBox(read: read, write: write)
        let region = UnsafeMutablePointer<mairlab_plain_region>.allocate(capacity: 1)
        region.initialize(to: mairlab_plain_region())
        region.pointee.base = base
        region.pointee.size = size
        region.pointee.fast = fast.state
        region.pointee.plain = plain.state
        // calloc: pages are only backed once touched, whatever the region's size.
        region.pointee.shadow = calloc(Int(size), 1).assumingMemoryBound(to: UInt8.self)
        region.pointee.valid = calloc(Int(size >> 6) + 1, MemoryLayout<UInt32>.size).assumingMemoryBound(to: UInt32.self)
        region.pointee.context = Unmanaged.passUnretained(box).toOpaque()
        region.pointee.read = { context, offset, size in
            Unmanaged<MMIOBox>.fromOpaque(context!).takeUnretainedValue().read(offset, Int(size))
        }
        region.pointee.write = { context, offset, size, value in
            Unmanaged<MMIOBox>.fromOpaque(context!).takeUnretainedValue().write(offset, Int(size), value)
        }
        plain.add(region, box: box)
        retain(plain)
        try check(mairlab_plain_map(uc, region), "uc_mmio_map(0x\(String(base, radix: 16)), 0x\(String(size, radix: 16)))")
    }
}

extension mairlab_plain_record {
    public var physicalAddress: UInt64 { pa }
    public var isWrite: Bool { write != 0 }
    public var byteCount: Int { Int(size) }
    /// The site's slot (`PlainPath.addSite`).
    public var siteSlot: Int { Int(slot) }
}
