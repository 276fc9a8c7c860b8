// A one-CPU board laid out like QEMU's `virt` machine (the subset firmware such as U-Boot's
// qemu_arm64 needs to reach its prompt): RAM at 1 GiB, a GICv2, a PL011 UART, the generic
// timer, PSCI through HVC and, optionally, the two CFI flash banks at 0. Only the layout and
// its devicetree live here; the harness maps the regions and wires the devices.

/// The board's layout and the devicetree describing it.
public struct VirtBoard: Hashable, Sendable {
    /// Flash: two 64 MiB CFI banks (firmware runs from bank 0, its environment lives in bank 1).
    public static let flashBanks = [
        AddressRange(base: 0x0000_0000, size: 0x0400_0000),
        AddressRange(base: 0x0400_0000, size: 0x0400_0000),
    ]
    /// GICv2 distributor and CPU interface (64 KiB each, as virt gives them).
    public static let gicDistributor = AddressRange(base: 0x0800_0000, size: 0x1_0000)
    public static let gicCPUInterface = AddressRange(base: 0x0801_0000, size: 0x1_0000)
    /// The PL011 UART: one 4 KiB PrimeCell page.
    public static let uart = AddressRange(base: 0x0900_0000, size: 0x1000)
    /// RAM starts at 1 GiB.
    public static let ramBase: UInt64 = 0x4000_0000
    /// Where firmware started from flash looks for the blob: the start of RAM (U-Boot's
    /// qemu-arm board reads it there; the firmware relocates itself away from it).
    public static let deviceTreeAddress: UInt64 = ramBase
    /// The UART's SPI (INTID 32 + 1).
    public static let uartSPI: UInt32 = 1
    /// The PPIs of the generic timer, as the Arm Base System Architecture (DEN0094, "PPI
    /// assignments") recommends them: INTID 29 secure EL1 physical, 30 non-secure EL1 physical,
    /// 27 EL1 virtual, 26 non-secure EL2 physical; devicetree PPI numbers are INTID - 16.
    public static let timerPPIs: [UInt32] = [13, 14, 11, 10]
    /// The UART's reference clock.
    public static let uartClockHz: UInt32 = 24_000_000
    public static let gicPhandle = DeviceTree.Phandle(rawValue: 1)!
    public static let clockPhandle = DeviceTree.Phandle(rawValue: 2)!

    /// RAM size in bytes, from `ramBase`.
    public var ramSize: UInt64
    /// `/chosen/bootargs`.
    public var bootargs: String
    /// `compatible` of `/cpus/cpu@0`.
    public var cpuCompatible: String
    /// Whether `/flash@0` is described. On by default, as on virt; without a CFI model behind
    /// it firmware probing the flash finds none (U-Boot reports it and goes on).
    public var describesFlash: Bool
    /// Where an initial ramdisk lies in RAM (`/chosen/linux,initrd-start` and `-end`).
    public var initrd: AddressRange?

    public init(ramSize: UInt64 = 128 << 20, bootargs: String = "", cpuCompatible: String = "arm,cortex-a57", describesFlash: Bool = true) {
        self.ramSize = ramSize
        self.bootargs = bootargs
        self.cpuCompatible = cpuCompatible
        self.describesFlash = describesFlash
    }

    public var ram: AddressRange { AddressRange(base: Self.ramBase, size: ramSize) }

