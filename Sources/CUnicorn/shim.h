// The harness's hooks in C (the fast path); the wrappers Swift calls libunicorn through are in
// wrappers.h.
#ifndef MAIRLAB_CUNICORN_SHIM_H
#define MAIRLAB_CUNICORN_SHIM_H

#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>
#include <unicorn/arm64.h>
#include "wrappers.h"

// ---------------------------------------------------------------------------------------------
// The per-instruction and per-access path, kept in C: no Swift runs for a guest instruction, a
// plain memory access, or a system instruction nobody asked to see.
//
// Instructions begun are counted per translated block (its size / 4 on entry), corrected when
// a block is left early (mairlab_correct); a block that would run past the budget or the next
// event is refused before it runs (a stop in a block hook happens before the block's first
// instruction). System-register accesses are filtered by encoding (op0:op1:CRn:CRm:op2, 16 bits)
// against bitmaps the Swift side sets, and the generic timer is answered here.

enum { MAIRLAB_STOP_NONE = 0, MAIRLAB_STOP_BUDGET = 1, MAIRLAB_STOP_DEADLINE = 2, MAIRLAB_STOP_EVENT = 3,
       MAIRLAB_STOP_PC_ALIGNMENT = 4 };

typedef uint32_t (*mairlab_sysreg_cb)(void *context, uint32_t kind, uint32_t encoding, uint32_t rt, uint64_t value);
// The first block of an exception entry the harness asked QEMU to make (see mairlab_fast.entered).
typedef void (*mairlab_entered_cb)(void *context, uint64_t address);
// A data access not aligned to its size, with the exact PC (rare: only these reach Swift).
typedef void (*mairlab_misaligned_cb)(void *context, uint64_t va, uint32_t size, uint32_t write, uint64_t pc);

// Equal trapped writes in a row (same register, value, result and PC), kept once with a count.
typedef struct mairlab_trivial_run {
    uint64_t value, loaded, pc, count;
    uint32_t vm_register;      // mairlab_vm_register_index
} mairlab_trivial_run;

enum { MAIRLAB_TRIVIAL_RUNS = 1024 };

// Trapped writes of VM registers whose handling depends on nothing but the value: HCR_EL2.TVM
// stays set after them (so not SCTLR_EL1, whose write may turn the caches on), nothing is
// scanned (the `used` rewrite scope reads the guest's tables on MAIR/TCR/TTBR writes), and a
// MAIR_EL1 rewrite is a per-byte table over all indices, or over indices up to the highest
// non-zero byte. The hypervisor loads the value (rewritten for MAIR_EL1) and records the trap.
// The Swift side sets `registers` only then, and takes the runs (in order) before it handles
// any other trap or reads its log.
typedef struct mairlab_trivial {
    uint32_t registers;        // bit n: VM register n (mairlab_vm_register_index) is taken here
    uint32_t scope_defined;    // MAIR_EL1: rewrite only indices up to the highest non-zero byte
    uint8_t table[256];        // MAIR_EL1: rewrite of one attribute byte (the identity: none)
    uint64_t host_ticks;       // mairlab_ticks spent in mairlab_trivial_write
    uint32_t run_count;
    mairlab_trivial_run runs[MAIRLAB_TRIVIAL_RUNS];
} mairlab_trivial;

