// Guest accesses to shared memory that no cache can hold, served in C (the per-access path of
// SharedMemory.plainAccess, without entering Swift). The Swift side hands C what it has proved
// for the current moment: which guest PCs resolve to which pages under which translation
// generation and written VM registers (`sites`), which lines are plain now (`valid`, with
// their latest bytes in `shadow`). C performs an access only when all of that holds, keeps the
// shadow up to date, and records the access; Swift replays the records into the coherency
// model, in order, first thing whenever it is entered, and then withdraws every line (a Swift
// event may change any line), re-validating lines one by one as its own plain accesses prove
// them again.
#ifndef MAIRLAB_CUNICORN_PLAIN_H
#define MAIRLAB_CUNICORN_PLAIN_H

#include <string.h>
#include <unicorn/unicorn.h>
#include <unicorn/arm64.h>
#include "shim.h"

enum { MAIRLAB_PLAIN_SITES = 256, MAIRLAB_PLAIN_RECORDS = 4096 };

typedef struct mairlab_plain_site {
    uint64_t pc, va_page, pa_page, generation;
    uint32_t written, used;
} mairlab_plain_site;

// One access C performed: what Swift replays into the model.
typedef struct mairlab_plain_record {
    uint64_t pc, pa, value, sequence;
    uint32_t size, write, slot;   // slot: the site's place in `sites`
} mairlab_plain_record;

typedef uint64_t (*mairlab_mmio_read_cb)(void *context, uint64_t offset, uint32_t size);
typedef void (*mairlab_mmio_write_cb)(void *context, uint64_t offset, uint32_t size, uint64_t value);

typedef struct mairlab_plain {
    uint32_t count;                          // records not yet replayed
    uint32_t line_epoch;                     // a line is valid while its mark equals this
    mairlab_plain_site sites[MAIRLAB_PLAIN_SITES];
    mairlab_plain_record records[MAIRLAB_PLAIN_RECORDS];
    // The access performed last, for its later MMIO callbacks (Unicorn splits an access into
    // callbacks of 4 bytes at most).
    uint64_t stash_sequence, stash_start;
    uint32_t stash_size, stash_write, stash_valid;
    uint8_t stash[8];
} mairlab_plain;

// One observed region: its shadow and line flags, and the Swift callbacks for what C does
// not serve.
typedef struct mairlab_plain_region {
    uint64_t base, size;
    mairlab_fast *fast;
    mairlab_plain *plain;
    uint8_t *shadow;      // size bytes: the latest bytes of the valid lines
    uint32_t *valid;      // one mark per 64-byte line: C may serve it while it equals line_epoch
    void *context;
    mairlab_mmio_read_cb read;
    mairlab_mmio_write_cb write;
} mairlab_plain_region;

static inline uint32_t mairlab_plain_slot(uint64_t pc) { return (uint32_t)((pc >> 2) * 0x9E3779B1u) % MAIRLAB_PLAIN_SITES; }

// Swift: `pc` resolves VA page `va_page` to PA page `pa_page` under the stamp given, by an
// access that bypasses the caches. Returns its slot, or -1 when the table is full (the PC
// stays with Swift).
static inline int mairlab_plain_add_site(mairlab_plain *p, uint64_t pc, uint64_t va_page, uint64_t pa_page,
                                         uint64_t generation, uint32_t written) {
    uint32_t slot = mairlab_plain_slot(pc);
    for (uint32_t i = 0; i < MAIRLAB_PLAIN_SITES; i++) {
        uint32_t at = (slot + i) % MAIRLAB_PLAIN_SITES;
        mairlab_plain_site *s = &p->sites[at];
        if (!s->used || s->pc == pc) {
            *s = (mairlab_plain_site){ pc, va_page, pa_page, generation, written, 1 };
            return (int)at;
        }
    }
    return -1;
}

static inline int mairlab_plain_find(const mairlab_plain *p, uint64_t pc) {
    uint32_t slot = mairlab_plain_slot(pc);
    for (uint32_t i = 0; i < MAIRLAB_PLAIN_SITES; i++) {
        uint32_t at = (slot + i) % MAIRLAB_PLAIN_SITES;
        const mairlab_plain_site *s = &p->sites[at];
        if (!s->used) return -1;
        if (s->pc == pc) return (int)at;
    }
    return -1;
}

