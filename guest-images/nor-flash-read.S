// A NOR flash in read-array mode, emulated by the VMM with host memory that stage 2 maps like
// RAM. The guest maps it as a device (Linux's ioremap: Device-nGnRE) and reads it; the VMM
// updates the contents (a reprogrammed block) through its cacheable mapping; the guest reads
// again (seed 004: "the NOR flash read case").
        .include "mairlab.inc"
        .equ FLASH, 0x50000000

        .text
        .globl _start
_start:
        boot_2015 FLASH, MT_DEVICE_nGnRE
        ldr     x1, =FLASH
first:  ldr     x2, [x1]                    // the old contents
        mairlab_sync 1                      // the VMM writes new contents
again:  ldr     x3, [x1]                    // must see 0x5a..: the model judges it
        mairlab_end 0
        .ltorg
