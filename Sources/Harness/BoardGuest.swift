import AArch64
import Board
import Formats
import FoundationEssentials
import Unicorn

/// An image on the virt-like board: where it goes, where it starts, the devicetree beside it,
/// and how its PCs are named (relative to the image, also once it has relocated itself).
final class BoardGuest: GuestProgram {
    struct Piece {
        let address: UInt64
        let bytes: [UInt8]
    }

    let options: BootOptions
    private(set) var board: VirtBoard
    /// The image's bytes as they are placed; ELF segments each on their own.
    private(set) var pieces: [Piece]
    let elf: ELFImage?
    let imageBase: UInt64
    let imageSize: UInt64
    let entryPoint: UInt64
    let deviceTreeAddress: UInt64
    let deviceTree: [UInt8]
    let sha256: String
    /// Where the image moved itself, and who said so (nil: it did not, or nobody knows).
    var relocation: (offset: UInt64, source: String)?
    /// The devices the guest reaches through MMIO and the conduit.
    var devices: BoardDevices
    /// Receives console output as the guest sends it.
    var consoleSink: (([UInt8]) -> Void)?
    /// Told every `progressInterval` guest instructions how far the boot is, with the console's
    /// last line (a terminal's progress line).
    var progress: ((UInt64, String) -> Void)?
    var nextProgress: UInt64 = BoardGuest.progressInterval
    static let progressInterval: UInt64 = 50_000_000

    var budget: Int { options.budget }
    /// None: `--budget` comes first (a host slower than expected is no reason to cut a boot).
    var timeoutMilliseconds: Int { 0 }
    var memoryMiB: Double { Double(options.memory) / Double(1 << 20) }

    static let flashRange = VirtBoard.flashBanks[0].base..<VirtBoard.flashBanks[1].end

    init(_ options: BootOptions) throws {
        let path = options.imagePath
        guard options.memory >= BootOptions.minimumMemory, options.memory % 4096 == 0,
              options.memory <= (1 << 48) - VirtBoard.ramBase else {
            throw HarnessError.io("--memory: \(options.memory) bytes is not a multiple of 4 KiB between 1 MiB and the 48-bit physical address space")
        }
        let bytes = try Self.read(path, rawLimit: options.flash ? UInt64(Self.flashRange.count) : options.memory)
        self.options = options
        board = options.board
        sha256 = SHA256.hexDigest(bytes)
        let ram = board.ram
        let region = options.flash ? Self.flashRange : ram.base..<ram.end
        // Checked before anything is allocated or added: sizes come from the file.
        let misfit = { (address: UInt64, size: UInt64) -> HarnessError? in
            guard address < region.lowerBound || address > region.upperBound || size > region.upperBound - address else { return nil }
            return HarnessError.image(file: path, message: "\(size) bytes at \(hex(address)) do not fit in \(options.flash ? "flash" : "RAM") [\(hex(region.lowerBound)), \(hex(region.upperBound)))")
        }
        if bytes.starts(with: Self.elfMagic) {
            let image: ELFImage
            do { image = try ELFImage(bytes, positionIndependent: true) } catch { throw HarnessError.image(file: path, message: "\(error)") }
            let loadable = image.segments.filter { $0.memorySize > 0 }
            if let error = loadable.lazy.compactMap({ misfit($0.physicalAddress, $0.memorySize) }).first { throw error }
            guard let low = loadable.map(\.physicalAddress).min(),
                  let high = loadable.map({ $0.physicalAddress + $0.memorySize }).max() else {
                throw HarnessError.image(file: path, message: "the ELF has no loadable segment")
            }
            elf = image
            pieces = loadable.map {
                Piece(address: $0.physicalAddress, bytes: $0.bytes + [UInt8](repeating: 0, count: Int($0.memorySize) - $0.bytes.count))
            }
            (imageBase, imageSize, entryPoint) = (low, high - low, options.entry ?? image.entry)
        } else {
            let header = KernelImageHeader(bytes)
            let base = options.flash ? 0 : options.loadAddress ?? ram.base + (header?.loadOffset ?? BootOptions.kernelLoadOffset)
            let size = max(UInt64(bytes.count), options.flash ? 0 : header?.imageSize ?? 0)
            if let error = misfit(base, size) { throw error }
            elf = nil
            pieces = [Piece(address: base, bytes: bytes)]
            (imageBase, imageSize, entryPoint) = (base, size, options.entry ?? base)
        }
        var imageEnd = imageBase + imageSize
        if let initrdPath = options.initrdPath {
            // virt puts the initrd where the devicetree would go, and the devicetree above it.
            let initrd = try Self.read(initrdPath, rawLimit: options.memory)
            let address = try Self.placeDeviceTree(size: UInt64(initrd.count), flash: false, ram: ram, imageEnd: imageEnd,
                                                   path: initrdPath)
            pieces.append(Piece(address: address, bytes: initrd))
            board.initrd = AddressRange(base: address, size: UInt64(initrd.count))
            imageEnd = address + UInt64(initrd.count)
        }
        deviceTree = board.deviceTreeBlob()
        deviceTreeAddress = try Self.placeDeviceTree(size: UInt64(deviceTree.count), flash: options.flash, ram: ram,
                                                     imageEnd: imageEnd, path: path)
        relocation = options.relocationOffset.map { ($0, "--relocation-offset") }
        devices = BoardDevices(input: options.input)
    }

