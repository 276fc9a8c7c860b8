// Writes MAIR_EL1 and reads it back. A rewriting hypervisor without TRVM lets the guest see
// the rewritten value (exit status 1); with TRVM it answers with the guest's own (0).
        .include "mairlab.inc"

        .equ MAIR_2015, 0x000000FF440C0400

        .text
        .globl _start
_start:
        ldr     x1, =MAIR_2015
write:  msr     mair_el1, x1
        isb
read:   mrs     x2, mair_el1
        cmp     x1, x2
        cset    x0, ne                      // 1 when the guest sees something else
        hvc     #0
        .ltorg
