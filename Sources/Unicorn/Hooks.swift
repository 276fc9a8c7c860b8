import CUnicorn

/// What a system-instruction hook (MSR, MRS, SYS) saw: the encoding, Xt, and for MSR/SYS the
/// value being written. Unicorn calls the hook before the instruction executes, with PC on it
/// and the system register still holding its old value.
public struct SystemInstruction: Sendable {
    public enum Kind: Sendable { case msr, mrs, sys }
    public let kind: Kind
    public let address: SystemRegisterAddress
    /// n of Xt (31 = XZR).
    public let rt: Int
    /// For MSR and SYS the value written; for MRS the *old* content of Xt (not the register's).
    public let value: UInt64
}

/// What a system-instruction hook decides.
public enum SystemInstructionAction: Sendable {
    /// Let the instruction execute natively.
    case execute
    /// Skip it (and any trap or UNDEF it would raise): the hook has emulated it.
    case skip
}

/// A valid memory access as Unicorn 2.0.1's memory hooks see it. The address is the
/// **virtual** address the guest used (2.0.1 does not report the translated one).
public struct MemoryAccess: Sendable {
    public enum Kind: Sendable { case read, write, fetch }
    public let kind: Kind
    public let virtualAddress: UInt64
    public let size: Int
    /// The value written (writes only).
    public let value: UInt64
}

/// An access Unicorn could not serve from a mapped region (checked by VA in 2.0.1).
public struct InvalidMemoryAccess: Sendable {
    public enum Kind: Sendable { case unmappedRead, unmappedWrite, unmappedFetch, protectedRead, protectedWrite, protectedFetch }
    public let kind: Kind
    public let virtualAddress: UInt64
    public let size: Int
    public let value: UInt64
}

/// Keeps a Swift closure alive for a C callback; passed as Unmanaged user data.
final class HookBox<Handler> {
    let handler: Handler
    init(_ handler: Handler) { self.handler = handler }
}

/// MMIO callbacks for a region served by Swift.
final class MMIOBox {
    let read: (UInt64, Int) -> UInt64
    let write: (UInt64, Int, UInt64) -> Void
    init(read: @escaping (UInt64, Int) -> UInt64, write: @escaping (UInt64, Int, UInt64) -> Void) {
        self.read = read; self.write = write
    }
}

func unbox<H>(_ user: UnsafeMutableRawPointer?) -> H {
    Unmanaged<HookBox<H>>.fromOpaque(user!).takeUnretainedValue().handler
}

extension MemoryAccess.Kind {
    init?(_ type: uc_mem_type) {
        switch type {
        case UC_MEM_READ: self = .read
        case UC_MEM_WRITE: self = .write
        case UC_MEM_FETCH: self = .fetch
        default: return nil
        }
    }
}

extension InvalidMemoryAccess.Kind {
    init?(_ type: uc_mem_type) {
        switch type {
        case UC_MEM_READ_UNMAPPED: self = .unmappedRead
        case UC_MEM_WRITE_UNMAPPED: self = .unmappedWrite
        case UC_MEM_FETCH_UNMAPPED: self = .unmappedFetch
        case UC_MEM_READ_PROT: self = .protectedRead
        case UC_MEM_WRITE_PROT: self = .protectedWrite
        case UC_MEM_FETCH_PROT: self = .protectedFetch
        default: return nil
        }
    }
}
