import ArgumentParser
import FoundationEssentials
import Harness

extension Mairlab {
    struct Boot: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "boot", _superCommandName: "mairlab",
            abstract: "Boot a firmware or kernel image on a virt-like board and profile its traps.",
            discussion: """
                The board: RAM at 0x40000000, read-only flash at 0 (two 64 MiB banks), a PL011 UART \
                at 0x9000000, a GICv2 present but quiet, the generic timer counting instructions, \
                PSCI over HVC and SMC, and a devicetree at the start of RAM (--flash) or above the \
                image, its address in x0. One CPU and no interrupt delivery: a guest that needs \
                them ends with an outcome saying so.
                The console is printed as it comes, then the outcome and the profile: trapped \
                accesses aggregated by register and value, cache and TLB maintenance by kind, exits \
                by cause, MAIR_EL1 before and after the rewrite, PSCI calls, the modeled cost.
                Exit status 0 when the guest powered off, reset, or waits for console input with \
                none left; 1 when it used its budget, faulted, or waits for an interrupt; 2 on bad \
                input.
                Example: mairlab boot /usr/lib/u-boot/qemu_arm64/u-boot.bin --flash --input '\\rversion\\rreset\\r'
                With --suite FILE, a kvm-unit-tests unittests.cfg instead of an image: each test's \
                file (relative to FILE's folder) booted with its test_args as bootargs (or the \
                -append and -m of qemu_params/extra_params), under every --policy given (default: \
                every policy), then a matrix of test x policy: PASS, FAIL or SKIP as the guest \
                reported, or how the run ended, with the accesses trapped. Tests run_tests.sh \
                would skip are SKIP with its reason, and so are tests asking for more than one \
                CPU, an accel, disabled_if or check (not evaluated here), or migration; \
                timeout is replaced by --budget, kvmtool_params and the other QEMU parameters \
                are ignored. Exit status 0 when every run is PASS or SKIP, 1 otherwise, 2 on bad \
                input. Example, in a kvm-unit-tests build: mairlab boot --suite arm/unittests.cfg
                """)

        @Argument(help: "The image: a raw binary or an ELF.")
        var image: String?

        @Option(help: "A kvm-unit-tests unittests.cfg: boot each of its tests under each policy (see above).")
        var suite: String?

        @Option(help: "With --suite: only the tests of this group (nodefault ones included, as run_tests.sh -g).")
        var group: String?

        @Option(help: "With --suite: runs at once (default: one per core).")
        var jobs: Int?

        @Flag(help: "Put the image in flash at 0 and start there (firmware such as U-Boot).")
        var flash = false

        @Option(help: "Load address of a raw image in RAM (default: as virt loads a kernel: an arm64 Image header's text_offset above RAM + 2 MiB, else RAM + 0x80000).",
                transform: { try Self.address($0, "--load") })
        var load: UInt64?

        @Option(help: "Entry point (default: 0 with --flash, the load address, or the ELF's entry).",
                transform: { try Self.address($0, "--entry") })
        var entry: UInt64?

        @Option(help: "RAM size: bytes, or with K, M or G (default: 128M; U-Boot qemu_arm64 needs at least 20M).",
                transform: { try Self.size($0) })
        var memory: UInt64 = BootOptions.defaultMemory

        @Option(help: "Console input, queued at power-on; \\r is Enter, \\n a line feed, \\t a tab, \\\\ a backslash.")
        var input: String = ""

        @Option(help: "The devicetree's /chosen/bootargs.")
        var bootargs: String = ""

        @Option(help: ArgumentHelp("An initial ramdisk (e.g. a newc cpio) placed in RAM and named in /chosen.", valueName: "file"))
        var initrd: String?

        @Option(help: "Instruction budget.")
        var budget: Int = BootOptions.defaultBudget

        @Option(name: .customLong("relocation-offset"),
                help: "Where the image moved itself, for naming sites (default: read from U-Boot's gd->reloc_off).",
                transform: { try Self.address($0, "--relocation-offset") })
        var relocationOffset: UInt64?

        @OptionGroup var hypervisor: PolicyOptions

        @Flag(help: "Print the report as one JSON object (console text included) instead of streaming the console.")
        var json = false

        @Flag(help: "List every trapped access (the profile always aggregates them all).")
        var events = false

        func validate() throws {
            if budget < 1 { throw ValidationError("--budget must be at least 1") }
            if (image == nil) == (suite == nil) { throw ValidationError("name an image, or a unittests.cfg with --suite") }
            if suite == nil, group != nil || jobs != nil { throw ValidationError("--group and --jobs are for a --suite") }
            if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
            if suite != nil, flash || load != nil || entry != nil || !input.isEmpty || !bootargs.isEmpty
                || relocationOffset != nil || events {
                throw ValidationError("--suite boots each test as its file says: --flash, --load, --entry, --input, --bootargs, --relocation-offset and --events are for one image")
            }
        }

        func run() throws {
            if let suite { return try runSuite(suite) }
            guard let image else { return }
            let console = Console.current
            let options = BootOptions(
                imagePath: image, flash: flash, loadAddress: load, entry: entry, memory: memory, input: input,
                bootargs: bootargs, initrdPath: initrd, relocationOffset: relocationOffset, eventLimit: events ? nil : 0, budget: budget,
                policy: try hypervisor.resolve(catalog: hypervisor.catalog()), costModel: try hypervisor.costModel())
            let stream: (([UInt8]) -> Void)? = json ? nil : { console.output(String(decoding: $0, as: UTF8.self), terminator: "") }
            // On a terminal, a progress line on standard error (instructions, the console's last line).
            let progress: ((UInt64, String) -> Void)? = console.isTerminal && !json ? { count, line in
                console.error("\r\u{1B}[K[\(count) instructions] \(line.prefix(60))", terminator: "")
            } : nil
            let report = try Harness.Boot.run(options, console: stream, progress: progress)
            if progress != nil { console.error("\r\u{1B}[K", terminator: "") }
            console.output(json ? report.json() : report.text(consoleShown: !json))
            // A guest that reports its own tests decides by their verdict.
            if let test = report.outcome.test, test.verdict == .fail { throw ExitCode(1) }
            switch report.outcome.status {
            case .systemOff, .systemReset, .waitingForInput: return
            default: throw ExitCode(1)
            }
        }

        static func address(_ text: String, _ option: String) throws -> UInt64 {
            let value = text.lowercased().hasPrefix("0x") ? UInt64(text.dropFirst(2).replacing("_", with: ""), radix: 16)
                : UInt64(text)
            guard let value, value < 1 << 48 else {
                throw ValidationError("\(option) '\(text)': expected an address below 2^48, decimal or 0x-prefixed hex")
            }
            return value
        }

        static func size(_ text: String) throws -> UInt64 {
            let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
            let unit = text.last.flatMap { units[Character($0.uppercased())] }
            let digits = unit == nil ? Substring(text) : text.dropLast()
            guard let number = UInt64(digits), number.multipliedReportingOverflow(by: unit ?? 1).overflow == false else {
                throw ValidationError("--memory '\(text)': expected bytes or a number with K, M or G (e.g. 128M)")
            }
            return number * (unit ?? 1)
        }
    }
}
