import CUnicorn

/// The hooks that run on every block, every data access and every system instruction, in C
/// (shim.h): instructions counted per block, the budget and the next event enforced by refusing
/// a block before it runs, the last data access remembered, the generic timer answered, and
/// system instructions handed to Swift only when their encoding is in a filter. No Swift runs
/// on the per-instruction path.
public final class FastPath {
    let state: UnsafeMutablePointer<mairlab_fast>
    private let box: HookBox<(SystemInstruction) -> SystemInstructionAction>
    private var misalignedBox: HookBox<(MemoryAccess, UInt64) -> Void>?
    private var enteredBox: HookBox<(UInt64) -> Void>?

    public enum Filter { case msr, mrs, sys }

    init(handler: @escaping (SystemInstruction) -> SystemInstructionAction) {
        state = .allocate(capacity: 1)
        state.initialize(to: mairlab_fast())
        box = HookBox(handler)
        state.pointee.budget = UInt64.max
        state.pointee.next_event = UInt64.max
        mairlab_refresh_limit(state)
        state.pointee.context = Unmanaged.passUnretained(box).toOpaque()
        state.pointee.sysreg = { context, kind, encoding, reg, value in
            let handler: (SystemInstruction) -> SystemInstructionAction = unbox(context)
            let event = SystemInstruction(
                kind: kind == 0 ? .msr : kind == 1 ? .mrs : .sys,
                address: SystemRegisterAddress(encoding: encoding),
                rt: Register.generalIndex(ofUnicornId: reg) ?? 31, value: value)
            return handler(event) == .skip ? 1 : 0
        }
    }

    deinit { state.deallocate() }

    /// Instructions begun so far (see `correct(at:begun:)` for blocks left early).
    public var instructions: UInt64 {
        get { state.pointee.count }
        set { state.pointee.count = newValue }
    }

    public var budget: UInt64 {
        get { state.pointee.budget }
        set {
            state.pointee.budget = newValue
            mairlab_refresh_limit(state)
        }
    }

    /// A block entered at or past this count is refused (the run stops with `.event`).
    public var nextEvent: UInt64 {
        get { state.pointee.next_event }
        set { state.pointee.next_event = newValue }
    }

    /// Why the last stop came from a block hook.
    public enum Stop: Sendable, Equatable { case none, budget, deadline, event, pcAlignment(UInt64) }

    public var stop: Stop {
        switch Int(state.pointee.stop_reason) {
        case MAIRLAB_STOP_BUDGET: .budget
        case MAIRLAB_STOP_DEADLINE: .deadline
        case MAIRLAB_STOP_EVENT: .event
        case MAIRLAB_STOP_PC_ALIGNMENT: .pcAlignment(state.pointee.misaligned_pc)
        default: .none
        }
    }

    public func clearStop() { state.pointee.stop_reason = 0 }

    /// Stop counting (the run has ended; the guest may re-execute its last instruction).
    public func end() {
        state.pointee.ended = 1
        mairlab_refresh_limit(state)
    }

    public var isEnded: Bool { state.pointee.ended != 0 }

    /// Hands every data access not aligned to its size to `handler` with its exact PC, while it
    /// is still to be performed (a handler that ends the run stops the guest there).
    public func onMisalignedAccess(_ handler: @escaping (MemoryAccess, UInt64) -> Void) {
        let box = HookBox(handler)
        misalignedBox = box
        state.pointee.misaligned_context = Unmanaged.passUnretained(box).toOpaque()
        state.pointee.misaligned = { context, va, size, write, pc in
            let handler: (MemoryAccess, UInt64) -> Void = unbox(context)
            handler(MemoryAccess(kind: write != 0 ? .write : .read, virtualAddress: va, size: Int(size), value: 0), pc)
        }
    }

    /// `handler` runs at the start of the next block after `entryPending` was set (with its
    /// address), before any of its instructions: where an exception entry lands.
    public func onEntryBlock(_ handler: @escaping (UInt64) -> Void) {
        let box = HookBox(handler)
        enteredBox = box
        state.pointee.entered_context = Unmanaged.passUnretained(box).toOpaque()
        state.pointee.entered = { context, address in
            let handler: (UInt64) -> Void = unbox(context)
            handler(address)
        }
    }

