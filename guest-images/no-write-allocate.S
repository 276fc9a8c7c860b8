// A DMA buffer the guest maps Write-Back with no write-allocate (MAIR 0xEE: Read-Allocate,
// no Write-Allocate, inner and outer), believing its stores go to memory, and hands to a
// non-coherent device without cleaning it.
        .include "mairlab.inc"
        .equ BUF, 0x50000000
        .equ MAIR_NOWA, 0x000000EE440C0400      // index 4 = 0xEE

        .text
        .globl _start
_start:
        boot_2015 BUF, MT_NORMAL, mair=MAIR_NOWA
fill:   fill64  BUF, 8, 0x1122334455667788
        mairlab_sync 1                      // the device reads the buffer
        mairlab_end 0
        .ltorg
