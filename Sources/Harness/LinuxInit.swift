import Formats
import FoundationEssentials

/// The Linux init of our own (`guest-images/linux-init/init.S`, issue 15): assembled and linked
/// into a static AArch64 executable, packed with a console into an initramfs.
public enum LinuxInit {
    public static let defaultSource = "guest-images/linux-init/init.S"
    /// Where the executable is linked: the customary base of a static executable, above the
    /// unmapped low pages of every process.
    public static let textAddress: UInt64 = 0x400000

    /// `source` assembled and linked as the snippets are (Toolchain.build): one segment from
    /// `textAddress`, entry `_start`. The kernel's ELF loader maps it as it is; it needs no
    /// header segment, and no libc reads the program headers.
    public static func executable(source: URL, toolchain: Toolchain) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("mairlab-init-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw HarnessError.io("cannot create \(directory.path): \(systemReason(error))")
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("init")
        try toolchain.build(source: source, includeDirectory: source.deletingLastPathComponent(),
                            textAddress: textAddress, entry: "_start", output: output)
        guard let bytes = try? [UInt8](Data(contentsOf: output)) else {
            throw HarnessError.io("cannot read the linked \(output.path)")
        }
        try check(bytes, file: source.path)
        return bytes
    }

    /// The snippets' layout packs every section into consecutive addresses: writable data
    /// would share a page with code, and the kernel maps a page with one set of permissions.
    /// The init keeps its variables on the stack instead; a writable segment is refused.
    static func check(_ bytes: [UInt8], file: String) throws {
        let image: ELFImage
        do {
            image = try ELFImage(bytes)
        } catch {
            throw HarnessError.image(file: file, message: error.description)
        }
        if image.segments.contains(where: { $0.permissions.contains(.write) }) {
            throw HarnessError.image(file: file, message: "has writable data (.data or .bss): keep variables on the stack, the init is linked as one read-execute segment")
        }
    }

    /// The initramfs: `/dev` with the console (character device 5:1, which the kernel opens
    /// as the init's descriptors 0, 1 and 2; without it the init's writes go nowhere) and the
    /// executable as `/init`, the first program the kernel runs from an initramfs.
    public static func initramfs(executable: [UInt8]) -> [UInt8] {
        Cpio.newc([
            .directory("dev"),
            .characterDevice("dev/console", permissions: 0o600, major: 5, minor: 1),
            .file("init", permissions: 0o755, data: executable),
        ])
    }
}