// The first callback of a new access at `pa` (its first byte): performs it whole when every
// condition holds, and stashes it for its callbacks. 1 when performed.
static inline int mairlab_plain_begin(uc_engine *uc, mairlab_plain_region *r, uint64_t pa, uint32_t write) {
    mairlab_fast *f = r->fast;
    mairlab_plain *p = r->plain;
    uint64_t va = f->access_va, size = f->access_size, pc = 0;
    if (f->ended || f->access_write != write || (p->stash_valid && p->stash_sequence == f->access_seq)
        || p->count >= MAIRLAB_PLAIN_RECORDS || size == 0 || size > 8 || (va & 0xFFF) != (pa & 0xFFF)
        || (pa & 63) + size > 64 || pa < r->base || pa - r->base + size > r->size || r->valid[(pa - r->base) >> 6] != p->line_epoch)
        return 0;
    uc_reg_read(uc, UC_ARM64_REG_PC, &pc);
    int slot = mairlab_plain_find(p, pc);
    const mairlab_plain_site *s = slot < 0 ? NULL : &p->sites[slot];
    if (!s || s->generation != f->translation_generation || s->written != f->written_vm_registers
        || s->va_page != (va & ~(uint64_t)0xFFF) || s->pa_page != (pa & ~(uint64_t)0xFFF))
        return 0;
    uint8_t *bytes = r->shadow + (pa - r->base);
    if (write) {
        for (uint64_t i = 0; i < size; i++) bytes[i] = (uint8_t)(f->access_value >> (8 * i));
    } else {
        memcpy(p->stash, bytes, size);
    }
    p->records[p->count++] = (mairlab_plain_record){ pc, pa, write ? f->access_value : 0, f->access_seq, (uint32_t)size, write,
                                                     (uint32_t)slot };
    p->stash_sequence = f->access_seq;
    p->stash_start = pa;
    p->stash_size = (uint32_t)size;
    p->stash_write = write;
    p->stash_valid = 1;
    return 1;
}

// A callback of the stashed access: 1 (and the value of a read's bytes) when it is one.
static inline int mairlab_plain_stashed(const mairlab_plain_region *r, uint64_t pa, uint32_t size, uint32_t write,
                                        uint64_t *value) {
    const mairlab_plain *p = r->plain;
    if (!p->stash_valid || p->stash_sequence != r->fast->access_seq || p->stash_write != write || pa < p->stash_start
        || pa - p->stash_start + size > p->stash_size || size > 8)
        return 0;
    uint64_t v = 0;
    for (uint32_t i = 0; i < size && !write; i++) v |= (uint64_t)p->stash[pa - p->stash_start + i] << (8 * i);
    *value = v;
    return 1;
}

// Swift performed the access with hook sequence `sequence` itself: its later callbacks are
// served from here (without entering Swift again).
static inline void mairlab_plain_stash(mairlab_plain *p, uint64_t sequence, uint64_t start, uint32_t size, uint32_t write,
                                       const uint8_t *bytes) {
    if (size > 8) { p->stash_valid = 0; return; }
    p->stash_sequence = sequence;
    p->stash_start = start;
    p->stash_size = size;
    p->stash_write = write;
    if (!write) memcpy(p->stash, bytes, size);
    p->stash_valid = 1;
}

static uint64_t mairlab_plain_mmio_read(uc_engine *uc, uint64_t offset, unsigned size, void *user) {
    mairlab_plain_region *r = (mairlab_plain_region *)user;
    uint64_t pa = r->base + offset, value = 0;
    if (mairlab_plain_stashed(r, pa, size, 0, &value)) return value;
    if (mairlab_plain_begin(uc, r, pa, 0) && mairlab_plain_stashed(r, pa, size, 0, &value)) return value;
    return r->read(r->context, offset, size);
}

static void mairlab_plain_mmio_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user) {
    mairlab_plain_region *r = (mairlab_plain_region *)user;
    uint64_t pa = r->base + offset, ignored = 0;
    if (mairlab_plain_stashed(r, pa, size, 1, &ignored)) return;
    if (mairlab_plain_begin(uc, r, pa, 1) && mairlab_plain_stashed(r, pa, size, 1, &ignored)) return;
    r->write(r->context, offset, size, value);
}

// Swift: no line is valid any more (a Swift event may have changed any).
static inline void mairlab_plain_withdraw(mairlab_plain *p, mairlab_plain_region **regions, int count) {
    if (++p->line_epoch == 0) {   // wrapped: no old mark may match again
        for (int i = 0; i < count; i++) memset(regions[i]->valid, 0, (size_t)(regions[i]->size >> 6) * sizeof(uint32_t));
        p->line_epoch = 1;
    }
}

static inline uc_err mairlab_plain_map(uc_engine *uc, mairlab_plain_region *r) {
    return uc_mmio_map(uc, r->base, (size_t)r->size, mairlab_plain_mmio_read, r, mairlab_plain_mmio_write, r);
}

#endif
