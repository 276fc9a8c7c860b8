import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

// What the project took from the full Foundation, rebuilt on FoundationEssentials and the C
// library: the full Foundation (with its ICU data) tripled the static binary's conformance
// records and relocations, and every process start paid for them (Benchmarks/README.md).

/// A mutual-exclusion lock (pthread_mutex), shaped like the NSLock it replaces.
public final class Lock: @unchecked Sendable {
    // Allocated, not stored inline: a pthread mutex must not move while in use.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }

    public func unlock() { pthread_mutex_unlock(mutex) }

    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// printf-style formatting by the C library's vsnprintf: what `String(format:)` gave for the
/// conversions used here (`%.2f`, `%02x`, `%016llx`, `%ld`), byte for byte.
public func cFormat(_ format: String, _ arguments: any CVarArg...) -> String {
    func attempt(capacity: Int) -> (text: String, needed: Int) {
        var buffer = [CChar](repeating: 0, count: capacity)
        let needed = withVaList(arguments) { vsnprintf(&buffer, capacity, format, $0) }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return (String(decoding: bytes, as: UTF8.self), Int(needed))
    }
    let first = attempt(capacity: 256)
    return first.needed < 256 ? first.text : attempt(capacity: first.needed + 1).text
}

extension StringProtocol {
    /// Without leading and trailing blanks (spaces and tabs, not newlines): CharacterSet.whitespaces.
    public func trimmingBlanks() -> String { trimming { $0.isWhitespace && !$0.isNewline } }

    /// Without leading and trailing white space and newlines: CharacterSet.whitespacesAndNewlines.
    public func trimmingWhitespace() -> String { trimming(\.isWhitespace) }

