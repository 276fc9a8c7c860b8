// A guest that turns its MMU on before its caches (SCTLR_EL1.M = 1, C = 0), the window KVM
// traps until both are set (kvm_toggle_cache). It maps a buffer Normal Write-Back and fills
// it; the VMM reads it at sync 1 through its own Write-Back mapping.
        .include "mairlab.inc"
        .equ BUF, 0x50000000

        .text
        .globl _start
_start:
        boot_2015 BUF, MT_NORMAL, sctlr=(SCTLR_M | SCTLR_I)
fill:   fill64  BUF, 8, 0x5a5a5a5a5a5a5a5a
        mairlab_sync 1                      // the VMM reads the buffer
        mairlab_end 0
        .ltorg
