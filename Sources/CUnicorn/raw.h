// The benchmark's control: the same guest image run by Unicorn from C with nothing of the
// harness around it (no fast path, no model), optionally with the one hook a workload needs
// (a block hook, an MSR hook that does nothing, a C MMIO region backed by a buffer). The
// harness is measured against this, in the same process, on the same machine.
#ifndef MAIRLAB_CUNICORN_RAW_H
#define MAIRLAB_CUNICORN_RAW_H

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicorn/unicorn.h>
#include <unicorn/arm64.h>

typedef struct mairlab_raw_segment {
    uint64_t address;
    const void *bytes;
    uint64_t size;
} mairlab_raw_segment;

typedef struct mairlab_raw_spec {
    uint64_t ram_base, ram_size;
    const mairlab_raw_segment *segments;
    uint32_t segment_count;
    uint64_t entry, until;
    uint64_t stack_pointer;
    uint64_t mmio_base, mmio_size;   // size 0: none
    int hook_block;                  // count blocks (what any exact instruction count needs)
    int hook_msr;                    // an MSR hook that only counts (what any trap needs)
} mairlab_raw_spec;

typedef struct mairlab_raw_result {
    int error;                       // uc_err of the first failing call
    uint64_t setup_ns, run_ns;
    uint64_t blocks, msr_hooks, mmio_accesses;
    uint64_t pc;                     // where the run stopped
} mairlab_raw_result;

typedef struct mairlab_raw_state {
    mairlab_raw_result *result;
    uint8_t *mmio;
} mairlab_raw_state;

static inline uint64_t mairlab_raw_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void mairlab_raw_block(uc_engine *uc, uint64_t address, uint32_t size, void *user) {
    (void)uc; (void)address; (void)size;
    ((mairlab_raw_state *)user)->result->blocks++;
}

static uint32_t mairlab_raw_msr(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user) {
    (void)uc; (void)reg; (void)cp;
    ((mairlab_raw_state *)user)->result->msr_hooks++;
    return 0;
}

static uint64_t mairlab_raw_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user) {
    (void)uc;
    mairlab_raw_state *s = (mairlab_raw_state *)user;
    uint64_t value = 0;
    memcpy(&value, s->mmio + offset, size <= 8 ? size : 8);
    s->result->mmio_accesses++;
    return value;
}

static void mairlab_raw_mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user) {
    (void)uc;
    mairlab_raw_state *s = (mairlab_raw_state *)user;
    memcpy(s->mmio + offset, &value, size <= 8 ? size : 8);
    s->result->mmio_accesses++;
}

// Opens an engine as the harness does (CPU model max, SCR_EL3.RW and HCR_EL2.RW so the EL1
// regime is AArch64), maps and loads, and runs from entry to until.
static inline mairlab_raw_result mairlab_raw_run(const mairlab_raw_spec *spec) {
    mairlab_raw_result result = {0};
    mairlab_raw_state state = { &result, NULL };
    uint64_t t0 = mairlab_raw_now();
    uc_engine *uc = NULL;
    uc_err err = uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc);
    if (err) { result.error = (int)err; return result; }
    uc_hook h;
    uc_arm64_cp_reg scr = { 1, 1, 3, 6, 0, 0x431 };   // crn, crm, op0, op1, op2, val
    uc_arm64_cp_reg hcr = { 1, 1, 3, 4, 0, 1ull << 31 };
    if (!err) err = uc_ctl(uc, UC_CTL_WRITE(UC_CTL_CPU_MODEL, 1), (int)UC_CPU_ARM64_MAX);
    if (!err) err = uc_reg_write(uc, UC_ARM64_REG_CP_REG, &scr);
    if (!err) err = uc_reg_write(uc, UC_ARM64_REG_CP_REG, &hcr);
    if (!err) err = uc_mem_map(uc, spec->ram_base, spec->ram_size, UC_PROT_ALL);
    for (uint32_t i = 0; !err && i < spec->segment_count; i++)
        err = uc_mem_write(uc, spec->segments[i].address, spec->segments[i].bytes, spec->segments[i].size);
    if (!err && spec->mmio_size) {
        state.mmio = calloc(1, spec->mmio_size);
        err = uc_mmio_map(uc, spec->mmio_base, spec->mmio_size, mairlab_raw_mmio_read, &state, mairlab_raw_mmio_write, &state);
    }
    if (!err && spec->hook_block) err = uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)mairlab_raw_block, &state, (uint64_t)1, (uint64_t)0);
    if (!err && spec->hook_msr)
        err = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)mairlab_raw_msr, &state, (uint64_t)1, (uint64_t)0, UC_ARM64_INS_MSR);
    if (!err) err = uc_reg_write(uc, UC_ARM64_REG_SP, &spec->stack_pointer);
    uint64_t t1 = mairlab_raw_now();
    if (!err) err = uc_emu_start(uc, spec->entry, spec->until, 0, 0);
    uint64_t t2 = mairlab_raw_now();
    uc_reg_read(uc, UC_ARM64_REG_PC, &result.pc);
    uc_close(uc);
    free(state.mmio);
    result.error = (int)err;
    result.setup_ns = t1 - t0;
    result.run_ns = t2 - t1;
    return result;
}

#endif
