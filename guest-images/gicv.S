// The GICv2 virtual CPU interface, which the host maps into the guest at stage 2. A guest
// that maps it Normal-NC (a mistake, or a hostile guest) must still get Device: it is a
// peripheral shared with other guests' interrupt handling, and Normal memory would allow
// speculative and gathered accesses to it (seed 000: "Doesn't this affect the GICv2 VCPU
// interface, which is effectively a shared peripheral ... ?").
        .include "mairlab.inc"
        .equ GICV, 0x50000000

        .text
        .globl _start
_start:
        boot_2015 GICV, MT_NORMAL_NC
        ldr     x1, =GICV
iar:    ldr     w2, [x1, #0x0c]            // GICV_IAR: acknowledge
eoir:   str     w2, [x1, #0x10]            // GICV_EOIR: end of interrupt
        mairlab_end 0
        .ltorg
