// The VMM writes a flash image and a RAM buffer before the guest first touches them; the
// guest, caches on, reads both through Device mappings. KVM of 2015 cleaned a page to PoC on
// stage-2 map only if the vCPU's caches were off or the memory slot was read-only (a flash).
        .include "mairlab.inc"
        .equ ROM, 0x50000000
        .equ BUF, 0x50001000

        .text
        .globl _start
_start:
        boot_2015 ROM, MT_DEVICE_nGnRE
        mairlab_sync 1                      // the VMM writes both (before any guest access)
        ldr     x1, =ROM
rom:    ldr     x2, [x1]
        ldr     x1, =BUF
ram:    ldr     x3, [x1]
        mairlab_end 0
        .ltorg