typedef struct mairlab_fast {
    uint64_t count;            // instructions begun
    uint64_t budget;           // a block that would pass it is refused
    uint64_t next_event;       // a block entered at or past it is refused (timer events)
    uint64_t block_start;      // the block being run and its length in instructions
    uint64_t block_insns;
    uint32_t stop_reason;
    uint32_t ended;            // the run has ended: count nothing more
    uint64_t deadline_ns;      // CLOCK_MONOTONIC; 0: none
    uint64_t clock_check_at;   // the count at which the deadline is next looked at
    // A block runs without further checks while count + its length <= limit (and before the
    // next event): min(budget, clock_check_at), or 0 while the run has ended or an entry is
    // pending (mairlab_refresh_limit after any of those changes).
    uint64_t limit;
    // The last data access the memory hook saw (Unicorn reports aborts without a FAR).
    uint64_t access_va;
    uint64_t access_value;
    uint32_t access_size;
    uint32_t access_write;
    uint64_t access_seq;
    // Parts still expected of an unaligned load, which Unicorn reads as two aligned loads of
    // the same size, each announced to the memory hook again.
    uint32_t split_parts;
    uint64_t split_pc;
    // Bumped by every write of SCTLR/TCR/TTBR0/TTBR1/MAIR_EL1 and every TLBI: translations
    // cached by the Swift side are stale when it changes.
    uint64_t translation_generation;
    // Bit n set: the guest has written VM register n (mairlab_vm_register_index).
    uint32_t written_vm_registers;
    // The generic timer: CNTFRQ_EL0, and CNTVCT/CNTPCT = instructions begun + offset.
    uint64_t timer_frequency;
    int64_t timer_offset;
    uint64_t timer_reads;
    // mairlab_ticks and CLOCK_MONOTONIC when the fast path was installed (mairlab_ticks_ns).
    uint64_t origin_ticks, origin_ns;
    // The Swift side's handler for filtered accesses (kind 0 MSR, 1 MRS, 2 SYS).
    void *context;
    mairlab_sysreg_cb sysreg;
    uint64_t forwarded;        // accesses handed to Swift
    void *misaligned_context;
    mairlab_misaligned_cb misaligned;
    uint64_t misaligned_pc;    // a block entered at a PC not a multiple of 4 (PC alignment)
    // Set by Swift when it has made QEMU take an exception entry: the next block is the
    // vector, and Swift finishes the entry there before any of its instructions run.
    uint32_t entry_pending;
    uint32_t vectors_installed;  // the guest has written VBAR_EL1
    void *entered_context;
    mairlab_entered_cb entered;
    // Trapped VM register writes taken here (mairlab_trivial_write) while the Swift side says
    // their handling depends on the value alone.
    mairlab_trivial trivial;
    uint8_t msr_filter[8192];
    uint8_t mrs_filter[8192];
    uint8_t sys_filter[8192];
    uint32_t sys_counts[16384];  // SYS instructions executed, by op1:CRn:CRm:op2 (op0 = 1)
} mairlab_fast;

static inline uint32_t mairlab_encoding(const uc_arm64_cp_reg *cp) {
    return (uint32_t)((cp->op0 & 3) << 14 | (cp->op1 & 7) << 11 | (cp->crn & 15) << 7 | (cp->crm & 15) << 3 | (cp->op2 & 7));
}

static inline int mairlab_filtered(const uint8_t *filter, uint32_t encoding) {
    return (filter[encoding >> 3] >> (encoding & 7)) & 1;
}

static inline void mairlab_filter_set(uint8_t *filter, uint32_t encoding, int on) {
    if (on) filter[encoding >> 3] |= (uint8_t)(1u << (encoding & 7));
    else filter[encoding >> 3] &= (uint8_t)~(1u << (encoding & 7));
}

// kind 0 MSR, 1 MRS, 2 SYS.
static inline void mairlab_filter(mairlab_fast *f, int kind, uint32_t encoding, int on) {
    mairlab_filter_set(kind == 0 ? f->msr_filter : kind == 1 ? f->mrs_filter : f->sys_filter, encoding & 0xFFFF, on);
}

static inline uint32_t mairlab_sys_count(const mairlab_fast *f, uint32_t index) { return f->sys_counts[index & 0x3FFF]; }

// The VM registers HCR_EL2.TVM covers, by encoding, as bit indices of written_vm_registers;
// -1 for any other. The first five also change translations.
static inline int mairlab_vm_register_index(uint32_t e) {
    switch (e) {
    case (3u << 14 | 0 << 11 | 1 << 7 | 0 << 3 | 0): return 0;   // SCTLR_EL1
    case (3u << 14 | 0 << 11 | 2 << 7 | 0 << 3 | 0): return 1;   // TTBR0_EL1
    case (3u << 14 | 0 << 11 | 2 << 7 | 0 << 3 | 1): return 2;   // TTBR1_EL1
    case (3u << 14 | 0 << 11 | 2 << 7 | 0 << 3 | 2): return 3;   // TCR_EL1
    case (3u << 14 | 0 << 11 | 10 << 7 | 2 << 3 | 0): return 4;  // MAIR_EL1
    case (3u << 14 | 0 << 11 | 5 << 7 | 1 << 3 | 0): return 5;   // AFSR0_EL1
    case (3u << 14 | 0 << 11 | 5 << 7 | 1 << 3 | 1): return 6;   // AFSR1_EL1
    case (3u << 14 | 0 << 11 | 5 << 7 | 2 << 3 | 0): return 7;   // ESR_EL1
    case (3u << 14 | 0 << 11 | 6 << 7 | 0 << 3 | 0): return 8;   // FAR_EL1
    case (3u << 14 | 0 << 11 | 10 << 7 | 3 << 3 | 0): return 9;  // AMAIR_EL1
    case (3u << 14 | 0 << 11 | 13 << 7 | 0 << 3 | 1): return 10; // CONTEXTIDR_EL1
    default: return -1;
    }
}