    private func trimming(_ drop: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Padded with spaces on the right to `width` characters (never cut).
    public func padded(to width: Int) -> String {
        let count = self.count
        return count >= width ? String(self) : String(self) + String(repeating: " ", count: width - count)
    }
}

/// The system's reason for a failed file operation ("No such file or directory"), without
/// Foundation's wrapping: the errno under a CocoaError, or the error itself.
public func systemReason(_ error: any Error) -> String {
    if let cocoa = error as? CocoaError, let posix = cocoa.underlying as? POSIXError { return errnoReason(posix.code.rawValue) }
    if let posix = error as? POSIXError { return errnoReason(posix.code.rawValue) }
    return String(describing: error)
}

/// The system's reason for an error number ("No such file or directory").
public func errnoReason(_ code: Int32) -> String { String(cString: strerror(code)) }

/// write(2) until every byte is written: 0, or the errno that stopped it.
@discardableResult
public func writeAll(_ text: String, to descriptor: Int32) -> Int32 {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        if written < 0 {
            if errno == EINTR { continue }
            return errno
        }
        bytes = bytes.dropFirst(written)
    }
    return 0
}

/// Starts `body` on a new detached thread with a stack of `stackSize` bytes (what Foundation's
/// Thread gave: the emulator's translator and deep model recursion need more than 512 KiB).
public func startThread(stackSize: Int = 8 << 20, _ body: @escaping @Sendable () -> Void) {
    final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setstacksize(&attributes, stackSize)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    let context = Unmanaged.passRetained(Body(body)).toOpaque()
    var thread = pthread_t()
    let code = pthread_create(&thread, &attributes, { context in
        Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    precondition(code == 0, "pthread_create: \(errnoReason(code))")
}

/// The variables among `names` that this process's environment sets (getenv), for a default
/// argument: `ProcessInfo.environment` makes a dictionary of the whole environment, a
/// measurable part of a short run's start for the one or three variables wanted.
public func environmentVariables(_ names: String...) -> [String: String] {
    var found: [String: String] = [:]
    for name in names {
        if let value = getenv(name) { found[name] = String(cString: value) }
    }
    return found
}

/// A file's size and modification time in whole seconds (stat); nil when it cannot be
/// stat'ed. What FileManager's attributes gave, without building their dictionary.
public func fileStamp(_ path: String) -> (size: Int64, modified: Int64)? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return (Int64(info.st_size), Int64(info.st_mtim.tv_sec))
}

/// `value` with `digits` decimals, as printf's `%.Nf` writes it (the exact binary value
/// rounded half to even), computed in integers: `cFormat` passes a Double through CVarArg,
/// whose first use costs dynamic casts a short run's start notices. Values past 2^53, digits
/// past 6 and non-finite values go to `cFormat` itself.
public func fixed(_ value: Double, digits: Int) -> String {
    let magnitude = value.magnitude
    guard value.isFinite, magnitude < 0x1p53, (0...6).contains(digits) else {
        return cFormat("%.*f", Int32(digits), value)
    }
    var scale: UInt128 = 1
    for _ in 0..<digits { scale *= 10 }
    // magnitude = significand * 2^exponent exactly; below 2^53 the exponent is at most 0, and
    // significand * 10^6 < 2^73 fits in 128 bits.
    let (significand, exponent): (UInt128, Int) = magnitude.isNormal
        ? (UInt128(magnitude.significandBitPattern | 1 << 52), Int(magnitude.exponent) - 52)
        : (UInt128(magnitude.significandBitPattern), -1074)
    let product = significand * scale, shift = -exponent
    var scaled = shift >= 128 ? 0 : product >> UInt128(shift)
    // What was shifted out, against one half: above it rounds up, on it to even.
    let remainder = shift >= 128 ? product : product - (scaled << UInt128(shift))
    let half = shift == 0 ? 0 : shift > 128 ? UInt128.max : UInt128(1) << UInt128(shift - 1)
    if shift > 0, remainder > half || (remainder == half && scaled & 1 == 1) { scaled += 1 }
    let whole = String(scaled / scale), fraction = String(scaled % scale)
    let sign = value.sign == .minus ? "-" : ""
    return digits == 0 ? sign + whole : sign + whole + "." + String(repeating: "0", count: digits - fraction.count) + fraction
}

/// GNU extensions of the C library that Swift's Glibc module does not declare (it is not built
/// with _GNU_SOURCE), looked up once by name: pipe2 (glibc 2.9),
/// posix_spawn_file_actions_addchdir_np (glibc 2.29), sched_getaffinity and sched_setaffinity.
enum GNU {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias Affinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
    nonisolated(unsafe) static let pipe2 = unsafeBitCast(symbol("pipe2"), to: Pipe2.self)
    nonisolated(unsafe) static let addchdir = unsafeBitCast(symbol("posix_spawn_file_actions_addchdir_np"), to: AddChdir.self)
    nonisolated(unsafe) static let getaffinity = unsafeBitCast(symbol("sched_getaffinity"), to: Affinity.self)
    nonisolated(unsafe) static let setaffinity = unsafeBitCast(symbol("sched_setaffinity"), to: Affinity.self)

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer {
        guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {
            fatalError("the C library has no \(name)")
        }
        return address
    }
}

/// Runs `body` with the calling thread held on one CPU (the last it may use), then gives it
/// back the CPUs it had: both sides of an in-process comparison then run on one core. Left to
/// move between the cores of this 2-core machine, the bench's compute ratio varied from 0.45 to
/// 0.62 between runs of one binary; pinned, from 0.58 to 0.60.
public func onOneCPU<T>(_ body: () throws -> T) rethrows -> T {
    var original = [UInt64](repeating: 0, count: 16)   // a cpu_set_t: 1024 CPUs
    let size = original.count * 8
    guard GNU.getaffinity(0, size, &original) == 0,
          let last = (0..<size * 8).last(where: { original[$0 / 64] & (1 << UInt64($0 % 64)) != 0 }) else { return try body() }
    var one = [UInt64](repeating: 0, count: 16)
    one[last / 64] = 1 << UInt64(last % 64)
    guard GNU.setaffinity(0, size, &one) == 0 else { return try body() }
    defer { _ = GNU.setaffinity(0, size, &original) }
    return try body()
}
