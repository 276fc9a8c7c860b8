// What Unicorn 2.0.1 does not tell about an exception it reports (see below).
#ifndef MAIRLAB_CUNICORN_EXCEPTION_H
#define MAIRLAB_CUNICORN_EXCEPTION_H

#include <string.h>
#include <unicorn/unicorn.h>
#include <unicorn/arm64.h>

// The syndrome and fault address QEMU computed for the exception Unicorn reports in its
// interrupt hook (env->exception.syndrome, then fsr, then vaddress: QEMU 5.0's CPUARMState),
// read from a uc_context blob. Unicorn 2.0.1 has no API for them; their offset is found once
// per process by taking a known SVC in a scratch engine (unicorn-exceptions.md Q3).

static void mairlab_calibrate_cb(uc_engine *uc, uint32_t intno, void *user) {
    long *offset = (long *)user;
    uc_context *context = NULL;
    (void)intno;
    if (uc_context_alloc(uc, &context) == UC_ERR_OK && uc_context_save(uc, context) == UC_ERR_OK) {
        const uint32_t want = 0x56005a5a;   // SVC #0x5a5a from AArch64: EC 0x15, IL 1, imm16
        const uint8_t *bytes = (const uint8_t *)context;
        size_t size = uc_context_size(uc);
        int found = 0;
        for (size_t o = 0; o + 16 <= size; o += 4) {
            if (memcmp(bytes + o, &want, 4) == 0) { if (!found) *offset = (long)o; found++; }
        }
        if (found != 1) *offset = -1;
    }
    if (context) uc_context_free(context);
    uc_emu_stop(uc);
}

// The blob offset of env->exception.syndrome, or -1 when it cannot be found unambiguously.
static inline long mairlab_calibrate_syndrome_offset(void) {
    uc_engine *uc = NULL;
    uc_hook hook;
    long offset = -1;
    const uint32_t svc = 0xD4000001u | (0x5a5au << 5);
    if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc) != UC_ERR_OK) return -1;
    if (uc_mem_map(uc, 0x10000, 0x1000, UC_PROT_ALL) == UC_ERR_OK
        && uc_mem_write(uc, 0x10000, &svc, 4) == UC_ERR_OK
        && uc_hook_add(uc, &hook, UC_HOOK_INTR, (void *)mairlab_calibrate_cb, &offset, (uint64_t)1, (uint64_t)0) == UC_ERR_OK) {
        uc_emu_start(uc, 0x10000, 0x10004, 0, 0);
    }
    uc_close(uc);
    return offset;
}

// The current exception's syndrome and fault address; 0 on failure.
static inline int mairlab_exception_info(uc_engine *uc, long offset, uint32_t *syndrome, uint64_t *vaddress) {
    uc_context *context = NULL;
    int ok = 0;
    if (offset < 0 || (size_t)offset + 16 > uc_context_size(uc)) return 0;
    if (uc_context_alloc(uc, &context) == UC_ERR_OK && uc_context_save(uc, context) == UC_ERR_OK) {
        const uint8_t *bytes = (const uint8_t *)context + offset;
        memcpy(syndrome, bytes, 4);
        memcpy(vaddress, bytes + 8, 8);
        ok = 1;
    }
    if (context) uc_context_free(context);
    return ok;
}

#endif