static inline uint64_t mairlab_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// A constant-rate counter cheaper to read than CLOCK_MONOTONIC, for timing the trivial traps
// (two reads each, where a clock read pair would be a third of the handling): the TSC on
// x86-64, CNTVCT_EL0 on AArch64 hosts, else the clock itself. Converted to nanoseconds against
// CLOCK_MONOTONIC over the span since the fast path was installed.
static inline uint64_t mairlab_ticks(void) {
#if defined(__x86_64__)
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
#elif defined(__aarch64__)
    uint64_t value;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(value));
    return value;
#else
    return mairlab_now_ns();
#endif
}

enum { MAIRLAB_CLOCK_INSNS = 1 << 16 };   // instructions between two looks at the deadline

static inline void mairlab_refresh_limit(mairlab_fast *f) {
    uint64_t limit = f->budget;
    if (f->deadline_ns && f->clock_check_at < limit) limit = f->clock_check_at;
    f->limit = f->ended || f->entry_pending ? 0 : limit;
}

// Everything but the common case of mairlab_block_cb (kept out of line so that the common
// case is a leaf function that saves no registers: it runs once per translated block).
static __attribute__((noinline)) void mairlab_block_slow(uc_engine *uc, uint64_t address, uint32_t size, mairlab_fast *f) {
    // A stop asked from an exception hook is only honoured at a block boundary: make sure the
    // next block after the end never runs.
    if (f->ended) { f->block_insns = 0; uc_emu_stop(uc); return; }
    if (f->entry_pending) {
        f->entry_pending = 0;
        mairlab_refresh_limit(f);
        if (f->entered) f->entered(f->entered_context, address);
    }
    // Unicorn decodes at any PC (unicorn-exceptions.md Q5); the architecture takes a PC
    // alignment fault on the fetch (Arm ARM D1.x, PC alignment checking): refuse the block.
    if (address & 3) { f->stop_reason = MAIRLAB_STOP_PC_ALIGNMENT; f->misaligned_pc = address; f->block_insns = 0; uc_emu_stop(uc); return; }
    uint64_t insns = size / 4;
    if (f->count + insns > f->budget) { f->stop_reason = MAIRLAB_STOP_BUDGET; f->block_insns = 0; uc_emu_stop(uc); return; }
    if (f->count >= f->next_event) { f->stop_reason = MAIRLAB_STOP_EVENT; f->block_insns = 0; uc_emu_stop(uc); return; }
    if (f->deadline_ns && f->count + insns > f->clock_check_at) {
        f->clock_check_at = f->count + MAIRLAB_CLOCK_INSNS;
        mairlab_refresh_limit(f);
        if (mairlab_now_ns() > f->deadline_ns) { f->stop_reason = MAIRLAB_STOP_DEADLINE; f->block_insns = 0; uc_emu_stop(uc); return; }
    }
    f->block_start = address;
    f->block_insns = insns;
    f->count += insns;
}

static void mairlab_block_cb(uc_engine *uc, uint64_t address, uint32_t size, void *user) {
    mairlab_fast *f = (mairlab_fast *)user;
    uint64_t insns = size / 4;
    // The common case: an aligned PC, within the limit (nothing pending, inside the budget, not
    // yet time to look at the deadline) and before the next event.
    if (__builtin_expect((address & 3) == 0 && f->count + insns <= f->limit && f->count < f->next_event, 1)) {
        f->block_start = address;
        f->block_insns = insns;
        f->count += insns;
        return;
    }
    mairlab_block_slow(uc, address, size, f);
}

