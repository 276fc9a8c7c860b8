// The 2015 Linux/arm64 boot sequence in miniature: the moves of el2_setup (entered at EL1),
// __create_page_tables, __cpu_setup and __enable_mmu (arch/arm64/kernel/head.S and
// arch/arm64/mm/proc.S of v3.19/v4.0), then loads and stores through the new mapping.
// Under KVM every MSR below to a VM control register traps while HCR_EL2.TVM is set.
        .include "mairlab.inc"

        // MAIR_EL1 as Linux laid it out in 2015 (arch/arm64/include/asm/memory.h):
        // 0 Device-nGnRnE 0x00, 1 Device-nGnRE 0x04, 2 Device-GRE 0x0C, 3 Normal-NC 0x44,
        // 4 Normal 0xFF.
        .equ MT_DEVICE_nGnRnE, 0
        .equ MT_DEVICE_nGnRE,  1
        .equ MT_DEVICE_GRE,    2
        .equ MT_NORMAL_NC,     3
        .equ MT_NORMAL,        4
        .equ MAIR_2015, 0x000000FF440C0400

        // TCR_EL1 from __cpu_setup: TCR_TxSZ(39) | TCR_CACHE_FLAGS (IRGN/ORGN WBWA) |
        // TCR_SMP_FLAGS (SH inner) | TCR_TG_FLAGS (TG0 4K, TG1 4K) | TCR_ASID16 | TCR_TBI0.
        // IPS is filled in from ID_AA64MMFR0_EL1.PARange, as Linux did.
        .equ TCR_2015, (25 | (25 << 16) | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 24) | (1 << 26) | (3 << 28) | (2 << 30) | (1 << 36) | (1 << 37))

        .equ RAM_BASE, 0x40000000

        .text
        .globl _start
_start:
el2_setup:
        // EL1 path: little-endian at EL1 and EL0 (clear EE and E0E).
        mrs     x0, sctlr_el1
        bic     x0, x0, #(3 << 24)
        msr     sctlr_el1, x0
        isb

__create_page_tables:
        // An identity map of RAM (1 GB block, Normal) and of the
        // device window below it (1 GB block, Device-nGnRnE), in a zeroed table.
        zero_range idmap_pg_dir, 4096
        zero_range swapper_pg_dir, 4096
        l1_block idmap_pg_dir, RAM_BASE, RAM_BASE, MT_NORMAL
        l1_block idmap_pg_dir, 0, 0, MT_DEVICE_nGnRnE, PTE_SH_OUTER

__cpu_setup:
        tlbi    vmalle1
        dsb     nsh
        ldr     x5, =MAIR_2015
        msr     mair_el1, x5
        ldr     x10, =TCR_2015
        mrs     x9, id_aa64mmfr0_el1
        bfi     x10, x9, #32, #3            // TCR_EL1.IPS = PARange
        msr     tcr_el1, x10

        ldr     x25, =idmap_pg_dir
        ldr     x26, =swapper_pg_dir
__enable_mmu:
        // Both translation table bases, then SCTLR_EL1 with M, C and I.
        msr     ttbr0_el1, x25
        msr     ttbr1_el1, x26
        isb
        mrs     x0, sctlr_el1
        ldr     x1, =(SCTLR_M | SCTLR_C | SCTLR_I)
        orr     x0, x0, x1
        msr     sctlr_el1, x0
        isb

        // Loads and stores through the new mapping: fill a buffer, read it back, and count
        // the words that differ (the exit status; 0 when memory behaved).
mmu_on:
        ldr     x1, =buffer
        mov     x2, #0
fill:   lsl     x3, x2, #3
        add     x3, x3, #0x55
        str     x3, [x1, x2, lsl #3]
        add     x2, x2, #1
        cmp     x2, #64
        b.lo    fill
        mov     x2, #0
        mov     x4, #0                      // mismatches
check:  ldr     x3, [x1, x2, lsl #3]
        lsl     x5, x2, #3
        add     x5, x5, #0x55
        cmp     x3, x5
        cinc    x4, x4, ne
        add     x2, x2, #1
        cmp     x2, #64
        b.lo    check
        mairlab_end_reg x4

        .ltorg

        .data
        .balign 4096
idmap_pg_dir:   .space 4096
swapper_pg_dir: .space 4096
buffer:         .space 512
