import CUnicorn

/// The CPU models Unicorn 2.0.1 offers for AArch64.
public enum CPUModel: Sendable, CaseIterable {
    case cortexA57, cortexA53, cortexA72, max

    var raw: Int32 {
        switch self {
        case .cortexA57: Int32(UC_CPU_ARM64_A57.rawValue)
        case .cortexA53: Int32(UC_CPU_ARM64_A53.rawValue)
        case .cortexA72: Int32(UC_CPU_ARM64_A72.rawValue)
        case .max: Int32(UC_CPU_ARM64_MAX.rawValue)
        }
    }
}

public struct MemoryPermissions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let read = MemoryPermissions(rawValue: UC_PROT_READ.rawValue)
    public static let write = MemoryPermissions(rawValue: UC_PROT_WRITE.rawValue)
    public static let execute = MemoryPermissions(rawValue: UC_PROT_EXEC.rawValue)
    public static let all: MemoryPermissions = [.read, .write, .execute]
}

/// Why `Machine.start` returned.
public enum StopReason: Equatable, Sendable {
    /// PC reached the `until` address.
    case reachedUntil
    /// The instruction count given to `start` was executed.
    case countExhausted
    /// The wall-clock limit passed.
    case timedOut
    /// `stop()` was called (by a hook, usually).
    case stopped
}

/// One AArch64 Unicorn engine: memory, registers, hooks and runs. Not thread-safe; a run owns
/// its machine. Every quirk of Unicorn 2.0.1 that the harness depends on is handled here
/// (see the README of `shared/docs/unicorn-2.0.1.md` and this module's tests):
/// - SCR_EL3.RW (and HCR_EL2.RW) are set at creation, or a guest that enables its MMU takes a
///   prefetch abort because the EL1 regime is treated as AArch32.
/// - CP_REG reads of PSTATE fields (CurrentEL, NZCV, ...) abort the process: refused here.
/// - Hooks are compiled into translated blocks: a hook added after a run flushes the TB cache.
/// - Memory checks use the virtual address: `reserveVirtualWindow` maps a placeholder region.
/// - Only the first hook of a kind is called per system instruction: one hook per kind.
public final class Machine {
    let uc: OpaquePointer
    public let model: CPUModel
    private var retained: [AnyObject] = []
    private var hasRun = false
    private var stopRequested = false
    private var systemHookKinds: Set<Int32> = []
    private var instructionsAtLastStart: UInt64 = 0

    /// SCR_EL3 value written at creation: RW (bit 10), RES1 bits 5:4, NS (bit 0) so EL1 is the
    /// Non-secure EL1 of a system with EL2 (Arm ARM D1.x, SCR_EL3.{NS,RW}).
    public static let scrEL3 = SystemRegisterAddress(op0: 3, op1: 6, crn: 1, crm: 1, op2: 0)
    public static let hcrEL2 = SystemRegisterAddress(op0: 3, op1: 4, crn: 1, crm: 1, op2: 0)
    public static let scrEL3Value: UInt64 = 0x431
    /// HCR_EL2.RW (bit 31): EL1 is AArch64.
    public static let hcrEL2Value: UInt64 = 1 << 31

