// The DMA buffer of dma-noncoherent, but the guest cleans it to the Point of Coherency
// (DC CVAC) before ringing the doorbell, as Linux's streaming DMA API does for a
// non-coherent device (arch_sync_dma_for_device). That makes the buffer's data reach memory
// whatever the hypervisor made of the guest's Normal-NC mapping.
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
