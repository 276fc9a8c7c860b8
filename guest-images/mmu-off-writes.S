// A guest that talks to the VMM through a mailbox in RAM before it turns its MMU on: with
// SCTLR_EL1.M = 0 every data access is Device-nGnRnE (Arm ARM, stage 1 disabled), so its
// writes go to memory, while the VMM reads and writes the mailbox through its cacheable
// mapping. The RFC's MAIR rewrite cannot help here: no MAIR is in use yet (seed 004).
        .include "mairlab.inc"
        .equ MAILBOX, 0x50000000

        .text
        .globl _start
_start:
        ldr     x1, =MAILBOX
        mov     x2, #1
hello:  str     x2, [x1]                    // word 0 = 1 (stage 2 maps the page here)
        mairlab_sync 1                      // the VMM reads word 0
        mov     x2, #2
update: str     x2, [x1]                    // word 0 = 2
        mairlab_sync 2                      // the VMM reads word 0, writes its reply to word 1
        mov     x3, #3
status: str     x3, [x1, #16]               // word 2 = 3, in the line the VMM dirtied
        mairlab_sync 3                      // the VMM reads word 2
        mairlab_end 0
        .ltorg
