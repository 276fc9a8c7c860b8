// Fixed-argument wrappers for libunicorn's variadic uc_hook_add and uc_ctl (Swift cannot
// call C variadics, and the uc_ctl_* helpers are macros). One wrapper per hook kind used.
#ifndef MAIRLAB_CUNICORN_WRAPPERS_H
#define MAIRLAB_CUNICORN_WRAPPERS_H

#include <unicorn/unicorn.h>
#include <unicorn/arm64.h>

// UC_HOOK_CODE / UC_HOOK_BLOCK over [begin, end] (begin > end means everywhere).
static inline uc_err mairlab_hook_code(uc_engine *uc, uc_hook *hh, int type,
                                       uc_cb_hookcode_t cb, void *user,
                                       uint64_t begin, uint64_t end) {
    return uc_hook_add(uc, hh, type, (void *)cb, user, begin, end);
}

static inline uc_err mairlab_hook_intr(uc_engine *uc, uc_hook *hh,
                                       uc_cb_hookintr_t cb, void *user) {
    return uc_hook_add(uc, hh, UC_HOOK_INTR, (void *)cb, user, (uint64_t)1, (uint64_t)0);
}

// UC_HOOK_MEM_READ / UC_HOOK_MEM_WRITE (valid accesses) over a VA range.
static inline uc_err mairlab_hook_mem(uc_engine *uc, uc_hook *hh, int type,
                                      uc_cb_hookmem_t cb, void *user,
                                      uint64_t begin, uint64_t end) {
    return uc_hook_add(uc, hh, type, (void *)cb, user, begin, end);
}

// UC_HOOK_MEM_*_UNMAPPED / _PROT: the callback may return true to retry the access.
static inline uc_err mairlab_hook_mem_event(uc_engine *uc, uc_hook *hh, int type,
                                            uc_cb_eventmem_t cb, void *user) {
    return uc_hook_add(uc, hh, type, (void *)cb, user, (uint64_t)1, (uint64_t)0);
}

// UC_HOOK_INSN for UC_ARM64_INS_MSR / MRS / SYS / SYSL.
static inline uc_err mairlab_hook_sys(uc_engine *uc, uc_hook *hh, int insn,
                                      uc_cb_insn_sys_t cb, void *user) {
    return uc_hook_add(uc, hh, UC_HOOK_INSN, (void *)cb, user, (uint64_t)1, (uint64_t)0, insn);
}

static inline uc_err mairlab_ctl_set_cpu_model(uc_engine *uc, int model) {
    return uc_ctl(uc, UC_CTL_WRITE(UC_CTL_CPU_MODEL, 1), model);
}

static inline uc_err mairlab_ctl_flush_tb(uc_engine *uc) {
    return uc_ctl(uc, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0));
}

static inline uc_err mairlab_ctl_remove_cache(uc_engine *uc, uint64_t begin, uint64_t end) {
    return uc_ctl(uc, UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2), begin, end);
}

#endif
