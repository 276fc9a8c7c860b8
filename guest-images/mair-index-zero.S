// Linux's 2015 MAIR layout defines indices 0-4; index 5 is 0x00, which is Device-nGnRnE by
// encoding. A guest that maps a shared buffer with index 5 asks for Device-nGnRnE; the VMM
// reads the buffer through its cacheable mapping.
        .include "mairlab.inc"
        .equ BUF, 0x50000000

        .text
        .globl _start
_start:
        boot_2015 BUF, 5
fill:   fill64  BUF, 8, 0x7777777777777777
        mairlab_sync 1                      // the VMM reads the buffer
        mairlab_end 0
        .ltorg
