// Cache maintenance as a guest under KVM does it: a set/way clean (trapped by HCR_EL2.TSW,
// emulated by the host with kvm_set_way_flush) before the MMU is on and again after, then a
// Write-Back buffer handed to a non-coherent device after DC IVAC, which a guest under a
// hypervisor (HCR_EL2.VM = 1) performs as a clean and invalidate.
        .include "mairlab.inc"
        .equ BUF, 0x50000000

        .text
        .globl _start
_start:
        mov     x0, #0
early:  dc      cisw, x0                    // set 0, way 0, level 1: traps (TSW)
        boot_2015 BUF, MT_NORMAL
        mov     x0, #0
late:   dc      cisw, x0                    // again, now with the caches on
        ldr     x1, =boot_l1
switch: msr     ttbr0_el1, x1               // a VM register write after it
        isb
fill:   fill64  BUF, 8, 0x3c3c3c3c3c3c3c3c
        ldr     x1, =BUF
inval:  dc      ivac, x1                    // "invalidate": clean and invalidate under VM = 1
        dsb     sy
        mairlab_sync 1                      // the device reads the buffer
        mairlab_end 0
        .ltorg
