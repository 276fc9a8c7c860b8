// A coherent device's memory window (a GPU's or CXL device's memory, mapped by the host as a
// cacheable PFNMAP VMA), which the guest maps Normal Write-Back and shares with the device
// (seed 001). Cacheable at stage 2 only with FWB; without FWB, KVM must refuse the mapping
// when the guest first touches it.
        .include "mairlab.inc"
        .equ WINDOW, 0x50000000

        .text
        .globl _start
_start:
        boot_2015 WINDOW, MT_NORMAL, PTE_SH_INNER
post:   fill64  WINDOW, 8, 0x0badc0de0badc0de   // work for the device
        mairlab_sync 1                          // the coherent device reads it, writes back
        ldr     x1, =WINDOW
result: ldr     x2, [x1, #0x40]                 // its answer
        mairlab_end 0
        .ltorg
