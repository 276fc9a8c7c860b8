// Live migration of a VM with a coherent device's memory window (seed 001): under
// cacheable-pfnmap-2025 on an FWB host the window is mapped cacheable at stage 2, and a move
// to a non-FWB host must be refused ("A device mapped as *cacheable* can only be migrated
// between FWB-capable hosts"), with a clear reason; where the window is Device or NC the move
// goes through.
        .include "mairlab.inc"
        .equ WINDOW, 0x50000000

        .text
        .globl _start
_start:
        boot_2015 WINDOW, MT_NORMAL, PTE_SH_INNER
        ldr     x1, =WINDOW
        mov     x2, #7
use:    str     x2, [x1]
        mairlab_sync 1                      // the VMM tries to migrate to a non-FWB host
after:  ldr     x3, [x1]
        mairlab_end 0
        .ltorg
