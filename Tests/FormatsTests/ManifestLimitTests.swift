import Testing
@testable import Formats

/// Issue 14: every numeric manifest field has a documented range (README, "Input limits"),
/// region names are unique and the entry symbol is plain. Expected messages are written from
/// those rules: the range, the field's path and the line it is on.
@Suite struct ManifestLimitTests {
    static let file = "m.toml"

    /// Every kind of numbered field, one per line, so a case replaces exactly one line.
    static let manifest = """
        description = "limits"
        [image]
        text = 0x40080000
        [run]
        budget = 1000
        [[memory]]
        name = "ram"
        base = 0x40000000
        size = 0x200000
        [[observed]]
        name = "fb"
        kind = "ram"
        base = 0x50000000
        size = 0x1000
        [[dma]]
        name = "gpu"
        coherent = false
        [[host]]
        at = 1
        observer = "vmm"
        action = "write"
        region = "fb"
        offset = 0
        size = 8
        value = 0xffffffffffffffff
        [[migrate]]
        at = 2
        to = "fwb"
        """

    /// The manifest with line `line` (1-based) replaced by `text` (which may be several lines).
    static func edited(line: Int, _ text: String) -> String {
        var lines = manifest.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[line - 1] = text
        return lines.joined(separator: "\n")
    }

    static func outcome(_ text: String) -> String {
        do {
            _ = try Manifest(parsing: text, file: file)
            return "accepted"
        } catch {
            return error.description
        }
    }

    static let physicalLimit = "0x1000000000000 (2^48, the emulated CPU's physical address size)"

    @Test func theBaseManifestIsAccepted() throws {
        let manifest = try Manifest(parsing: Self.manifest, file: Self.file)
        #expect(manifest.budget == 1000)
        #expect(manifest.host.map(\.value) == [.max])
    }

