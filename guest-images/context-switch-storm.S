// A scheduler-like loop: after the caches are on, switch address space SWITCHES times, each
// switch writing TTBR0_EL1 (the next task's tables, ASID in bits 63:48) and CONTEXTIDR_EL1
// (its PID), as Linux's cpu_do_switch_mm and contextidr_thread_switch do, with some work
// between switches. The RFC's overhead worry: under TVM every one of those writes traps.
        .include "mairlab.inc"

        .equ SWITCHES, 1000         // calls of switch_mm, the first one before the MMU is on
        .equ WORK, 40               // iterations of the work loop between switches (4 instr.)
        .equ MAIR, 0x000000ff440c0400
        .equ TCR, (25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (1 << 36))   // 39-bit VA, TTBR1 off, 16-bit ASID

        .text
        .globl _start
_start:
        // Two tasks' tables: their own level-1 tables sharing one level-2 table that maps
        // the first 2 MB of RAM (code, data and tables) Normal Write-Back.
        zero_range task0_l1, 4096
        zero_range task1_l1, 4096
        zero_range shared_l2, 4096
        next_table task0_l1, 0x40000000, 30, shared_l2
        next_table task1_l1, 0x40000000, 30, shared_l2
        l2_block   shared_l2, 0x40000000, 0x40000000, 4

        // Install task 0, then turn the MMU and caches on.
        ldr     x0, =task0_l1
        mov     x1, #0
        bl      switch_mm
        ldr     x9, =MAIR
        msr     mair_el1, x9
        ldr     x9, =TCR
        msr     tcr_el1, x9
        isb
        mrs     x9, sctlr_el1
        ldr     x10, =(SCTLR_M | SCTLR_C | SCTLR_I)
        orr     x9, x9, x10
        msr     sctlr_el1, x9
        isb

        // The remaining SWITCHES - 1 switches, alternating the two tasks.
        mov     x19, #1                     // switches done
        ldr     x20, =SWITCHES
        ldr     x21, =counters
schedule:
        and     x2, x19, #1
        ldr     x0, =task0_l1
        ldr     x3, =task1_l1
        cmp     x2, #0
        csel    x0, x0, x3, eq
        mov     x1, x19                     // PID
        bl      switch_mm
        // Work: bump this task's counter WORK times through the new mapping.
        mov     x4, #WORK
work:   ldr     x5, [x21, x2, lsl #3]
        add     x5, x5, #1
        str     x5, [x21, x2, lsl #3]
        subs    x4, x4, #1
        b.ne    work
        add     x19, x19, #1
        cmp     x19, x20
        b.lo    schedule

done:   // Exit status: 0 when both tasks did all their work.
        ldr     x5, [x21]
        ldr     x6, [x21, #8]
        add     x5, x5, x6
        ldr     x7, =((SWITCHES - 1) * WORK)
        sub     x0, x5, x7
        hvc     #0

// switch_mm(x0 = the task's level-1 table, x1 = its PID): ASID = PID in TTBR0_EL1[63:48].
switch_mm:
        orr     x0, x0, x1, lsl #48
        msr     ttbr0_el1, x0
        isb
        msr     contextidr_el1, x1
        ret

        .ltorg

        .data
        .balign 4096
task0_l1:   .space 4096
task1_l1:   .space 4096
shared_l2:  .space 4096
counters:   .space 16
