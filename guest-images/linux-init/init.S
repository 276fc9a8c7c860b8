// mairlab-init: a Linux user-space init of our own (issue 15), PID 1 of an initramfs.
// Static, no libc: system calls through the Linux arm64 ABI (number in x8, arguments in
// x0-x5, `svc #0`, result or -errno in x0; every other register is preserved).
//
// What it does, in order, and what each process counts (the `sys` macro adds one to x19 for
// every system call, so each `syscalls=` below is the number of `sys` executed before that
// line's own write):
//   parent  write "start" (1), pipe2 A and B (2), clone a child (1), close the ends it does
//           not use (2), ROUNDS ping-pongs of one byte, a write to A and a read from B each
//           (2*ROUNDS), YIELDS sched_yield (YIELDS), wait4 that child (1), clone a second
//           child (1), wait4 it (1):  2*ROUNDS + YIELDS + 9 = 259.
//   child 1 closes the ends it does not use (2), answers each byte with byte+1: a read from
//           A and a write to B (2*ROUNDS), YIELDS sched_yield (YIELDS): 2*ROUNDS + YIELDS + 2
//           = 252; prints, exit_group(0).
//   child 2 GETPIDS getpid (GETPIDS) = 25; prints, exit_group(0).
// Each round trip is at least two context switches on one CPU: the parent blocks in read(B)
// until child 1 has written, child 1 blocks in read(A) until the next byte. rounds= counts
// the replies that were right, yields= the sched_yield calls that returned 0, children= the
// children reaped with exit status 0. The lines come in a fixed order: the parent prints
// nothing between "start" and its summary, and reaps child 1 before it forks child 2.
//
// PID 1 must never exit (the kernel panics), so the parent ends in reboot(POWER_OFF), which
// the kernel turns into PSCI SYSTEM_OFF. Not PID 1 (under qemu-aarch64 user emulation, or a
// child that failed) it says so and calls exit_group(1) instead: reboot from a user-mode
// emulator as root would power off the host. Should reboot return, exit_group(1) too.
//
// All variables live in a frame on the stack the kernel gives us: the image is then a single
// read-execute segment, the layout the snippets are linked with (Toolchain.linkerScript).

        .equ SYS_pipe2, 59
        .equ SYS_close, 57
        .equ SYS_read, 63
        .equ SYS_write, 64
        .equ SYS_exit_group, 94
        .equ SYS_sched_yield, 124
        .equ SYS_reboot, 142
        .equ SYS_getpid, 172
        .equ SYS_clone, 220
        .equ SYS_wait4, 260
        .equ SIGCHLD, 17                // clone flags of fork(): only the exit signal

        .equ ROUNDS, 100
        .equ YIELDS, 50
        .equ GETPIDS, 25

        // The frame at x28: two pipes (int fds: read end, write end), the byte that travels,
        // wait4's status, the line being built.
        .equ PIPE_A, 0                  // parent -> child 1
        .equ PIPE_B, 8                  // child 1 -> parent
        .equ BYTE, 16
        .equ STATUS, 20
        .equ LINE, 32
        .equ FRAME, 160

        // Registers: x19 system calls made, x20 end of the line being built, x21 loop index,
        // x22 rounds, x23 yields, x24 children reaped, x25 child pid, x26/x27 failure report.
        .macro sys nr
        mov     x8, #\nr
        svc     #0
        add     x19, x19, #1
        .endm

        .macro say str
        adr     x0, \str
        bl      put_str
        .endm

        .macro say_number reg
        mov     x0, \reg
        bl      put_dec
        .endm

        .text
        .globl _start
