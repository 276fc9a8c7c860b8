// An 8-byte store that crosses from a Normal-NC page into a Write-Back page (two 4 KB pages
// the guest's own level-3 table maps side by side), then the VMM reads both halves. Each byte
// takes its own page's attribute: the first four bytes go to memory, the last four to the
// cache.
        .include "mairlab.inc"
        .equ NC_PAGE, 0x50000000
        .equ WB_PAGE, 0x50001000

        .text
        .globl _start
_start:
        .pushsection .data
        .balign 4096
l1:     .space 4096
l2:     .space 4096
l3:     .space 4096
        .popsection
        zero_range l1, 4096
        zero_range l2, 4096
        zero_range l3, 4096
        next_table l1, 0x40000000, 30, l2
        l2_block   l2, 0x40000000, 0x40000000, MT_NORMAL
        next_table l2, NC_PAGE, 21, l3
        l3_page    l3, NC_PAGE, NC_PAGE, MT_NORMAL_NC
        l3_page    l3, WB_PAGE, WB_PAGE, MT_NORMAL
        enable_mmu MAIR_LINUX_2015, TCR_39BIT_4K, l1
        ldr     x1, =(WB_PAGE - 4)
        ldr     x2, =0x8877665544332211
cross:  str     x2, [x1]                    // bytes 11 22 33 44 | 55 66 77 88
        mairlab_sync 1                      // the VMM reads both halves
        mairlab_end 0
        .ltorg
