import Formats
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The AArch64 assembler and linker used to build guest images: the clang and ld.lld that
/// ship with the Swift toolchain, or Debian's binutils-aarch64-linux-gnu.
public struct Toolchain: Sendable, Equatable {
    public enum Kind: String, Sendable { case llvm, binutils }
    public let kind: Kind
    public let assembler: String
    public let linker: String
    /// Folded into every image's content hash: a different toolchain builds a different image.
    public let identity: String
    /// llvm-objdump, for naming the instruction at a fault site (optional).
    public let objdump: String?

    /// Finds a toolchain on PATH (and beside the running Swift toolchain).
    public static func find(environment: [String: String] = environmentVariables("PATH")) throws -> Toolchain {
        var dirs = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        dirs += ["/opt/swift/usr/bin", "/usr/bin", "/usr/local/bin"]
        func find(_ name: String) -> String? {
            dirs.lazy.map { $0 + "/" + name }.first { access($0, X_OK) == 0 && fileStamp($0) != nil }
        }
        let objdump = find("llvm-objdump")
        if let clang = find("clang"), let lld = find("ld.lld") {
            return Toolchain(kind: .llvm, assembler: clang, linker: lld, identity: "llvm:" + stamp(clang) + stamp(lld), objdump: objdump)
        }
        if let gas = find("aarch64-linux-gnu-as"), let ld = find("aarch64-linux-gnu-ld") {
            return Toolchain(kind: .binutils, assembler: gas, linker: ld, identity: "binutils:" + stamp(gas) + stamp(ld), objdump: objdump)
        }
        throw HarnessError.noToolchain
    }

    /// Path, size and modification time: a tool replaced in place still changes the identity.
    private static func stamp(_ path: String) -> String {
        let stamp = fileStamp(path) ?? (0, 0)
        return "\(path):\(stamp.size):\(stamp.modified);"
    }

    /// Assembles `source` and links it at `textAddress` with entry `entry`, writing `output`.
    /// The assembler's own diagnostics (with the snippet's file and line) become the error.
    func build(source: URL, includeDirectory: URL, textAddress: UInt64, entry: String, output: URL) throws {
        let object = output.deletingPathExtension().appendingPathExtension("o")
        defer { try? FileManager.default.removeItem(at: object) }
        let assemble: [String] = switch kind {
        case .llvm: ["--target=aarch64-none-elf", "-c", "-I", includeDirectory.path, source.path, "-o", object.path]
        case .binutils: ["-I", includeDirectory.path, source.path, "-o", object.path]
        }
        try run(assembler, assemble, failure: { HarnessError.assembly(file: source.path, diagnostics: $0) })
        // A script of our own: the default layout adds a loadable segment for the ELF headers
        // at the linker's image base, outside any memory the manifest declares.
        let script = output.deletingPathExtension().appendingPathExtension("ld")
        defer { try? FileManager.default.removeItem(at: script) }
        let layout = Self.linkerScript(textAddress: textAddress, entry: entry)
        do {
            try layout.write(to: script, atomically: true, encoding: .utf8)
        } catch {
            throw HarnessError.io("cannot write the linker script \(script.path): \(systemReason(error))")
        }
        let link = ["-T", script.path, "-static", object.path, "-o", output.path]
        try run(linker, link, failure: { HarnessError.link(file: source.path, diagnostics: $0) })
    }

    /// The image layout: part of the cache key, so a change of layout rebuilds every image.
    static func linkerScript(textAddress: UInt64, entry: String) -> String {
        """
        ENTRY(\(entry))
        SECTIONS {
          . = 0x\(String(textAddress, radix: 16));
          .text : { *(.text .text.*) }
          .rodata : { *(.rodata .rodata.*) }
          .data : { *(.data .data.*) }
          .bss : { *(.bss .bss.* COMMON) }
        }

        """
    }

    private func run(_ tool: String, _ arguments: [String], failure: (String) -> HarnessError) throws {
        let result = try ProcessRunner.run(tool, arguments)
        if result.status != 0 {
            throw failure((result.stdout + result.stderr).trimmingWhitespace())
        }
    }
}