    @Test(arguments: [
        // [run] budget: 1...10^12 instructions.
        (5, "budget = 0", "m.toml:5: field 'run.budget': expected a number of instructions from 1 to 1000000000000, found integer 0"),
        (5, "budget = -1", "m.toml:5: field 'run.budget': expected a number of instructions from 1 to 1000000000000, found integer -1"),
        (5, "budget = 1_000_000_000_001",
         "m.toml:5: field 'run.budget': expected a number of instructions from 1 to 1000000000000, found integer 1000000000001"),
        (5, "budget = 9223372036854775808",
         "m.toml:5: field 'run.budget': expected a number of instructions from 1 to 1000000000000, found integer 9223372036854775808"),
        (5, "budget = 0xffffffffffffffff",
         "m.toml:5: field 'run.budget': expected a number of instructions from 1 to 1000000000000, found integer 18446744073709551615"),
        (5, "budget = 1.5", "m.toml:5: field 'run.budget': expected an integer, found float 1.5"),
        // [run] schedule_cap: 1...10^6.
        (5, "schedule_cap = 0", "m.toml:5: field 'run.schedule_cap': expected a number of schedules from 1 to 1000000, found integer 0"),
        (5, "schedule_cap = 1_000_001",
         "m.toml:5: field 'run.schedule_cap': expected a number of schedules from 1 to 1000000, found integer 1000001"),
        (5, "schedule_cap = 0x8000000000000000",
         "m.toml:5: field 'run.schedule_cap': expected a number of schedules from 1 to 1000000, found integer 9223372036854775808"),
        // [run] timeout_ms: 1 ms to 24 hours.
        (5, "timeout_ms = 0", "m.toml:5: field 'run.timeout_ms': expected a number of milliseconds from 1 to 86400000, found integer 0"),
        (5, "timeout_ms = 86_400_001",
         "m.toml:5: field 'run.timeout_ms': expected a number of milliseconds from 1 to 86400000, found integer 86400001"),
        (5, "timeout_ms = 18446744073709551615",
         "m.toml:5: field 'run.timeout_ms': expected a number of milliseconds from 1 to 86400000, found integer 18446744073709551615"),
        // [run] stack: 16-byte aligned, at most 2^48 (the MMU is off at entry).
        (5, "stack = 0xffffffffffffffff", "m.toml:5: field 'run.stack': 0xffffffffffffffff is above \(physicalLimit)"),
        (5, "stack = 0x1000000000010", "m.toml:5: field 'run.stack': 0x1000000000010 is above \(physicalLimit)"),
        (5, "stack = 0x40000008", "m.toml:5: field 'run.stack': 0x40000008 is not 16-byte aligned"),
        // [image] text: 4-byte aligned, below 2^48, inside RAM.
        (3, "text = 0xffffffffffffffff", "m.toml:3: field 'image.text': 0xffffffffffffffff is not below \(physicalLimit)"),
        (3, "text = 0x1000000000000", "m.toml:3: field 'image.text': 0x1000000000000 is not below \(physicalLimit)"),
        (3, "text = 0x40080002", "m.toml:3: field 'image.text': 0x40080002 is not 4-byte aligned"),
        (3, "text = 0xfffffffffffc", "m.toml:3: field 'image.text': 0xfffffffffffc lies in no [[memory]] region"),
        // [[memory]] base and size: 4 KB pages, no overflow, below 2^48.
        (8, "base = 0xfffffffffffff000", "m.toml:9: field 'memory[0].size': 0x200000 runs past the top of the address space"),
        (8, "base = 0x1000000000000", "m.toml:8: field 'memory[0].base': 0x1000000000000 is not below \(physicalLimit)"),
        (8, "base = 0xfffffff00000",
         "m.toml:9: field 'memory[0].size': 0xfffffff00000 + 0x200000 runs past \(physicalLimit)"),
        (9, "size = 0xfffffffffffff000", "m.toml:9: field 'memory[0].size': 0xfffffffffffff000 runs past the top of the address space"),
        (9, "size = 0", "m.toml:9: field 'memory[0].size': 0x0 is not a non-zero multiple of 4 KB"),
        (9, "size = 0x1001", "m.toml:9: field 'memory[0].size': 0x1001 is not a non-zero multiple of 4 KB"),
        (8, "base = 0x40000800", "m.toml:8: field 'memory[0].base': 0x40000800 is not 4 KB aligned"),
        (8, "base = -4096", "m.toml:8: field 'memory[0].base': expected a non-negative integer, found integer -4096"),
        // [[observed]]: the same rules as RAM, and an initial byte.
        (13, "base = 0x1000000000000", "m.toml:13: field 'observed[0].base': 0x1000000000000 is not below \(physicalLimit)"),
        (13, "base = 0x401ff000", "m.toml:13: field 'observed[0].base': region 'fb' overlaps region 'ram'"),
        (14, "size = 0xffffffffb0000000",
         "m.toml:14: field 'observed[0].size': 0xffffffffb0000000 runs past the top of the address space"),
        (14, "size = 0xffffb0001000", "m.toml:14: field 'observed[0].size': 0x50000000 + 0xffffb0001000 runs past \(physicalLimit)"),
        (14, "size = 0x1000\ninit = 0xffffffffffffffff", "m.toml:15: field 'observed[0].init': 0xffffffffffffffff is not a byte"),
        (14, "size = 0x1000\ninit = 0x100", "m.toml:15: field 'observed[0].init': 0x100 is not a byte"),
        // [[host]]: a sync point, and an access of 1 byte to 1 GiB inside its region.
        (19, "at = 0", "m.toml:19: field 'host[0].at': a sync point is hvc #1 to #65535"),
        (19, "at = 0x10000", "m.toml:19: field 'host[0].at': a sync point is hvc #1 to #65535"),
        (19, "at = 0xffffffffffffffff", "m.toml:19: field 'host[0].at': a sync point is hvc #1 to #65535"),
        (23, "offset = 0xffffffffffffffff",
         "m.toml:24: field 'host[0].size': offset 0xffffffffffffffff + size 0x8 does not fit region 'fb' (0x1000 bytes)"),
        (23, "offset = 0xffc", "m.toml:24: field 'host[0].size': offset 0xffc + size 0x8 does not fit region 'fb' (0x1000 bytes)"),
        (24, "size = 0", "m.toml:24: field 'host[0].size': expected a number of bytes from 1 to 1073741824, found integer 0"),
        (24, "size = 0xffffffffffffffff",
         "m.toml:24: field 'host[0].size': expected a number of bytes from 1 to 1073741824, found integer 18446744073709551615"),
        (24, "size = 0x1001", "m.toml:24: field 'host[0].size': offset 0x0 + size 0x1001 does not fit region 'fb' (0x1000 bytes)"),
        (25, "value = 18446744073709551616", "m.toml:25:9: field 'host[0].value': integer '18446744073709551616' does not fit in 64 bits"),
        (25, "value = -1", "m.toml:25: field 'host[0].value': expected a non-negative integer, found integer -1"),
        // [[migrate]]
        (27, "at = 0x8000000000000000", "m.toml:27: field 'migrate[0].at': a sync point is hvc #1 to #65535"),
    ])
    func outOfRangeValuesNameLineFieldAndRange(line: Int, text: String, expected: String) {
        #expect(Self.outcome(Self.edited(line: line, text)) == expected)
    }

