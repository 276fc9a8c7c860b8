// The guest builds its own stage-1 tables (TTBR0 and TTBR1, 4 KB granule, 39-bit VAs) with
// blocks at level 1 and 2, pages at level 3, two VAs aliasing one PA under different
// AttrIndx, and a TTBR1 address; then it loads through each VA. Every target page holds its
// own PA as a marker (written with the MMU off), so the value a load returns says which PA
// the emulator translated the VA to. The guest checks that against the PA it mapped (exit
// status: the number of mismatches); the harness's tests check it against their own walk.
        .include "mairlab.inc"

        .equ RAM, 0x40000000
        .equ MARK, 0x10                     // offset of the marker in each target page
        // T0SZ = T1SZ = 25 (39-bit VAs, walks start at level 1), WB WA inner shareable
        // walks for both halves, TG0 4 KB (0), TG1 4 KB (2), IPS 40 bits.
        .equ TCR, (25 | (1 << 8) | (1 << 10) | (3 << 12) | (25 << 16) | (1 << 24) | (1 << 26) | (3 << 28) | (2 << 30) | (2 << 32))
        .equ MAIR, 0x0000000000bb44ff       // 0 Normal WB, 1 Normal NC, 2 Normal WT

        // The VAs the guest loads through, and the PA each must reach.
        .equ VA_L3_PAGE,   0x40200000 + MARK    // L3 page -> 0x40500000 (AttrIndx 0)
        .equ VA_L3_ALIAS,  0x40201000 + MARK    // L3 page -> 0x40500000 again (AttrIndx 1)
        .equ VA_L3_FAR,    0x40205000 + MARK    // L3 page -> 0x40603000
        .equ VA_L2_BLOCK,  0x40801000 + MARK    // L2 block 0x40800000 -> 0x40a00000
        .equ VA_L1_BLOCK,  0x80c00000 + MARK    // L1 block 0x80000000 -> 0x40000000
        .equ VA_TTBR1,     0xffffffc000d00000 + MARK   // TTBR1, L1 block -> 0x40000000

        // Loads through \va into results[], counting it in x21 if it is not \pa's marker.
        .macro probe_va va, pa
        ldr     x1, =\va
        ldr     x2, =\pa
        bl      probe
        .endm

        .text
        .globl _start
_start:
markers:
        // Each target page's marker is its own PA (MMU off: VA = PA).
        .irp pa, 0x40500000, 0x40603000, 0x40a01000, 0x40c00000, 0x40d00000
        ldr     x1, =(\pa + MARK)
        ldr     x2, =\pa
        str     x2, [x1]
        .endr

tables:
        zero_range l1_ttbr0, 4096
        zero_range l2_table, 4096
        zero_range l3_table, 4096
        zero_range l1_ttbr1, 4096
        next_table l1_ttbr0, 0x40000000, 30, l2_table
        l2_block   l2_table, 0x40000000, 0x40000000, 0      // code, data, tables: identity
        next_table l2_table, 0x40200000, 21, l3_table
        l3_page    l3_table, 0x40200000, 0x40500000, 0
        l3_page    l3_table, 0x40201000, 0x40500000, 1
        l3_page    l3_table, 0x40205000, 0x40603000, 2
        l2_block   l2_table, 0x40800000, 0x40a00000, 0
        l1_block   l1_ttbr0, 0x80000000, 0x40000000, 0
        l1_block   l1_ttbr1, 0xffffffc000000000, 0x40000000, 0

mmu:
        ldr     x1, =l1_ttbr1
        msr     ttbr1_el1, x1
        enable_mmu MAIR, TCR, l1_ttbr0

loads:
        ldr     x20, =results
        mov     x21, #0                     // mismatches
        .irp pair, "VA_L3_PAGE, 0x40500000", "VA_L3_ALIAS, 0x40500000", "VA_L3_FAR, 0x40603000", "VA_L2_BLOCK, 0x40a01000", "VA_L1_BLOCK, 0x40c00000", "VA_TTBR1, 0x40d00000"
        probe_va \pair
        .endr
        mairlab_end_reg x21

// Loads through x1, appends the value to results, counts it in x21 if it is not x2.
probe:
        ldr     x3, [x1]
        str     x3, [x20], #8
        cmp     x3, x2
        cinc    x21, x21, ne
        ret

        .ltorg

        .data
        .balign 4096
l1_ttbr0:   .space 4096
l2_table:   .space 4096
l3_table:   .space 4096
l1_ttbr1:   .space 4096
results:    .space 64