    public init(model: CPUModel = .max) throws(UnicornError) {
        var engine: OpaquePointer?
        try check(uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &engine), "uc_open(ARM64)")
        uc = engine!
        self.model = model
        do {
            try check(mairlab_ctl_set_cpu_model(uc, model.raw), "uc_ctl(CPU_MODEL, \(model))")
            try writeSystemRegister(Self.scrEL3, Self.scrEL3Value)
            try writeSystemRegister(Self.hcrEL2, Self.hcrEL2Value)
        } catch {
            uc_close(uc)
            throw error
        }
    }

    deinit { uc_close(uc) }

    // MARK: memory

    public func map(_ base: UInt64, size: UInt64, permissions: MemoryPermissions = .all) throws(UnicornError) {
        try check(uc_mem_map(uc, base, Int(size), permissions.rawValue),
                  "uc_mem_map(0x\(String(base, radix: 16)), 0x\(String(size, radix: 16)))")
    }

    /// A region served by Swift callbacks (offset into the region, size in bytes[, value]).
    public func mapMMIO(_ base: UInt64, size: UInt64,
                        read: @escaping (_ offset: UInt64, _ size: Int) -> UInt64,
                        write: @escaping (_ offset: UInt64, _ size: Int, _ value: UInt64) -> Void) throws(UnicornError) {
        let box = MMIOBox(read: read, write: write)
        retained.append(box)
        let ctx = Unmanaged.passUnretained(box).toOpaque()
        try check(uc_mmio_map(uc, base, Int(size),
                              { _, offset, size, user in
                                  Unmanaged<MMIOBox>.fromOpaque(user!).takeUnretainedValue().read(offset, Int(size))
                              }, ctx,
                              { _, offset, size, value, user in
                                  Unmanaged<MMIOBox>.fromOpaque(user!).takeUnretainedValue().write(offset, Int(size), value)
                              }, ctx),
                  "uc_mmio_map(0x\(String(base, radix: 16)), 0x\(String(size, radix: 16)))")
    }

    /// Unicorn 2.0.1 checks an access's *virtual* address against its mapped regions before
    /// translating it, so a VA the guest's tables map elsewhere must also lie in some region.
    /// This maps a placeholder there; its contents are never used (the access reaches the PA).
    public func reserveVirtualWindow(_ base: UInt64, size: UInt64) throws(UnicornError) {
        try map(base, size: size)
    }

    /// Physical write (host view).
    public func write(_ bytes: [UInt8], at address: UInt64) throws(UnicornError) {
        try check(bytes.withUnsafeBytes { uc_mem_write(uc, address, $0.baseAddress, $0.count) },
                  "uc_mem_write(0x\(String(address, radix: 16)), \(bytes.count) bytes)")
    }

    /// Physical read (host view).
    public func read(_ count: Int, at address: UInt64) throws(UnicornError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        try check(buffer.withUnsafeMutableBytes { uc_mem_read(uc, address, $0.baseAddress, count) },
                  "uc_mem_read(0x\(String(address, radix: 16)), \(count) bytes)")
        return buffer
    }

    public func read64(at address: UInt64) throws(UnicornError) -> UInt64 {
        let b = try read(8, at: address)
        return b.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    public func read32(at address: UInt64) throws(UnicornError) -> UInt32 {
        let b = try read(4, at: address)
        return b.enumerated().reduce(0) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
    }

    // MARK: registers

    public func read(_ register: Register) throws(UnicornError) -> UInt64 {
        var value: UInt64 = 0
        try check(uc_reg_read(uc, register.id, &value), "uc_reg_read(\(register))")
        return value
    }

    public func write(_ register: Register, _ value: UInt64) throws(UnicornError) {
        var v = value
        try check(uc_reg_write(uc, register.id, &v), "uc_reg_write(\(register))")
    }

    /// Reads a system register by encoding through CP_REG. PSTATE fields are refused (reading
    /// CurrentEL or NZCV this way aborts Unicorn 2.0.1); use `Register.pstate`.
    public func readSystemRegister(_ address: SystemRegisterAddress) throws(UnicornError) -> UInt64 {
        guard !address.isPSTATEField else {
            throw UnicornError(code: Int(UC_ERR_ARG.rawValue),
                               context: "reading \(address) through CP_REG (a PSTATE field: read Register.pstate instead)")
        }
        var cp = uc_arm64_cp_reg(crn: UInt32(address.crn), crm: UInt32(address.crm), op0: UInt32(address.op0),
                                 op1: UInt32(address.op1), op2: UInt32(address.op2), val: 0)
        try check(uc_reg_read(uc, Int32(bitPattern: UC_ARM64_REG_CP_REG.rawValue), &cp), "uc_reg_read(CP_REG \(address))")
        return cp.val
    }

    /// Writes a system register by encoding through CP_REG. Note: Unicorn returns OK for an
    /// encoding it does not implement and does nothing.
    public func writeSystemRegister(_ address: SystemRegisterAddress, _ value: UInt64) throws(UnicornError) {
        guard !address.isPSTATEField else {
            throw UnicornError(code: Int(UC_ERR_ARG.rawValue),
                               context: "writing \(address) through CP_REG (a PSTATE field: write Register.pstate instead)")
        }
        var cp = uc_arm64_cp_reg(crn: UInt32(address.crn), crm: UInt32(address.crm), op0: UInt32(address.op0),
                                 op1: UInt32(address.op1), op2: UInt32(address.op2), val: value)
        try check(uc_reg_write(uc, Int32(bitPattern: UC_ARM64_REG_CP_REG.rawValue), &cp), "uc_reg_write(CP_REG \(address))")
    }

    /// The current exception level, from PSTATE.EL (bits 3:2).
    public func currentEL() throws(UnicornError) -> Int {
        Int((try read(.pstate) >> 2) & 3)
    }

    /// Keeps an object a C hook refers to alive as long as the machine.
    func retain(_ object: AnyObject) { retained.append(object) }

    // MARK: hooks

    /// Hooks are compiled into translated blocks; one added after code ran would be ignored
    /// until the TB cache is flushed, so do that here (unicorn-2.0.1.md, "System-register hooks").
    private func afterHookAdded() throws(UnicornError) {
        if hasRun { try check(mairlab_ctl_flush_tb(uc), "uc_ctl(TB_FLUSH) after adding a hook") }
    }

    /// One hook per system-instruction kind: Unicorn calls only the first registered one.
    public func onSystemInstruction(_ kind: SystemInstruction.Kind,
                                    _ handler: @escaping (SystemInstruction) -> SystemInstructionAction) throws(UnicornError) {
        let insn: uc_arm64_insn = switch kind {
        case .msr: UC_ARM64_INS_MSR
        case .mrs: UC_ARM64_INS_MRS
        case .sys: UC_ARM64_INS_SYS
        }
        guard systemHookKinds.insert(Int32(insn.rawValue)).inserted else {
            throw UnicornError(code: Int(UC_ERR_HOOK_EXIST.rawValue),
                               context: "a second \(kind) hook (Unicorn would never call it)")
        }
        typealias H = (SystemInstruction) -> SystemInstructionAction
        let box = HookBox<(UInt32, UnsafePointer<uc_arm64_cp_reg>?) -> UInt32> { reg, cp in
            guard let cp = cp?.pointee else { return 0 }
            let event = SystemInstruction(
                kind: kind,
                address: SystemRegisterAddress(op0: UInt8(cp.op0), op1: UInt8(cp.op1), crn: UInt8(cp.crn),
                                               crm: UInt8(cp.crm), op2: UInt8(cp.op2)),
                rt: Register.generalIndex(ofUnicornId: reg) ?? 31,
                value: cp.val)
            return handler(event) == .skip ? 1 : 0
        }
        retained.append(box)
        var hh: uc_hook = 0
        try check(mairlab_hook_sys(uc, &hh, Int32(insn.rawValue), { _, reg, cp, user in
            let h: (UInt32, UnsafePointer<uc_arm64_cp_reg>?) -> UInt32 = unbox(user)
            return h(reg.rawValue, cp)
        }, Unmanaged.passUnretained(box).toOpaque()), "uc_hook_add(INSN \(kind))")
        try afterHookAdded()
    }

    /// Every exception the guest takes arrives here (Unicorn never enters a guest vector):
    /// intno 1 UNDEF (also HVC and trapped system instructions), 2 SVC, 3 prefetch abort,
    /// 4 data abort, 7 BRK, 13 SMC. ESR/FAR/ELR are not written.
    public func onInterrupt(_ handler: @escaping (_ intno: UInt32) -> Void) throws(UnicornError) {
        let box = HookBox<(UInt32) -> Void>(handler)
        retained.append(box)
        var hh: uc_hook = 0
        try check(mairlab_hook_intr(uc, &hh, { _, intno, user in
            let h: (UInt32) -> Void = unbox(user)
            h(intno)
        }, Unmanaged.passUnretained(box).toOpaque()), "uc_hook_add(INTR)")
        try afterHookAdded()
    }

    /// Every instruction in [begin, end] (by VA), before it executes.
    public func onCode(range: ClosedRange<UInt64>? = nil,
                       _ handler: @escaping (_ address: UInt64, _ size: UInt32) -> Void) throws(UnicornError) {
        try addCodeHook(type: Int32(UC_HOOK_CODE.rawValue), name: "CODE", range: range, handler)
    }

    /// Every translated block entered in [begin, end] (by VA).
    public func onBlock(range: ClosedRange<UInt64>? = nil,
                        _ handler: @escaping (_ address: UInt64, _ size: UInt32) -> Void) throws(UnicornError) {
        try addCodeHook(type: Int32(UC_HOOK_BLOCK.rawValue), name: "BLOCK", range: range, handler)
    }

    private func addCodeHook(type: Int32, name: String, range: ClosedRange<UInt64>?,
                             _ handler: @escaping (UInt64, UInt32) -> Void) throws(UnicornError) {
        let box = HookBox<(UInt64, UInt32) -> Void>(handler)
        retained.append(box)
        var hh: uc_hook = 0
        try check(mairlab_hook_code(uc, &hh, type, { _, address, size, user in
            let h: (UInt64, UInt32) -> Void = unbox(user)
            h(address, size)
        }, Unmanaged.passUnretained(box).toOpaque(), range?.lowerBound ?? 1, range?.upperBound ?? 0),
                  "uc_hook_add(\(name))")
        try afterHookAdded()
    }

    /// Valid reads and/or writes whose **virtual** address is in `range`.
    public func onMemoryAccess(_ kinds: Set<MemoryAccess.Kind>, range: ClosedRange<UInt64>,
                               _ handler: @escaping (MemoryAccess) -> Void) throws(UnicornError) {
        var type: UInt32 = 0
        if kinds.contains(.read) { type |= UC_HOOK_MEM_READ.rawValue }
        if kinds.contains(.write) { type |= UC_HOOK_MEM_WRITE.rawValue }
        if kinds.contains(.fetch) { type |= UC_HOOK_MEM_FETCH.rawValue }
        let box = HookBox<(MemoryAccess) -> Void>(handler)
        retained.append(box)
        var hh: uc_hook = 0
        try check(mairlab_hook_mem(uc, &hh, Int32(type), { _, type, address, size, value, user in
            guard let kind = MemoryAccess.Kind(type) else { return }
            let h: (MemoryAccess) -> Void = unbox(user)
            h(MemoryAccess(kind: kind, virtualAddress: address, size: Int(size), value: UInt64(bitPattern: value)))
        }, Unmanaged.passUnretained(box).toOpaque(), range.lowerBound, range.upperBound),
                  "uc_hook_add(MEM)")
        try afterHookAdded()
    }

    /// Unmapped or protection-failing accesses. The handler's result is Unicorn's "retry" flag;
    /// the harness returns false and records the event, so the run ends with an error.
    public func onInvalidMemory(_ handler: @escaping (InvalidMemoryAccess) -> Bool) throws(UnicornError) {
        let box = HookBox<(InvalidMemoryAccess) -> Bool>(handler)
        retained.append(box)
        var hh: uc_hook = 0
        let type = Int32([UC_HOOK_MEM_READ_UNMAPPED, UC_HOOK_MEM_WRITE_UNMAPPED, UC_HOOK_MEM_FETCH_UNMAPPED,
                          UC_HOOK_MEM_READ_PROT, UC_HOOK_MEM_WRITE_PROT, UC_HOOK_MEM_FETCH_PROT]
            .reduce(0) { $0 | $1.rawValue })
        try check(mairlab_hook_mem_event(uc, &hh, type, { _, type, address, size, value, user in
            guard let kind = InvalidMemoryAccess.Kind(type) else { return false }
            let h: (InvalidMemoryAccess) -> Bool = unbox(user)
            return h(InvalidMemoryAccess(kind: kind, virtualAddress: address, size: Int(size),
                                         value: UInt64(bitPattern: value)))
        }, Unmanaged.passUnretained(box).toOpaque()), "uc_hook_add(MEM_INVALID)")
        try afterHookAdded()
    }

    // MARK: running

    /// Runs from `begin` until PC reaches `until`, `count` instructions have run (0: no
    /// limit), `timeout` passes (nil: none), or `stop()` is called. `count` and `until` stop
    /// exactly; the timeout is a safety net and never deterministic. Beware: 2.0.1 implements
    /// the timeout with a timer thread, and with several engines running at once it was seen
    /// to end runs early; the harness passes none and keeps its own net.
    @discardableResult
    public func start(at begin: UInt64, until: UInt64, count: Int = 0,
                      timeout: Duration? = nil) throws(UnicornError) -> StopReason {
        hasRun = true
        stopRequested = false
        let micros: UInt64 = timeout.map { d in
            let (s, atto) = d.components
            return UInt64(max(0, s)) * 1_000_000 + UInt64(max(0, atto)) / 1_000_000_000_000
        } ?? 0
        let clock = ContinuousClock()
        let started = clock.now
        try check(uc_emu_start(uc, begin, until, micros, count),
                  "uc_emu_start(0x\(String(begin, radix: 16)))")
        let pc = try read(.pc)
        if stopRequested { return .stopped }
        if pc == until { return .reachedUntil }
        if let timeout, clock.now - started >= timeout { return .timedOut }
        return .countExhausted
    }

    /// Where QEMU keeps the syndrome of the exception being taken in a context blob (found once
    /// per process: shim.h, `mairlab_calibrate_syndrome_offset`); nil when it was not found.
    private static let syndromeOffset: Int? = {
        let offset = mairlab_calibrate_syndrome_offset()
        return offset < 0 ? nil : offset
    }()

    /// The syndrome (ESR) and fault address (FAR) QEMU computed for the exception Unicorn is
    /// reporting in the interrupt hook; nil when they cannot be read.
    public func exceptionSyndrome() -> (syndrome: UInt32, faultAddress: UInt64)? {
        guard let offset = Self.syndromeOffset else { return nil }
        var syndrome: UInt32 = 0, address: UInt64 = 0
        guard mairlab_exception_info(uc, offset, &syndrome, &address) != 0 else { return nil }
        return (syndrome, address)
    }

    /// Asks the running emulation to stop. Unicorn honours it at the next block boundary, not
    /// at once: callers that need an exact end must also stop counting themselves.
    public func stop() {
        stopRequested = true
        uc_emu_stop(uc)
    }
}
