// A linear framebuffer the guest fills through a Normal-NC mapping (write-combining, as
// Linux's fbdev/DRM drivers map it) while the VMM displays it through its own cacheable
// mapping of the same guest RAM (seed 004: the stale framebuffer).
        .include "mairlab.inc"
        .equ FB, 0x50000000

        .text
        .globl _start
_start:
        boot_2015 FB, MT_NORMAL_NC
frame1: fill64  FB, 8, 0x1111111111111111      // one 64-byte line
        mairlab_sync 1                          // the VMM displays frame 1
frame2: fill64  FB, 8, 0x2222222222222222
        mairlab_sync 2                          // the VMM displays frame 2
        mairlab_end 0
        .ltorg