static void mairlab_mem_cb(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value, void *user) {
    mairlab_fast *f = (mairlab_fast *)user;
    int write = type == UC_MEM_WRITE;
    if (f->split_parts && !write && (uint32_t)size == f->access_size) {
        uint64_t aligned = f->access_va & ~(uint64_t)(size - 1), pc = 0;
        if (address == aligned || address == aligned + (uint64_t)size) {
            // A part has the unaligned load's own PC (read only in this rare case).
            uc_reg_read(uc, UC_ARM64_REG_PC, &pc);
            if (pc == f->split_pc) { f->split_parts--; return; }
        }
    }
    f->access_va = address;
    f->access_size = (uint32_t)size;
    f->access_value = (uint64_t)value;
    f->access_write = (uint32_t)write;
    f->split_parts = 0;
    f->access_seq++;
    if (size > 1 && (address & (uint64_t)(size - 1)) && !f->ended) {
        uint64_t pc = 0;
        uc_reg_read(uc, UC_ARM64_REG_PC, &pc);
        if (!write) { f->split_parts = 2; f->split_pc = pc; }
        // Whether it faults depends on the memory type and SCTLR_EL1.A: Swift decides.
        if (f->misaligned) f->misaligned(f->misaligned_context, address, (uint32_t)size, (uint32_t)write, pc);
    }
}

// Instructions begun up to PC inside the current block (for the timer, and for corrections).
static inline uint64_t mairlab_count_at(const mairlab_fast *f, uint64_t pc) {
    if (f->block_insns && pc >= f->block_start && pc < f->block_start + 4 * f->block_insns)
        return f->count - f->block_insns + (pc - f->block_start) / 4;
    return f->count;
}

// A block left early at `pc` (an exception taken, a stop from a hook): instructions after `pc`
// did not run. `begun` is 1 when the instruction at pc counts as begun (it faulted or trapped
// there), 0 when pc is already past the last instruction run (SVC, SMC report that).
static inline void mairlab_correct(mairlab_fast *f, uint64_t pc, int begun) {
    if (f->block_insns && pc >= f->block_start && pc < f->block_start + 4 * f->block_insns) {
        uint64_t ran = (pc - f->block_start) / 4 + (uint64_t)begun;
        f->count -= f->block_insns - ran;
    }
    f->block_insns = 0;
}

// The rewritten value of a guest MAIR_EL1 write under `t` (MAIRRewrite.loaded for the scopes
// `all` and `defined`).
static inline uint64_t mairlab_mair_loaded(const mairlab_trivial *t, uint64_t value) {
    // Every byte through the table; under the `used` scope only those up to the highest
    // non-zero one (the bytes above it are zero and stay so).
    int count = 8;
    if (t->scope_defined) { count = 0; for (uint64_t v = value; v; v >>= 8) count++; }
    uint64_t loaded = 0;
    for (int i = 0; i < count; i++) loaded |= (uint64_t)t->table[(value >> (8 * i)) & 0xFF] << (8 * i);
    return loaded;
}

// A trivial trapped write of VM register `vm`, handled without leaving C (an EL2 fast path of
// the harness's own): the host loads a rewritten MAIR_EL1 (the MSR is skipped), or lets the
// MSR load the guest's own value, and records the trap.
static uint32_t mairlab_trivial_write(uc_engine *uc, mairlab_fast *f, int vm, const uc_arm64_cp_reg *cp) {
    uint64_t start = mairlab_ticks(), pc = 0;
    mairlab_trivial *t = &f->trivial;
    uint64_t loaded = vm == 4 ? mairlab_mair_loaded(t, cp->val) : cp->val;
    uc_reg_read(uc, UC_ARM64_REG_PC, &pc);
    mairlab_trivial_run *last = t->run_count ? &t->runs[t->run_count - 1] : NULL;
    if (last && last->vm_register == (uint32_t)vm && last->value == cp->val && last->loaded == loaded && last->pc == pc) {
        last->count++;
    } else {
        t->runs[t->run_count++] = (mairlab_trivial_run){ cp->val, loaded, pc, 1, (uint32_t)vm };
    }
    // Only a MAIR_EL1 value is ever rewritten. Loaded through the named register: the same
    // field as the CP_REG path (MAIR_EL1 has no write function; at EL1 no E2H redirection
    // applies) without its register-table lookup.
    uint32_t skip = loaded != cp->val;
    if (skip) uc_reg_write(uc, UC_ARM64_REG_MAIR_EL1, &loaded);
    t->host_ticks += mairlab_ticks() - start;
    return skip;
}

