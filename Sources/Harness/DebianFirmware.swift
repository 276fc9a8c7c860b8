import Formats
import FoundationEssentials

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
        return DebianPackage.extract(package, into: cache).flatMap { _ in
            FileManager.default.isReadableFile(atPath: extracted) ? .success(extracted)
                : .failure(.init("\(package) has no \(installedUBoot)"))
        }
    }

    /// `$MAIRLAB_CACHE/firmware`, beside the image cache.
    public static var defaultCache: URL {
        ImageCache.standard().directory.deletingLastPathComponent().appendingPathComponent("firmware")
    }
}

/// Debian's arm64 kernel (`linux-image-*-arm64`, a package of another architecture: it needs
/// `dpkg --add-architecture arm64` and `apt-get update` once), its `Image` extracted from
/// `/boot/vmlinuz-*` (decompressed when gzip'd) into a cache folder. Never committed.
public enum DebianKernel {
    /// The path of the kernel `Image`, or why it cannot be had here.
    public static func image(cache: URL = defaultCache) -> Result<String, DebianFirmwareUnavailable> {
        let image = cache.appendingPathComponent("Image")
        if FileManager.default.isReadableFile(atPath: image.path) { return .success(image.path) }
        let package: String
        do {
            // The meta package names the versioned one: "Depends: linux-image-6.1.0-57-arm64:arm64".
            let depends = try ProcessRunner.run("/usr/bin/env", ["apt-cache", "depends", "linux-image-arm64:arm64"],
                                                in: URL(fileURLWithPath: "/"))
            guard depends.status == 0, let line = depends.stdout.split(separator: "\n").first(where: { $0.contains("Depends: linux-image-") }),
                  let name = line.split(separator: " ").last else {
                return .failure(.init("apt-cache knows no linux-image-arm64:arm64 (run `dpkg --add-architecture arm64 && apt-get update` once)"))
            }
            package = String(name)
        } catch {
            return .failure(.init("cannot ask apt-cache for Debian's arm64 kernel: \(error)"))
        }
        return DebianPackage.extract(package, into: cache).flatMap { root in
            let boot = root.appendingPathComponent("boot")
            guard let name = (try? FileManager.default.contentsOfDirectory(atPath: boot.path))?.first(where: { $0.hasPrefix("vmlinuz-") }),
                  let bytes = FileManager.default.contents(atPath: boot.appendingPathComponent(name).path) else {
                return .failure(.init("\(package) has no /boot/vmlinuz-*"))
            }
            // Only the Image is kept (the package's modules are hundreds of MiB).
            defer { try? FileManager.default.removeItem(at: root) }
            guard bytes.starts(with: [0x1F, 0x8B]) else {
                guard (try? bytes.write(to: image)) != nil else { return .failure(.init("cannot write \(image.path)")) }
                return .success(image.path)
            }
            // A gzip'd Image (Debian 13 and later): gzip -d leaves Image beside Image.gz.
            let zipped = cache.appendingPathComponent("Image.gz")
            guard (try? bytes.write(to: zipped)) != nil,
                  let unzip = try? ProcessRunner.run("/usr/bin/env", ["gzip", "-d", "-f", zipped.path], in: cache), unzip.status == 0 else {
                return .failure(.init("gzip could not decompress \(name)"))
            }
            return .success(image.path)
        }
    }

    /// `$MAIRLAB_CACHE/kernel`, beside the image cache.
    public static var defaultCache: URL {
        ImageCache.standard().directory.deletingLastPathComponent().appendingPathComponent("kernel")
    }
}

/// `apt-get download` and `dpkg-deb -x` of one package into `cache/root`.
enum DebianPackage {
    static func extract(_ package: String, into cache: URL) -> Result<URL, DebianFirmwareUnavailable> {
        let root = cache.appendingPathComponent("root")
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
            try? FileManager.default.moveItem(at: scratch.appendingPathComponent("root"), to: root)
        } catch {
            return .failure(.init("cannot fetch \(package): \(error)"))
        }
        return .success(root)
    }
}

public struct DebianFirmwareUnavailable: Error, CustomStringConvertible {
    public let description: String
    init(_ reason: String) { description = reason }
}
