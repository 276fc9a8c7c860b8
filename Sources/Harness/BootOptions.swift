import Board
import FoundationEssentials
import Hypervisor

/// How `mairlab boot` runs an image on the virt-like board.
public struct BootOptions: Sendable {
    /// The image file: a raw binary or an ELF.
    public var imagePath: String
    /// The image goes into flash at 0 and runs from there (firmware such as U-Boot); otherwise
    /// into RAM at `loadAddress` (a kernel-style image).
    public var flash: Bool
    /// Where a raw image is loaded when not in flash (default: as virt loads a kernel).
    public var loadAddress: UInt64?
    /// Where execution starts (default: 0 in flash, the load address, or the ELF's entry).
    public var entry: UInt64?
    /// RAM size in bytes, from 0x4000_0000.
    public var memory: UInt64
    /// Console input, with `\r` for Enter (PL011.decodeEscapes).
    public var input: String
    /// `/chosen/bootargs`.
    public var bootargs: String
    /// An initial ramdisk (e.g. a newc cpio) placed in RAM and named in `/chosen`.
    public var initrdPath: String?
    /// The image's relocation offset, when known to the user (else read from U-Boot's gd).
    public var relocationOffset: UInt64?
    /// Trap records to list (nil: all); the profile always aggregates every trap.
    public var eventLimit: Int?
    public var budget: Int
    public var policy: Policy
    public var costModel: CostModel

    /// Where virt places a kernel Image without a header's text_offset: RAM + 0x80000 (QEMU's
    /// KERNEL64_LOAD_ADDR).
    public static let kernelLoadOffset: UInt64 = 0x8_0000
    public static let defaultMemory: UInt64 = 128 << 20
    public static let defaultBudget = 2_000_000_000
    /// The least RAM accepted: room for the devicetree and a small image. (U-Boot qemu_arm64
    /// itself needs 20 MiB: its 16 MiB malloc area sits below the relocated image.)
    public static let minimumMemory: UInt64 = 1 << 20

    public init(imagePath: String, flash: Bool = false, loadAddress: UInt64? = nil, entry: UInt64? = nil,
                memory: UInt64 = defaultMemory, input: String = "", bootargs: String = "", initrdPath: String? = nil,
                relocationOffset: UInt64? = nil,
                eventLimit: Int? = 0, budget: Int = defaultBudget, policy: Policy = .kvm2015,
                costModel: CostModel = .defaults) {
        self.imagePath = imagePath
        self.flash = flash
        self.loadAddress = loadAddress
        self.entry = entry
        self.memory = memory
        self.input = input
        self.bootargs = bootargs
        self.initrdPath = initrdPath
        self.relocationOffset = relocationOffset
        self.eventLimit = eventLimit
        self.budget = budget
        self.policy = policy
        self.costModel = costModel
    }

    var board: VirtBoard {
        // No `/flash@0`: its CFI probe writes to flash, which this board keeps read-only.
        VirtBoard(ramSize: memory, bootargs: bootargs, describesFlash: false)
    }
}
