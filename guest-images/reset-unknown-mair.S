// A guest that turns its MMU on without ever writing MAIR_EL1: its mappings' attributes come
// from the register's reset value, which the architecture leaves UNKNOWN.
        .include "mairlab.inc"
        .equ BUF, 0x50000000

        .text
        .globl _start
_start:
        .pushsection .data
        .balign 4096
l1:     .space 4096
l2:     .space 4096
        .popsection
        zero_range l1, 4096
        zero_range l2, 4096
        next_table l1, 0x40000000, 30, l2
        l2_block   l2, 0x40000000, 0x40000000, MT_NORMAL
        l2_block   l2, BUF, BUF, MT_NORMAL
        ldr     x9, =TCR_39BIT_4K
        msr     tcr_el1, x9
        ldr     x9, =l1
        msr     ttbr0_el1, x9
        isb
        mrs     x9, sctlr_el1
        orr     x9, x9, #SCTLR_M
        orr     x9, x9, #SCTLR_C
        orr     x9, x9, #SCTLR_I
        msr     sctlr_el1, x9
        isb
fill:   fill64  BUF, 8, 0x4242424242424242
        mairlab_sync 1                      // the VMM reads the buffer
        mairlab_end 0
        .ltorg
