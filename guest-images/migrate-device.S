// Live migration of a VM whose passthrough-style device memory is mapped Device at stage 2:
// the VMM moves it at sync 1 to a non-FWB host and at sync 2 back to an FWB host, and the
// guest goes on using its framebuffer and device window (seed 001: "If I have a VM with a
// device mapped as *device* on FWB host, I must be able to migrate it to non-FWB host, and
// back.").
        .include "mairlab.inc"
        .equ WINDOW, 0x50000000

        .text
        .globl _start
_start:
        boot_2015 WINDOW, MT_DEVICE_nGnRE
        ldr     x1, =WINDOW
        mov     w2, #1
before: str     w2, [x1]
        mairlab_sync 1                      // migrated to a non-FWB host
        mov     w2, #2
between: str    w2, [x1, #4]
        mairlab_sync 2                      // and back to an FWB host
after:  ldr     w3, [x1]
        mairlab_end 0
        .ltorg
