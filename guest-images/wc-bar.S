// Write-combining into passthrough BARs: the guest maps a NIC's doorbell BAR and a GPU's
// VGA-class BAR Normal-NC, as Linux's pgprot_writecombine does, to turn bursts of stores into
// large PCIe writes (seeds 002, 003). Whether combining survives is the effective type: a
// stage-2 Device mapping wins over the guest's Normal-NC and combining is lost.
        .include "mairlab.inc"
        .equ BARS, 0x50000000
        .equ NIC, 0x50000000
        .equ VGA, 0x50001000

        .text
        .globl _start
_start:
        boot_2015 BARS, MT_NORMAL_NC
nic:    fill64  NIC, 8, 0x00000000deadbeef     // a 64-byte descriptor burst
vga:    fill64  VGA, 8, 0x00ff00ff00ff00ff     // pixels
        mairlab_sync 1                          // the devices consume
        mairlab_end 0
        .ltorg