    static let elfMagic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]

    /// The image file's bytes; a raw image larger than `rawLimit` is refused before it is read.
    static func read(_ path: String, rawLimit: UInt64) throws -> [UInt8] {
        let url = URL(fileURLWithPath: path)
        let bytes: [UInt8]
        do {
            // Mapped, not read: a raw image too large to load is refused before its bytes are.
            let data = try Data(contentsOf: url, options: .alwaysMapped)
            if [UInt8](data.prefix(4)) != elfMagic, data.count > rawLimit {
                throw HarnessError.image(file: path, message: "\(data.count) bytes do not fit in the \(rawLimit >> 20) MiB it would be loaded into")
            }
            bytes = [UInt8](data)
        } catch let error as HarnessError {
            throw error
        } catch {
            throw HarnessError.io("cannot read \(path): \(systemReason(error))")
        }
        guard !bytes.isEmpty else { throw HarnessError.image(file: path, message: "the image is empty") }
        return bytes
    }

    /// Firmware in flash finds the blob at the start of RAM (U-Boot's qemu-arm board_fdt_blob_setup);
    /// a kernel-style image gets it where virt puts it, RAM + min(RAM / 2, 128 MiB), or 2 MiB
    /// aligned above the image when that would overlap it.
    static func placeDeviceTree(size: UInt64, flash: Bool, ram: AddressRange, imageEnd: UInt64, path: String) throws -> UInt64 {
        if flash { return VirtBoard.deviceTreeAddress }
        var address = ram.base + min(ram.size / 2, 128 << 20)
        if address < imageEnd { address = (imageEnd + (2 << 20) - 1) & ~((2 << 20) - 1) }
        guard address + size <= ram.end else {
            throw HarnessError.image(file: path, message: "no room for the devicetree above the image in \(ram.size >> 20) MiB of RAM: give more --memory")
        }
        return address
    }

    func build(_ machine: Machine) throws(UnicornError) {
        // Flash is read-only to the guest (Unicorn reports a write as protected-write).
        try machine.map(Self.flashRange.lowerBound, size: UInt64(Self.flashRange.count), permissions: [.read, .execute])
        try machine.map(board.ram.base, size: board.ram.size)
        for piece in pieces { try machine.write(piece.bytes, at: piece.address) }
        try machine.write(deviceTree, at: deviceTreeAddress)
        // The boot protocol of arm64 Linux (booting.rst) and of virt's firmware: x0 = the
        // devicetree's physical address, x1-x3 = 0.
        try machine.write(.x(0), deviceTreeAddress)
        for n in 1...3 { try machine.write(.x(n), 0) }
    }

    func entry() throws -> UInt64 { entryPoint }

    /// `image+0x...` (or the ELF's symbol) for a PC in the image where it was placed or where it
    /// relocated itself; the bare address elsewhere.
    func symbolize(_ pc: UInt64) -> String {
        if pc >= imageBase, pc - imageBase < imageSize { return name(pc) }
        if let relocation, pc &- relocation.offset >= imageBase, pc &- relocation.offset - imageBase < imageSize {
            return name(pc &- relocation.offset) + " (relocated)"
        }
        return hex(pc)
    }

    private func name(_ address: UInt64) -> String {
        if let elf, !elf.symbols.isEmpty { return elf.symbolize(address) }
        return "image+\(hex(address - imageBase))"
    }

    func disassemble(at pc: UInt64) -> String? { nil }

    /// U-Boot keeps `gd` in x18 (arch/arm/include/asm/global_data.h); for this build
    /// `gd->relocaddr` is at +0x70 and `gd->reloc_off` at +0x98, and relocaddr = reloc_off +
    /// CONFIG_TEXT_BASE. Taken only when those agree and land in RAM, page aligned.
    func discoverRelocation(_ machine: Machine) {
        guard relocation == nil, let gd = try? machine.read(.x(18)), board.ram.contains(gd), board.ram.contains(gd + 0xA0),
              let relocOff = try? machine.read64(at: gd + 0x98), let relocAddr = try? machine.read64(at: gd + 0x70),
              relocOff != 0, relocOff % 4096 == 0, relocAddr == relocOff &+ imageBase, board.ram.contains(relocAddr)
        else { return }
        relocation = (relocOff, "U-Boot gd->reloc_off (x18 + 0x98)")
    }
}

/// The arm64 Image header (Linux Documentation/arch/arm64/booting.rst, "Call the kernel
/// image"): text_offset at byte 8, image_size at 16, the magic "ARM\x64" at 56.
struct KernelImageHeader {
    let textOffset: UInt64
    /// The bytes the kernel occupies once running, .bss included (nothing else may go there).
    let imageSize: UInt64

    /// Nil when the magic is absent or image_size is 0 (then text_offset is not valid either).
    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 64, Array(bytes[56..<60]) == [0x41, 0x52, 0x4D, 0x64] else { return nil }
        let field = { (at: Int) in (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        guard field(16) != 0 else { return nil }
        textOffset = field(8)
        imageSize = field(16)
    }

    /// Where QEMU's virt loads it from RAM's start (hw/arm/boot.c, load_aarch64_image): at
    /// text_offset from a 2 MiB boundary, the first 2 MiB left to its boot stub when the
    /// offset is below the stub's 4 KiB.
    var loadOffset: UInt64 { textOffset < 4096 ? textOffset + (2 << 20) : textOffset }
}
