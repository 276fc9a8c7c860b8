// A passthrough device's register window, which the guest maps Device-nGnRnE (Linux's
// ioremap_np / nGnRnE for non-posted MMIO). Stage 2 maps it Device-nGnRE under every policy,
// so the effective type must stay Device whatever the hypervisor does to MAIR_EL1 (seed 004:
// "What happens to actually assigned devices that need to be mapped as uncached?"). The
// rewrite still weakens nGnRnE to the stage-2 subtype: see the report's rewrite section.
        .include "mairlab.inc"
        .equ REGS, 0x50000000

        .text
        .globl _start
_start:
        boot_2015 REGS, MT_DEVICE_nGnRnE
        ldr     x1, =REGS
        mov     w2, #0x1
ctrl:   str     w2, [x1, #0x10]            // enable
        mairlab_sync 1                      // the device latches its control register
status: ldr     w3, [x1, #0x14]            // read status
        mairlab_end 0
        .ltorg