    /// The board's devicetree. Bindings followed (Linux's Documentation/devicetree/bindings):
    /// arm/psci, serial/pl011, clock/fixed-clock, timer/arm,arch_timer,
    /// interrupt-controller/arm,gic, mtd/mtd-physmap; node requirements from DT spec chapter 3.
    public var deviceTree: DeviceTree {
        typealias Node = DeviceTree.Node
        typealias Property = DeviceTree.Property
        // arm,gic binding: the third interrupt cell is the trigger type in bits [3:0]
        // (4 = level, active high) and, for PPIs, the mask of CPUs they reach in bits [15:8].
        let levelHigh: UInt32 = 4, onlyCPU0: UInt32 = 1 << 8
        let (spi, ppi): (UInt32, UInt32) = (0, 1)

        var root = Node("", properties: [
            .u32("#address-cells", 2),
            .u32("#size-cells", 2),
            .string("compatible", "linux,dummy-virt"),
            .string("model", "mairlab virt"),  // DT spec 3.2: required at the root
            .references("interrupt-parent", [Self.gicPhandle]),
        ])
        // chosen binding: linux,initrd-start and -end (u32 or u64; the end is exclusive).
        root.children.append(Node("chosen", properties: [
            .string("bootargs", bootargs),
            .string("stdout-path", "/pl011@\(String(Self.uart.base, radix: 16))"),
        ] + (initrd.map { [.u64("linux,initrd-start", $0.base), .u64("linux,initrd-end", $0.end)] } ?? [])))
        root.children.append(Node("memory@\(String(Self.ramBase, radix: 16))", properties: [
            .string("device_type", "memory"),
            .reg([ram]),
        ]))
        root.children.append(Node("cpus", properties: [
            // DT spec 3.7: one cell of MPIDR affinity, no size.
            .u32("#address-cells", 1),
            .u32("#size-cells", 0),
        ], children: [
            Node("cpu@0", properties: [
                .string("device_type", "cpu"),
                .string("compatible", cpuCompatible),
                .reg([AddressRange(base: 0, size: 0)], addressCells: 1, sizeCells: 0),
                .string("enable-method", "psci"),
            ]),
        ]))
        root.children.append(Node("psci", properties: [
            .strings("compatible", ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]),
            .string("method", "hvc"),
            // The psci-0.1 binding's per-function IDs, for readers older than 0.2; the SMC64
            // forms where DEN0022 has both.
            .u32("cpu_suspend", PSCI.Function.cpuSuspendSMC64.rawValue),
            .u32("cpu_off", PSCI.Function.cpuOff.rawValue),
            .u32("cpu_on", PSCI.Function.cpuOnSMC64.rawValue),
            .u32("migrate", PSCI.Function.migrateSMC64.rawValue),
        ]))
        root.children.append(Node("timer", properties: [
            .string("compatible", "arm,armv8-timer"),
            .cells("interrupts", Self.timerPPIs.flatMap { [ppi, $0, levelHigh | onlyCPU0] }),
            .empty("always-on"),
        ]))
        root.children.append(Node("apb-pclk", properties: [
            .string("compatible", "fixed-clock"),
            .u32("#clock-cells", 0),
            .u32("clock-frequency", Self.uartClockHz),
            .string("clock-output-names", "clk24mhz"),
            .phandle(Self.clockPhandle),
        ]))
        root.children.append(Node("pl011@\(String(Self.uart.base, radix: 16))", properties: [
            .strings("compatible", ["arm,pl011", "arm,primecell"]),
            .reg([Self.uart]),
            .cells("interrupts", [spi, Self.uartSPI, levelHigh]),
            .references("clocks", [Self.clockPhandle, Self.clockPhandle]),
            .strings("clock-names", ["uartclk", "apb_pclk"]),
        ]))
        root.children.append(Node("intc@\(String(Self.gicDistributor.base, radix: 16))", properties: [
            .string("compatible", "arm,cortex-a15-gic"),
            .reg([Self.gicDistributor, Self.gicCPUInterface]),
            .u32("#interrupt-cells", 3),
            // No child nodes; stated because an interrupt-map that names this controller
            // takes its unit-address length from here (DT spec 2.4.3.1).
            .u32("#address-cells", 0),
            .empty("interrupt-controller"),
            .phandle(Self.gicPhandle),
        ]))
        if describesFlash {
            root.children.append(Node("flash@0", properties: [
                .string("compatible", "cfi-flash"),
                .reg(Self.flashBanks),
                .u32("bank-width", 4),
            ]))
        }
        return DeviceTree(root: root)
    }

    /// The blob to place at `deviceTreeAddress`, padded with free space to `minimumSize`
    /// bytes (firmware edits the tree in place: U-Boot adds to `/chosen` before booting).
    public func deviceTreeBlob(minimumSize: Int = 0x1_0000) -> [UInt8] {
        do {
            return try deviceTree.flattened(minimumSize: minimumSize)
        } catch {
            // Every name above is fixed and valid, and strings are checked when made.
            preconditionFailure("the board's own devicetree is invalid: \(error)")
        }
    }
}