static uint32_t mairlab_msr_cb(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user) {
    mairlab_fast *f = (mairlab_fast *)user;
    (void)uc;
    if (f->ended) return 0;
    uint32_t e = mairlab_encoding(cp);
    if (e == (3u << 14 | 12u << 7)) f->vectors_installed = 1;   // VBAR_EL1 (3,0,12,0,0)
    int vm = mairlab_vm_register_index(e);
    if (vm >= 0) {
        f->written_vm_registers |= 1u << vm;
        if (vm <= 4) f->translation_generation++;
    }
    if (!mairlab_filtered(f->msr_filter, e)) return 0;
    // With the runs full, Swift takes them before handling this one.
    if (vm >= 0 && (f->trivial.registers >> vm & 1) && f->trivial.run_count < MAIRLAB_TRIVIAL_RUNS)
        return mairlab_trivial_write(uc, f, vm, cp);
    f->forwarded++;
    return f->sysreg(f->context, 0, e, (uint32_t)reg, cp->val);
}

static inline int mairlab_x_index(uc_arm64_reg reg) {
    if (reg >= UC_ARM64_REG_X0 && reg <= UC_ARM64_REG_X28) return (int)(reg - UC_ARM64_REG_X0);
    if (reg == UC_ARM64_REG_X29) return 29;
    if (reg == UC_ARM64_REG_X30) return 30;
    return 31;
}

static uint32_t mairlab_mrs_cb(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user) {
    mairlab_fast *f = (mairlab_fast *)user;
    if (f->ended) return 0;
    uint32_t e = mairlab_encoding(cp);
    // CNTFRQ_EL0 (3,3,14,0,0), CNTPCT_EL0 (3,3,14,0,1), CNTVCT_EL0 (3,3,14,0,2): the timer
    // counts guest instructions, so a run is the same on every host.
    const uint32_t cntfrq = 3u << 14 | 3 << 11 | 14 << 7 | 0 << 3;
    if (f->timer_frequency && (e == cntfrq || e == (cntfrq | 1) || e == (cntfrq | 2))) {
        uint64_t value = f->timer_frequency;
        if (e != cntfrq) {
            uint64_t pc = 0;
            uc_reg_read(uc, UC_ARM64_REG_PC, &pc);
            value = (uint64_t)((int64_t)mairlab_count_at(f, pc) + f->timer_offset);
        }
        f->timer_reads++;
        if (mairlab_x_index(reg) != 31) uc_reg_write(uc, reg, &value);
        return 1;
    }
    if (!mairlab_filtered(f->mrs_filter, e)) return 0;
    f->forwarded++;
    return f->sysreg(f->context, 1, e, (uint32_t)reg, cp->val);
}

static uint32_t mairlab_sys_cb(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user) {
    mairlab_fast *f = (mairlab_fast *)user;
    (void)uc;
    if (f->ended) return 0;
    uint32_t e = mairlab_encoding(cp);
    if (cp->op0 == 1) f->sys_counts[e & 0x3FFF]++;
    if (cp->op0 == 1 && cp->crn == 8) f->translation_generation++;   // TLBI
    if (!mairlab_filtered(f->sys_filter, e)) return 0;
    f->forwarded++;
    return f->sysreg(f->context, 2, e, (uint32_t)reg, cp->val);
}

// `ticks` of mairlab_ticks in nanoseconds, at the rate measured since the fast path was installed.
static inline uint64_t mairlab_ticks_ns(const mairlab_fast *f, uint64_t ticks) {
    uint64_t span_ticks = mairlab_ticks() - f->origin_ticks, span_ns = mairlab_now_ns() - f->origin_ns;
    if (span_ticks == 0) return 0;
    return (uint64_t)((double)ticks * (double)span_ns / (double)span_ticks);
}

// Installs the block, memory and system-instruction hooks of the fast path (before the first
// run: hooks are compiled into translated blocks). The memory hook covers every address, which
// also keeps PC exact inside MMIO callbacks.
static inline uc_err mairlab_install_fast(uc_engine *uc, mairlab_fast *f) {
    uc_hook h;
    uc_err err;
    f->origin_ticks = mairlab_ticks();
    f->origin_ns = mairlab_now_ns();
    if ((err = uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)mairlab_block_cb, f, (uint64_t)1, (uint64_t)0))) return err;
    if ((err = uc_hook_add(uc, &h, UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, (void *)mairlab_mem_cb, f, (uint64_t)1, (uint64_t)0))) return err;
    if ((err = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)mairlab_msr_cb, f, (uint64_t)1, (uint64_t)0, UC_ARM64_INS_MSR))) return err;
    if ((err = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)mairlab_mrs_cb, f, (uint64_t)1, (uint64_t)0, UC_ARM64_INS_MRS))) return err;
    if ((err = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)mairlab_sys_cb, f, (uint64_t)1, (uint64_t)0, UC_ARM64_INS_SYS))) return err;
    return UC_ERR_OK;
}

#endif
