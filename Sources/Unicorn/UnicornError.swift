import CUnicorn

/// A libunicorn failure: the `uc_err` code, Unicorn's own message, and what the harness was
/// doing when it happened (the C spelling of codes appears only here).
public struct UnicornError: Error, CustomStringConvertible, Equatable, Sendable {
    public let code: Int
    public let context: String

    public init(code: Int, context: String) {
        self.code = code
        self.context = context
    }

    init(_ err: uc_err, _ context: @autoclosure () -> String) {
        self.init(code: Int(err.rawValue), context: context())
    }

    /// Unicorn's name for the code, e.g. `UC_ERR_READ_UNMAPPED`.
    public var name: String {
        switch code {
        case Int(UC_ERR_OK.rawValue): "UC_ERR_OK"
        case Int(UC_ERR_NOMEM.rawValue): "UC_ERR_NOMEM"
        case Int(UC_ERR_ARCH.rawValue): "UC_ERR_ARCH"
        case Int(UC_ERR_HANDLE.rawValue): "UC_ERR_HANDLE"
        case Int(UC_ERR_MODE.rawValue): "UC_ERR_MODE"
        case Int(UC_ERR_VERSION.rawValue): "UC_ERR_VERSION"
        case Int(UC_ERR_READ_UNMAPPED.rawValue): "UC_ERR_READ_UNMAPPED"
        case Int(UC_ERR_WRITE_UNMAPPED.rawValue): "UC_ERR_WRITE_UNMAPPED"
        case Int(UC_ERR_FETCH_UNMAPPED.rawValue): "UC_ERR_FETCH_UNMAPPED"
        case Int(UC_ERR_HOOK.rawValue): "UC_ERR_HOOK"
        case Int(UC_ERR_INSN_INVALID.rawValue): "UC_ERR_INSN_INVALID"
        case Int(UC_ERR_MAP.rawValue): "UC_ERR_MAP"
        case Int(UC_ERR_WRITE_PROT.rawValue): "UC_ERR_WRITE_PROT"
        case Int(UC_ERR_READ_PROT.rawValue): "UC_ERR_READ_PROT"
        case Int(UC_ERR_FETCH_PROT.rawValue): "UC_ERR_FETCH_PROT"
        case Int(UC_ERR_ARG.rawValue): "UC_ERR_ARG"
        case Int(UC_ERR_READ_UNALIGNED.rawValue): "UC_ERR_READ_UNALIGNED"
        case Int(UC_ERR_WRITE_UNALIGNED.rawValue): "UC_ERR_WRITE_UNALIGNED"
        case Int(UC_ERR_FETCH_UNALIGNED.rawValue): "UC_ERR_FETCH_UNALIGNED"
        case Int(UC_ERR_HOOK_EXIST.rawValue): "UC_ERR_HOOK_EXIST"
        case Int(UC_ERR_RESOURCE.rawValue): "UC_ERR_RESOURCE"
        case Int(UC_ERR_EXCEPTION.rawValue): "UC_ERR_EXCEPTION"
        default: "UC_ERR(\(code))"
        }
    }

    /// Unicorn's own sentence for the code.
    public var message: String { String(cString: uc_strerror(uc_err(UInt32(code)))) }

    /// Whether the code is one of the unmapped-memory errors (read, write or fetch).
    public var isUnmappedAccess: Bool {
        [UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED, UC_ERR_FETCH_UNMAPPED]
            .map { Int($0.rawValue) }.contains(code)
    }

    /// An access to memory mapped without the permission it needs (a write to read-only flash).
    public var isProtectedAccess: Bool {
        [UC_ERR_READ_PROT, UC_ERR_WRITE_PROT, UC_ERR_FETCH_PROT].map { Int($0.rawValue) }.contains(code)
    }

    public var description: String { "\(context): \(name) (\(message))" }
}

@inline(__always)
func check(_ err: uc_err, _ context: @autoclosure () -> String) throws(UnicornError) {
    if err != UC_ERR_OK { throw UnicornError(err, context()) }
}

/// The libunicorn version as (major, minor), from `uc_version`.
public func unicornVersion() -> (major: Int, minor: Int, packed: UInt32) {
    var major: UInt32 = 0, minor: UInt32 = 0
    let packed = uc_version(&major, &minor)
    return (Int(major), Int(minor), packed)
}