    /// The ends of each range are inside it.
    @Test(arguments: [
        (5, "budget = 1"),
        (5, "budget = 1_000_000_000_000"),
        (5, "schedule_cap = 1\nbudget = 1\ntimeout_ms = 1"),
        (5, "schedule_cap = 1_000_000\ntimeout_ms = 86_400_000"),
        (5, "stack = 0x1000000000000"),
        (5, "stack = 0"),
        (24, "size = 0x1000"),
        (23, "offset = 0xff8"),
        (19, "at = 65535"),
    ])
    func boundariesAreAccepted(line: Int, text: String) {
        #expect(Self.outcome(Self.edited(line: line, text)) == "accepted")
    }

    /// RAM may end exactly at 2^48: its last byte, 2^48 - 1, is a valid 48-bit PA.
    @Test func ramMayEndAtTheTopOfThePhysicalAddressSpace() throws {
        let text = Self.edited(line: 3, "text = 0xfffffffff000")
            .replacingOccurrences(of: "base = 0x40000000\nsize = 0x200000", with: "base = 0xffffffe00000\nsize = 0x200000")
        let manifest = try Manifest(parsing: text, file: Self.file)
        #expect(manifest.memory[0].end == 1 << 48)
        #expect(manifest.textAddress == 0xffff_ffff_f000)
    }

    /// Virtual windows are VAs: with 48-bit VAs, TTBR0_EL1's range [0, 2^48) or TTBR1_EL1's
    /// [0xffff_0000_0000_0000, 2^64) (Arm ARM, VMSAv8-64 address ranges).
    @Test(arguments: [
        ("base = 0xffffffc000d00000\nsize = 0x1000", "accepted"),
        ("base = 0xffff000000000000\nsize = 0x1000", "accepted"),
        ("base = 0xffffffffffffe000\nsize = 0x1000", "accepted"),
        ("base = 0xfffffffff000\nsize = 0x1000", "accepted"),
        ("base = 0xfffffffff000\nsize = 0x2000",
         "m.toml:31: field 'virtual_window[0].base': 0xfffffffff000 + 0x2000 is neither below 0x1000000000000 (TTBR0_EL1) "
            + "nor at or above 0xffff000000000000 (TTBR1_EL1), the ranges of 48-bit virtual addresses"),
        ("base = 0x0001000000000000\nsize = 0x1000",
         "m.toml:31: field 'virtual_window[0].base': 0x1000000000000 + 0x1000 is neither below 0x1000000000000 (TTBR0_EL1) "
            + "nor at or above 0xffff000000000000 (TTBR1_EL1), the ranges of 48-bit virtual addresses"),
        ("base = 0xfffffffffffff000\nsize = 0x1000",
         "m.toml:32: field 'virtual_window[0].size': 0x1000 runs past the top of the address space"),
        ("base = 0x1000\nsize = 0xfffffffffffff000",
         "m.toml:32: field 'virtual_window[0].size': 0xfffffffffffff000 runs past the top of the address space"),
    ])
    func virtualWindowsLieInOneVARange(window: String, expected: String) {
        let text = Self.manifest + "\n[[virtual_window]]\nname = \"w\"\n" + window
        #expect(Self.outcome(text) == expected)
    }

