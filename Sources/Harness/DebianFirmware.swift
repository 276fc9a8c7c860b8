import Formats
import Foundation

/// Debian's U-Boot for QEMU's virt board (package `u-boot-qemu`), found as a user would get it:
/// the installed file, or `apt-get download` and `dpkg-deb -x` into a cache folder. Nothing of
/// it is ever committed.
public enum DebianFirmware {
    public static let package = "u-boot-qemu"
    public static let installedUBoot = "/usr/lib/u-boot/qemu_arm64/u-boot.bin"

    /// The path of `qemu_arm64/u-boot.bin`, or why it cannot be had here.
    public static func uBoot(cache: URL = defaultCache) -> Result<String, DebianFirmwareUnavailable> {
        if FileManager.default.isReadableFile(atPath: installedUBoot) { return .success(installedUBoot) }
        let extracted = cache.appendingPathComponent("root").path + installedUBoot
        if FileManager.default.isReadableFile(atPath: extracted) { return .success(extracted) }
        // Fetched into a folder of its own and moved into place: tests run at once.
        let scratch = cache.appendingPathComponent("fetch-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            let download = try ProcessRunner.run("/usr/bin/env", ["apt-get", "download", package], in: scratch)
            guard download.status == 0 else { return .failure(.init("apt-get download \(package) failed: \(download.stderr)")) }
            let debs = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasSuffix(".deb") }.sorted()
            guard let deb = debs.last else { return .failure(.init("apt-get download \(package) left no .deb")) }
            let unpack = try ProcessRunner.run("/usr/bin/env", ["dpkg-deb", "-x", deb, "root"], in: scratch)
            guard unpack.status == 0 else { return .failure(.init("dpkg-deb -x \(deb) failed: \(unpack.stderr)")) }
            try? FileManager.default.moveItem(at: scratch.appendingPathComponent("root"), to: cache.appendingPathComponent("root"))
        } catch {
            return .failure(.init("cannot fetch \(package): \(error)"))
        }
        guard FileManager.default.isReadableFile(atPath: extracted) else {
            return .failure(.init("\(package) has no \(installedUBoot)"))
        }
        return .success(extracted)
    }

    /// `$MAIRLAB_CACHE/firmware`, beside the image cache.
    public static var defaultCache: URL {
        ImageCache.standard().directory.deletingLastPathComponent().appendingPathComponent("firmware")
    }
}

public struct DebianFirmwareUnavailable: Error, CustomStringConvertible {
    public let description: String
    init(_ reason: String) { description = reason }
}
