// A buffer mapped inner Non-cacheable, outer Write-Back (MAIR 0xF4): the guest writes it and
// a non-coherent device reads it. A system cache beyond the CPU's own caches (the outer level)
// may hold the data, and the device, past every cache, does not see it.
        .include "mairlab.inc"
        .equ BUF, 0x50000000
        .equ MAIR_INC_OWB, 0x000000F4440C0400   // index 4 = 0xF4

        .text
        .globl _start
_start:
        boot_2015 BUF, MT_NORMAL, mair=MAIR_INC_OWB
fill:   fill64  BUF, 8, 0x0f0f0f0f0f0f0f0f
        mairlab_sync 1                      // the device reads the buffer
        mairlab_end 0
        .ltorg