    /// Containment by subtraction: an address or length near 2^64 must not overflow.
    @Test func containsNeverOverflows() {
        let region = Manifest.MemoryRegion(name: "r", base: 0xffff_ffff_ffff_e000, size: 0x1000)
        #expect(region.contains(0xffff_ffff_ffff_e000))
        #expect(region.contains(0xffff_ffff_ffff_efff))
        #expect(!region.contains(0xffff_ffff_ffff_f000))
        #expect(!region.contains(.max))
        #expect(!region.contains(.max, length: .max))
        #expect(!region.contains(0xffff_ffff_ffff_e000, length: .max))
        #expect(region.contains(0xffff_ffff_ffff_e000, length: 0x1000))
        #expect(!region.contains(0xffff_ffff_ffff_e001, length: 0x1000))
        #expect(!region.contains(0, length: .max))
    }

    // MARK: Names

    @Test(arguments: [
        ("[[memory]]\nname = \"ram\"\nbase = 0x60000000\nsize = 0x1000",
         "m.toml:30: field 'memory[1].name': \"ram\" is already the name of memory[0] at line 7"),
        ("[[observed]]\nname = \"ram\"\nkind = \"ram\"\nbase = 0x60000000\nsize = 0x1000",
         "m.toml:30: field 'observed[1].name': \"ram\" is already the name of memory[0] at line 7"),
        ("[[observed]]\nname = \"fb\"\nkind = \"device\"\nbase = 0x60000000\nsize = 0x1000",
         "m.toml:30: field 'observed[1].name': \"fb\" is already the name of observed[0] at line 11"),
        // Windows are read before [[observed]], so the observed region is the second claim.
        ("[[virtual_window]]\nname = \"fb\"\nbase = 0x60000000\nsize = 0x1000",
         "m.toml:11: field 'observed[0].name': \"fb\" is already the name of virtual_window[0] at line 30"),
    ])
    func regionNamesAreUnique(extra: String, expected: String) {
        #expect(Self.outcome(Self.manifest + "\n" + extra) == expected)
    }

    static let symbolRule = "is not a plain assembler symbol (a letter, '_', '.' or '$', then letters, digits, '_', '.' or '$')"

    /// The entry symbol is pasted into a linker script: `[A-Za-z_.$][A-Za-z0-9_.$]*` only.
    @Test(arguments: [
        (#"entry = "_start""#, "accepted"),
        (#"entry = "main""#, "accepted"),
        (#"entry = ".L$entry_9""#, "accepted"),
        (#"entry = "$x""#, "accepted"),
        (#"entry = """#, #"m.toml:4: field 'image.entry': "" "# + symbolRule),
        (#"entry = "9lives""#, #"m.toml:4: field 'image.entry': "9lives" "# + symbolRule),
        (#"entry = "two words""#, #"m.toml:4: field 'image.entry': "two words" "# + symbolRule),
        (#"entry = "a-b""#, #"m.toml:4: field 'image.entry': "a-b" "# + symbolRule),
        (#"entry = "start)\nINCLUDE /etc/passwd""#, #"m.toml:4: field 'image.entry': "start)\nINCLUDE /etc/passwd" "# + symbolRule),
        (#"entry = "déjà""#, #"m.toml:4: field 'image.entry': "déjà" "# + symbolRule),
        (#"entry = "x;""#, #"m.toml:4: field 'image.entry': "x;" "# + symbolRule),
        ("entry = 7", "m.toml:4: field 'image.entry': expected a string, found integer 7"),
    ])
    func entryIsAPlainSymbol(line: String, expected: String) {
        #expect(Self.outcome(Self.edited(line: 3, "text = 0x40080000\n" + line)) == expected)
    }
}