    /// The guest has written VBAR_EL1 (before that its vectors are UNKNOWN).
    public var vectorsInstalled: Bool { state.pointee.vectors_installed != 0 }

    public var entryPending: Bool {
        get { state.pointee.entry_pending != 0 }
        set {
            state.pointee.entry_pending = newValue ? 1 : 0
            mairlab_refresh_limit(state)
        }
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    public static func monotonicNanoseconds() -> UInt64 { mairlab_now_ns() }

    /// Whether the wall-clock limit has passed (for work the harness does between blocks).
    public var deadlinePassed: Bool {
        state.pointee.deadline_ns != 0 && mairlab_now_ns() > state.pointee.deadline_ns
    }

    /// A wall-clock limit, checked every 64 Ki instructions (CLOCK_MONOTONIC nanoseconds; 0: none).
    public func setDeadline(afterNanoseconds delay: UInt64) {
        state.pointee.deadline_ns = delay == 0 ? 0 : mairlab_now_ns() &+ delay
        state.pointee.clock_check_at = state.pointee.count &+ UInt64(MAIRLAB_CLOCK_INSNS)
        mairlab_refresh_limit(state)
    }

    /// The block being run was left at `pc`: the instructions after it did not run; `begun`
    /// counts the one at `pc` (it faulted or trapped there).
    public func correct(at pc: UInt64, begun: Bool) { mairlab_correct(state, pc, begun ? 1 : 0) }

    /// Instructions begun up to `pc` inside the current block.
    public func instructions(at pc: UInt64) -> UInt64 { mairlab_count_at(state, pc) }

    /// The current block's first address and length in instructions (0: none).
    public var block: (start: UInt64, instructions: UInt64) { (state.pointee.block_start, state.pointee.block_insns) }

    /// The last data access the memory hook saw.
    public var lastAccess: MemoryAccess? {
        guard state.pointee.access_seq > 0 else { return nil }
        return MemoryAccess(kind: state.pointee.access_write != 0 ? .write : .read, virtualAddress: state.pointee.access_va,
                            size: Int(state.pointee.access_size), value: state.pointee.access_value)
    }

    /// How many data accesses the memory hook has seen (changes with each one).
    public var accessSequence: UInt64 { state.pointee.access_seq }

    /// Changes on every write of SCTLR/TCR/TTBR0/TTBR1/MAIR_EL1 and every TLBI.
    public var translationGeneration: UInt64 { state.pointee.translation_generation }

    /// The VM registers (by `mairlab_vm_register_index`) the guest has written.
    public var writtenVMRegisters: UInt32 { state.pointee.written_vm_registers }

    /// Answers CNTFRQ_EL0 with `frequency` and CNTVCT_EL0/CNTPCT_EL0 with instructions begun
    /// plus `offset` (0: the guest's own timer reads run natively).
    public func virtualTimer(frequency: UInt64, offset: Int64 = 0) {
        state.pointee.timer_frequency = frequency
        state.pointee.timer_offset = offset
    }

    public var timerReads: UInt64 { state.pointee.timer_reads }

    /// What the C side adds to the instruction count for CNTVCT/CNTPCT.
    public var timerOffset: Int64 { state.pointee.timer_offset }

    /// Trapped writes of the VM registers in `registers` (bit n: `mairlab_vm_register_index` n)
    /// taken in C (mairlab_trivial_write); a MAIR_EL1 write is rewritten by `mairTable` byte by
    /// byte (over the indices up to the highest non-zero byte only with `definedIndicesOnly`).
    /// 0: every trapped write goes to the Swift handler.
    public func takeTrivialWrites(registers: UInt32, mairTable: [UInt8], definedIndicesOnly: Bool) {
        precondition(registers == 0 || mairTable.count == 256)
        if registers != 0 {
            withUnsafeMutableBytes(of: &state.pointee.trivial.table) { $0.copyBytes(from: mairTable) }
        }
        state.pointee.trivial.scope_defined = definedIndicesOnly ? 1 : 0
        state.pointee.trivial.registers = registers
    }

    /// One run of equal trapped writes taken in C.
    public struct TrivialWrites: Sendable, Equatable {
        /// The register, by `mairlab_vm_register_index`.
        public let vmRegister: Int
        public let value, loaded, pc: UInt64
        public let count: Int
    }

    /// The writes taken in C since the last call, in order, and the host time spent on them;
    /// both are reset.
    public func drainTrivialWrites() -> (runs: [TrivialWrites], hostNanoseconds: UInt64) {
        let count = Int(state.pointee.trivial.run_count)
        guard count > 0 else { return ([], 0) }
        let runs = withUnsafeBytes(of: &state.pointee.trivial.runs) { raw in
            raw.bindMemory(to: mairlab_trivial_run.self).prefix(count).map {
                TrivialWrites(vmRegister: Int($0.vm_register), value: $0.value, loaded: $0.loaded, pc: $0.pc, count: Int($0.count))
            }
        }
        let time = mairlab_ticks_ns(state, state.pointee.trivial.host_ticks)
        state.pointee.trivial.run_count = 0
        state.pointee.trivial.host_ticks = 0
        return (runs, time)
    }

    /// What the C side loads for a guest MAIR_EL1 write of `value` under `table` (for tests
    /// that hold it to `MAIRRewrite`).
    public static func loadedMAIR(_ value: UInt64, table: [UInt8], definedIndicesOnly: Bool) -> UInt64 {
        var trivial = mairlab_trivial()
        withUnsafeMutableBytes(of: &trivial.table) { $0.copyBytes(from: table) }
        trivial.scope_defined = definedIndicesOnly ? 1 : 0
        return mairlab_mair_loaded(&trivial, value)
    }

    /// System instructions handed to Swift.
    public var forwarded: UInt64 { state.pointee.forwarded }

    /// Hands accesses of `address` to the handler (true) or lets them run natively (false).
    public func filter(_ kind: Filter, _ address: SystemRegisterAddress, _ on: Bool) {
        let code: Int32 = switch kind {
        case .msr: 0
        case .mrs: 1
        case .sys: 2
        }
        mairlab_filter(state, code, address.packed, on ? 1 : 0)
    }

    /// SYS instructions (op0 = 1) executed so far, by encoding, trapped or not.
    public var systemInstructionCounts: [(SystemRegisterAddress, UInt64)] {
        (0..<UInt32(16384)).compactMap { index in
            let count = mairlab_sys_count(state, index)
            return count == 0 ? nil : (SystemRegisterAddress(encoding: 1 << 14 | index), UInt64(count))
        }
    }
}

extension SystemRegisterAddress {
    /// op0:op1:CRn:CRm:op2 in 16 bits, as the C filters index them.
    init(encoding e: UInt32) {
        self.init(op0: UInt8(e >> 14 & 3), op1: UInt8(e >> 11 & 7), crn: UInt8(e >> 7 & 15), crm: UInt8(e >> 3 & 15),
                  op2: UInt8(e & 7))
    }

    var packed: UInt32 {
        UInt32(op0 & 3) << 14 | UInt32(op1 & 7) << 11 | UInt32(crn & 15) << 7 | UInt32(crm & 15) << 3 | UInt32(op2 & 7)
    }
}

extension Machine {
    /// Installs the fast path (once, before the first run). `handler` sees the system
    /// instructions whose encodings are filtered in.
    public func installFastPath(_ handler: @escaping (SystemInstruction) -> SystemInstructionAction) throws(UnicornError) -> FastPath {
        let fast = FastPath(handler: handler)
        retain(fast)
        try check(mairlab_install_fast(uc, fast.state), "installing the fast-path hooks")
        return fast
    }

    /// Drops translated code in [begin, end) so that a run can stop exactly at `end`.
    public func removeTranslations(_ begin: UInt64, _ end: UInt64) throws(UnicornError) {
        try check(mairlab_ctl_remove_cache(uc, begin, end), "uc_ctl(TB_REMOVE_CACHE)")
    }
}