_start:
        sub     sp, sp, #FRAME
        mov     x28, sp
        add     x20, x28, #LINE
        mov     x19, #0
        mov     x24, #0
        say     s_start
        bl      write_line
        add     x0, x28, #PIPE_A
        mov     x1, #0
        sys     SYS_pipe2
        cbnz    x0, fail_pipe2
        add     x0, x28, #PIPE_B
        mov     x1, #0
        sys     SYS_pipe2
        cbnz    x0, fail_pipe2
        bl      fork
        cbz     x0, pingpong_child
        mov     x25, x0
        ldr     w0, [x28, #PIPE_A]
        sys     SYS_close
        ldr     w0, [x28, #PIPE_B + 4]
        sys     SYS_close

        mov     x21, #0
        mov     x22, #0
ping:   strb    w21, [x28, #BYTE]        // the round's number, mod 256
        ldr     w0, [x28, #PIPE_A + 4]
        bl      write_byte
        ldr     w0, [x28, #PIPE_B]
        bl      read_byte
        ldrb    w0, [x28, #BYTE]
        add     w1, w21, #1
        and     w1, w1, #0xff
        cmp     w0, w1
        cinc    x22, x22, eq
        add     x21, x21, #1
        cmp     x21, #ROUNDS
        b.lo    ping
        bl      yield_loop
        mov     x0, x25
        bl      reap

        bl      fork
        cbz     x0, getpid_child
        bl      reap

        say     s_rounds
        say_number x22
        say     s_yields
        say_number x23
        say     s_children
        say_number x24
        say     s_syscalls
        say_number x19
        bl      write_line
        // fall through

// reboot(2) as PID 1, exit_group(1) otherwise (see the top).
power_off:
        sys     SYS_getpid
        cmp     x0, #1
        b.ne    not_init
        movz    w0, #0xdead             // LINUX_REBOOT_MAGIC1 0xfee1dead
        movk    w0, #0xfee1, lsl #16
        movz    w1, #0x1969             // LINUX_REBOOT_MAGIC2 672274793 = 0x28121969
        movk    w1, #0x2812, lsl #16
        movz    w2, #0xfedc             // LINUX_REBOOT_CMD_POWER_OFF 0x4321fedc
        movk    w2, #0x4321, lsl #16
        mov     x3, #0
        sys     SYS_reboot
        b       exit_failure
not_init:
        say     s_not_init
        bl      write_line
exit_failure:
        mov     x0, #1
        sys     SYS_exit_group

// Child 1: answers each byte with byte + 1, then yields.
pingpong_child:
        mov     x19, #0                 // from here, this process's own system calls
        ldr     w0, [x28, #PIPE_A + 4]
        sys     SYS_close
        ldr     w0, [x28, #PIPE_B]
        sys     SYS_close
        mov     x21, #0
        mov     x22, #0
pong:   ldr     w0, [x28, #PIPE_A]
        bl      read_byte
        ldrb    w0, [x28, #BYTE]
        add     w0, w0, #1
        strb    w0, [x28, #BYTE]
        ldr     w0, [x28, #PIPE_B + 4]
        bl      write_byte
        add     x22, x22, #1
        add     x21, x21, #1
        cmp     x21, #ROUNDS
        b.lo    pong
        bl      yield_loop
        say     s_child1
        say_number x22
        say     s_yields
        say_number x23
        say     s_syscalls
        say_number x19
        bl      write_line
        mov     x0, #0
        sys     SYS_exit_group

// Child 2: GETPIDS system calls and nothing else.
getpid_child:
        mov     x19, #0
        mov     x21, #0
1:      sys     SYS_getpid
        add     x21, x21, #1
        cmp     x21, #GETPIDS
        b.lo    1b
        say     s_child2
        say_number x19
        bl      write_line
        mov     x0, #0
        sys     SYS_exit_group

// fork() as clone(SIGCHLD, 0, 0, 0, 0): x0 = the child's pid in the parent, 0 in the child.
fork:   mov     x0, #SIGCHLD
        mov     x1, #0
        mov     x2, #0
        mov     x3, #0
        mov     x4, #0
        sys     SYS_clone
        tbnz    x0, #63, fail_clone
        ret

// wait4(x0, &status, 0, NULL) for that child; x24 += 1 when it exited with status 0.
reap:   mov     x9, x0
        add     x1, x28, #STATUS
        mov     x2, #0
        mov     x3, #0
        sys     SYS_wait4
        cmp     x0, x9
        b.ne    fail_wait4
        ldr     w0, [x28, #STATUS]
        cmp     w0, #0
        cinc    x24, x24, eq
        ret

// YIELDS sched_yield; x23 = how many returned 0.
yield_loop:
        mov     x21, #0
        mov     x23, #0
1:      sys     SYS_sched_yield
        cmp     x0, #0
        cinc    x23, x23, eq
        add     x21, x21, #1
        cmp     x21, #YIELDS
        b.lo    1b
        ret

// One byte between the frame's BYTE and the descriptor in w0: one system call each.
write_byte:
        add     x1, x28, #BYTE
        mov     x2, #1
        sys     SYS_write
        cmp     x0, #1
        b.ne    fail_write
        ret
read_byte:
        add     x1, x28, #BYTE
        mov     x2, #1
        sys     SYS_read
        cmp     x0, #1
        b.ne    fail_read
        ret

// Appends the NUL-terminated string at x0 to the line.
put_str:
        ldrb    w9, [x0], #1
        cbz     w9, 1f
        strb    w9, [x20], #1
        b       put_str
1:      ret

// Appends x0 in decimal: digits are produced last first, into a scratch area on the stack.
put_dec:
        sub     sp, sp, #32
        add     x9, sp, #32
        mov     x10, #10
1:      udiv    x11, x0, x10
        msub    x12, x11, x10, x0       // x0 mod 10
        add     w12, w12, #'0'
        strb    w12, [x9, #-1]!
        mov     x0, x11
        cbnz    x0, 1b
        add     x11, sp, #32
2:      ldrb    w12, [x9], #1
        strb    w12, [x20], #1
        cmp     x9, x11
        b.lo    2b
        add     sp, sp, #32
        ret

// Ends the line with a newline and writes it to fd 1 (the kernel opens /dev/console as 0,
// 1 and 2 for init): one system call. The line starts again empty.
write_line:
        mov     w9, #10
        strb    w9, [x20], #1
        add     x1, x28, #LINE
        sub     x2, x20, x1
        mov     x0, #1
        sys     SYS_write
        add     x20, x28, #LINE
        ret

// A system call that failed: "failed: NAME result=R" (R is the result, negated: the errno
// for an error, 0 for a read at end of file), then power_off.
fail_pipe2:
        adr     x27, s_pipe2
        b       fail
fail_clone:
        adr     x27, s_clone
        b       fail
fail_wait4:
        adr     x27, s_wait4
        b       fail
fail_write:
        adr     x27, s_write
        b       fail
fail_read:
        adr     x27, s_read
fail:   neg     x26, x0
        say     s_failed
        mov     x0, x27
        bl      put_str
        say     s_result
        say_number x26
        bl      write_line
        b       power_off

s_start:    .asciz "mairlab-init: start"
s_rounds:   .asciz "mairlab-init: rounds="
s_yields:   .asciz " yields="
s_children: .asciz " children="
s_syscalls: .asciz " syscalls="
s_child1:   .asciz "mairlab-init: ping-pong child: rounds="
s_child2:   .asciz "mairlab-init: getpid child: syscalls="
s_not_init: .asciz "mairlab-init: not PID 1: exit_group(1) instead of reboot(POWER_OFF)"
s_failed:   .asciz "mairlab-init: failed: "
s_result:   .asciz " result=-"
s_pipe2:    .asciz "pipe2"
s_clone:    .asciz "clone"
s_wait4:    .asciz "wait4"
s_write:    .asciz "write"
s_read:     .asciz "read"
