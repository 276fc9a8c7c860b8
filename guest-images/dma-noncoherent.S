// A DMA buffer the guest fills for a non-coherent device. Believing it uncached (Linux's
// dma_alloc_coherent on a non-coherent platform maps Normal-NC), the guest does no cache
// maintenance before ringing the doorbell (seed 004: "What happens to DMA ... when the guest
// assumes that it's accessing RAM uncached and then triggers DMA?").
        .include "mairlab.inc"
        .equ BUF, 0x50000000

        .text
        .globl _start
_start:
        boot_2015 BUF, MT_NORMAL_NC
fill:   fill64  BUF, 8, 0x0123456789abcdef
doorbell:
        mairlab_sync 1                      // the device reads the buffer
        mairlab_end 0
        .ltorg
