// A guest that maps a buffer with MAIR 0xF0, Tagged Normal memory, on a CPU whose
// ID_AA64PFR1_EL1.MTE says FEAT_MTE2 is not implemented.
        .include "mairlab.inc"
        .equ BUF, 0x50000000
        .equ MAIR_TAGGED, 0x000000F0440C0400    // index 4 = 0xF0

        .text
        .globl _start
_start:
        boot_2015 BUF, MT_NORMAL, mair=MAIR_TAGGED
fill:   fill64  BUF, 8, 0x2525252525252525
        mairlab_sync 1                      // the VMM reads the buffer
        mairlab_end 0
        .ltorg
