import AArch64
import Formats
import FoundationEssentials

/// Assembled images live outside git, keyed by the SHA-256 of everything that goes into them
/// (source, includes, link address, entry, toolchain), so an unchanged snippet is never
/// assembled twice and a changed one never reuses a stale image.
public struct ImageCache: Sendable {
    public let directory: URL

    /// `$MAIRLAB_CACHE`, else `$XDG_CACHE_HOME/mairlab`, else `~/.cache/mairlab`; `images/` below.
    public static func standard(environment: [String: String] = environmentVariables("MAIRLAB_CACHE", "XDG_CACHE_HOME"))
        -> ImageCache {
        let root: URL
        if let explicit = environment["MAIRLAB_CACHE"], !explicit.isEmpty {
            root = URL(fileURLWithPath: explicit)
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            root = URL(fileURLWithPath: xdg).appendingPathComponent("mairlab")
        } else {
            root = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/mairlab")
        }
        return ImageCache(directory: root.appendingPathComponent("images"))
    }

    public init(directory: URL) { self.directory = directory }

    /// The cached ELF for `key`, building it with `build` (into a temporary file renamed into
    /// place, so parallel runs never see half an image) when absent.
    func image(forKey key: String, build: (URL) throws -> Void) throws -> URL {
        let target = directory.appendingPathComponent(key + ".elf")
        if FileManager.default.fileExists(atPath: target.path) { return target }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw HarnessError.io("cannot create the image cache \(directory.path): \(systemReason(error))")
        }
        let scratch = directory.appendingPathComponent("\(key).\(ProcessInfo.processInfo.processIdentifier).\(UInt64.random(in: 0...UInt64.max)).tmp.elf")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try build(scratch)
        _ = try? FileManager.default.removeItem(at: target)
        do {
            try FileManager.default.moveItem(at: scratch, to: target)
        } catch where FileManager.default.fileExists(atPath: target.path) {
            // Another process put the same image in place first.
        }
        return target
    }
}

/// A snippet ready to run: manifest parsed, image assembled (or taken from the cache) and read.
public struct LoadedSnippet: Sendable {
    public let snippet: Snippet
    public let manifest: Manifest
    public let image: ELFImage
    public let imageFile: URL
    /// SHA-256 of the assembly source and the manifest: what the snippet *is*. Records with
    /// different hashes are never compared.
    public let hash: String
    let toolchain: Toolchain

    public static func load(_ snippet: Snippet, cache: ImageCache = .standard(), toolchain: Toolchain? = nil) throws -> LoadedSnippet {
        let manifest: Manifest
        do {
            manifest = try Manifest(contentsOf: snippet.manifestFile, displayPath: snippet.displayManifest)
        } catch {
            throw HarnessError.format(error)
        }
        do {
            try SnippetIsolation.check(snippet)
        } catch {
            throw HarnessError.isolation(error)
        }
        let toolchain = try toolchain ?? Toolchain.find()
        let source = try Self.bytes(of: snippet.source, display: snippet.displayPath)
        let manifestBytes = try Self.bytes(of: snippet.manifestFile, display: snippet.displayManifest)
        let includes = try Self.includeBytes(snippet.includeDirectory)
        let hash = SHA256.hexDigest(source + manifestBytes)
        let key = SHA256.hexDigest(source + includes + Array(
            (Toolchain.linkerScript(textAddress: manifest.textAddress, entry: manifest.entry) + toolchain.identity).utf8))
        let file = try cache.image(forKey: key) { output in
            try toolchain.build(source: URL(fileURLWithPath: snippet.displayPath), includeDirectory: snippet.includeDirectory,
                                textAddress: manifest.textAddress, entry: manifest.entry, output: output)
        }
        let image: ELFImage
        do {
            image = try ELFImage(try Self.bytes(of: file, display: file.path))
        } catch let error as ELFError {
            throw HarnessError.image(file: snippet.displayPath, message: "\(error)")
        }
        for segment in image.segments where segment.memorySize > 0 {
            guard manifest.memory.contains(where: { $0.contains(segment.physicalAddress, length: segment.memorySize) }) else {
                throw HarnessError.image(file: snippet.displayPath,
                                         message: "a loadable segment at \(hex(segment.physicalAddress)) (\(segment.memorySize) bytes) lies outside every [[memory]] region of \(snippet.displayManifest)")
            }
        }
        return LoadedSnippet(snippet: snippet, manifest: manifest, image: image, imageFile: file, hash: hash,
                             toolchain: toolchain)
    }

    private static func bytes(of url: URL, display: String) throws -> [UInt8] {
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw HarnessError.io("cannot read \(display): \(systemReason(error))")
        }
    }

    private static func includeBytes(_ directory: URL) throws -> [UInt8] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        return try names.flatMap { name in
            Array(name.utf8) + (try bytes(of: directory.appendingPathComponent(name), display: name))
        }
    }

    /// The instruction at a guest address, disassembled by llvm-objdump when the address lies
    /// in the image (only on a fault, so the process start does not matter).
    func disassemble(at address: UInt64) -> String? {
        guard image.segments.contains(where: { address >= $0.virtualAddress && address < $0.virtualAddress + UInt64($0.bytes.count) }),
              let objdump = toolchain.objdump else { return nil }
        let arguments = ["-d", "--no-show-raw-insn", "--start-address=" + hex(address),
                         "--stop-address=" + hex(address + 4), imageFile.path]
        guard let text = (try? ProcessRunner.run(objdump, arguments))?.stdout else { return nil }
        // The last line reads "<address>: <mnemonic> <operands>".
        guard let line = text.split(separator: "\n").last, let colon = line.firstIndex(of: ":"),
              line[..<colon].trimmingBlanks() == String(address, radix: 16) else { return nil }
        return line[line.index(after: colon)...].split(whereSeparator: { $0 == "\t" || $0 == " " })
            .joined(separator: " ")
    }
}
