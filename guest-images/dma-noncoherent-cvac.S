// The same DMA buffer, but the guest cleans it to the Point of Coherency (DC CVAC) before
// the doorbell, as a streaming DMA mapping does. Believing it uncached (Linux's
// dma_alloc_coherent on a non-coherent platform maps Normal-NC), the guest does no cache
// maintenance would be needed; this guest does it anyway (seed 004: "What happens to DMA ... when the guest
// assumes that it's accessing RAM uncached and then triggers DMA?").
        .include "mairlab.inc"
        .equ BUF, 0x50000000

        .text
        .globl _start
_start:
        boot_2015 BUF, MT_NORMAL_NC
fill:   fill64  BUF, 8, 0x0123456789abcdef
clean:  ldr     x1, =BUF
        dc      cvac, x1                    // clean the line to PoC (Linux: dma_map_* on a
        dsb     sy                          // non-coherent device, or arch_sync_dma_for_device)
doorbell:
        mairlab_sync 1                      // the device reads the buffer
        mairlab_end 0
        .ltorg
