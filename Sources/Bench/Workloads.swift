import Formats
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Harness

/// The benchmark's guests, written as snippets (assembly and manifest) into a scratch folder
/// so that the harness and the raw runner load the very same ELF. Each ends at `bench_end`,
/// where the raw runner stops (the harness runs two more instructions: `mov x0, #0; hvc #0`).
enum Workload {
    static let ramBase: UInt64 = 0x4000_0000
    static let ramSize: UInt64 = 0x0020_0000
    static let text: UInt64 = 0x4008_0000
    /// The observed window (outside RAM: the raw runner maps it as C MMIO).
    static let window: UInt64 = 0x5000_0000
    /// Plain RAM the memory workload touches.
    static let plainRAM: UInt64 = 0x4010_0000

    /// An ALU loop, 4 instructions per iteration.
    static func compute(iterations: Int) -> (source: String, manifest: String) {
        (loop(iterations: iterations, setup: "mov x1, #1\n        mov x2, #3",
              body: "add x1, x1, x2\n        eor x2, x2, x1"),
         manifest(budget: iterations * 4 + 64))
    }

    /// `traps` MAIR_EL1 writes, two per iteration (4 instructions) from two sites with two
    /// values, so that no two trapped writes in a row are equal (the trap log keeps equal ones
    /// in a row as one record: this is its worst case): trapped under `trap = always`.
    static func traps(_ traps: Int) -> (source: String, manifest: String) {
        (loop(iterations: traps / 2, setup: "ldr x1, =0x000000ff440c0400\n        ldr x2, =0x000000ff440c0404",
              body: "msr mair_el1, x1\n        msr mair_el1, x2"),
         manifest(budget: traps * 2 + 64))
    }

    /// An 8-byte store and an 8-byte load per iteration (4 instructions), MMU off, to
    /// `address`; `observed` makes the window shared memory the model serves. The window is a
    /// passthrough device's registers, which no agent caches: every access goes through the
    /// model, and one value per read keeps one execution (the cost of an access, not of
    /// branching; a cacheable alias makes each guest read a branch: see Benchmarks/README.md).
    static func memory(iterations: Int, address: UInt64, observed: Bool) -> (source: String, manifest: String) {
        let window = observed ? """

            [[observed]]
            name = "window"
            kind = "device"
            base = \(hex(window))
            size = 0x1000

            """ : ""
        return (loop(iterations: iterations, setup: "ldr x1, =\(hex(address))\n        mov x2, #7",
                     body: "str x2, [x1]\n        ldr x3, [x1]"),
                manifest(budget: iterations * 4 + 64) + window)
    }

    /// A framebuffer of `lines` 64-byte lines the guest fills through Normal-NC before each of
    /// `syncs` sync points, where the VMM reads all of it cacheably (framebuffer-nc, scaled).
    static func framebuffer(lines: Int, syncs: Int) -> (source: String, manifest: String) {
        var frames = ""
        for sync in 1...syncs {
            let value = String(repeating: cFormat("%02x", Int32(sync & 0xFF)), count: 8)
            frames += "        fill64  FB, \(8 * lines), 0x\(value)\n        mairlab_sync \(sync)\n"
        }
        let source = """
                    .include "mairlab.inc"
                    .equ FB, \(hex(window))
                    .text
                    .globl _start
            _start:
                    boot_2015 FB, MT_NORMAL_NC
            \(frames)bench_end:
                    mairlab_end 0
                    .ltorg

            """
        var manifest = manifest(budget: 1_000_000, scheduleCap: 1_000_000) + """

            [[observed]]
            name = "fb"
            kind = "ram"
            base = \(hex(window))
            size = \(hex((UInt64(max(lines, 1) * 64) + 0xFFF) & ~0xFFF))

            """
        for sync in 1...syncs {
            manifest += """

                [[host]]
                at = \(sync)
                observer = "vmm"
                action = "read"
                region = "fb"
                size = \(lines * 64)

                """
        }
        return (source, manifest)
    }

    private static func loop(iterations: Int, setup: String, body: String) -> String {
        """
                .text
                .globl _start
        _start:
                ldr     x0, =\(iterations)
                \(setup)
        1:      \(body)
                subs    x0, x0, #1
                b.ne    1b
        bench_end:
                mov     x0, #0
                hvc     #0
                .ltorg

        """
    }

    private static func manifest(budget: Int, scheduleCap: Int? = nil) -> String {
        """
        description = "benchmark workload"

        [image]
        text = \(hex(text))

        [run]
        budget = \(budget)
        timeout_ms = 600000
        \(scheduleCap.map { "schedule_cap = \($0)" } ?? "")

        [[memory]]
        name = "ram"
        base = \(hex(ramBase))
        size = \(hex(ramSize))

        """
    }

    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}

/// A scratch folder of workload snippets (with the include folder of the real snippets).
struct WorkloadFolder {
    let directory: URL

    init(includeFrom images: URL) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mairlab-bench-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        let include = directory.appendingPathComponent("include")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: images.appendingPathComponent("include"), to: include)
    }

    /// Writes `name.S` and `name.toml`, and returns the snippet.
    func write(_ name: String, _ workload: (source: String, manifest: String)) throws -> Snippet {
        try workload.source.write(to: directory.appendingPathComponent(name + ".S"), atomically: true, encoding: .utf8)
        try workload.manifest.write(to: directory.appendingPathComponent(name + ".toml"), atomically: true, encoding: .utf8)
        return try Snippet(path: name, searchDirectory: directory)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
