import CUnicorn
import Formats
import Harness

/// The control: a workload's ELF run by Unicorn from C (raw.h), with at most the one hook the
/// workload needs, in this process.
struct RawRun {
    enum Hook { case none, block, msr }

    struct Result {
        let nanoseconds: UInt64
        let hooks: UInt64
        let mmioAccesses: UInt64
    }

    let loaded: LoadedSnippet
    let until: UInt64
    let mmio: (base: UInt64, size: UInt64)?

    init(_ loaded: LoadedSnippet, mmio: (base: UInt64, size: UInt64)? = nil) throws {
        guard let end = loaded.image.symbols.first(where: { $0.name == "bench_end" }) else {
            throw BenchError("workload \(loaded.snippet.name) has no bench_end symbol")
        }
        self.loaded = loaded
        until = end.value
        self.mmio = mmio
    }

    func run(hook: Hook = .none) throws -> Result {
        let ram = loaded.manifest.memory[0]
        let segments = loaded.image.segments.filter { !$0.bytes.isEmpty }
        let result: mairlab_raw_result = withSegments(segments) { raw in
            var spec = mairlab_raw_spec()
            spec.ram_base = ram.base
            spec.ram_size = ram.size
            spec.segment_count = UInt32(raw.count)
            spec.entry = loaded.image.entry
            spec.until = until
            spec.stack_pointer = ram.base + ram.size
            spec.mmio_base = mmio?.base ?? 0
            spec.mmio_size = mmio?.size ?? 0
            spec.hook_block = hook == .block ? 1 : 0
            spec.hook_msr = hook == .msr ? 1 : 0
            return raw.withUnsafeBufferPointer { buffer in
                spec.segments = buffer.baseAddress
                return mairlab_raw_run(&spec)
            }
        }
        guard result.error == 0 else {
            throw BenchError("raw Unicorn run of \(loaded.snippet.name) failed: uc_err \(result.error)")
        }
        guard result.pc == until else {
            throw BenchError("raw Unicorn run of \(loaded.snippet.name) stopped at \(Workload.hex(result.pc)), not at bench_end")
        }
        return Result(nanoseconds: result.setup_ns + result.run_ns, hooks: result.blocks + result.msr_hooks,
                      mmioAccesses: result.mmio_accesses)
    }

    /// The segments as C sees them, their bytes pinned for the duration of `body`.
    private func withSegments<R>(_ segments: [ELFImage.Segment], _ body: ([mairlab_raw_segment]) -> R) -> R {
        var pinned: [UnsafeMutableRawBufferPointer] = []
        defer { pinned.forEach { $0.deallocate() } }
        let raw = segments.map { segment -> mairlab_raw_segment in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: segment.bytes.count, alignment: 16)
            buffer.copyBytes(from: segment.bytes)
            pinned.append(buffer)
            return mairlab_raw_segment(address: segment.physicalAddress, bytes: buffer.baseAddress,
                                       size: UInt64(segment.bytes.count))
        }
        return body(raw)
    }
}

public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
