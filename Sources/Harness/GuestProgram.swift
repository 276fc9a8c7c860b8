import Formats
import Unicorn

/// What one execution runs: a snippet (its manifest and assembled ELF) or an image booted on
/// the virt-like board. The run machinery (hooks, traps, budget) is the same for both; this is
/// what differs.
protocol GuestProgram {
    /// The instruction budget and the wall-clock safety net, unless the options override them.
    var budget: Int { get }
    var timeoutMilliseconds: Int { get }
    /// The VM's RAM in MiB: what a stage-2 flush (`stage2_flush_vm`) cleans, so what it costs.
    var memoryMiB: Double { get }
    /// Maps memory and loads the image (before any hook is installed).
    func build(_ machine: Machine) throws(UnicornError)
    /// Where execution starts.
    func entry() throws -> UInt64
    /// A guest PC as reports name it.
    func symbolize(_ pc: UInt64) -> String
    /// The instruction at a guest PC, when it can be disassembled.
    func disassemble(at pc: UInt64) -> String?
}

extension LoadedSnippet: GuestProgram {
    var budget: Int { manifest.budget }
    var timeoutMilliseconds: Int { manifest.timeoutMilliseconds }
    var memoryMiB: Double { Double(manifest.memory.reduce(0) { $0 + $1.size }) / Double(1 << 20) }

    func build(_ machine: Machine) throws(UnicornError) { try Platform.build(machine, for: self) }

    func entry() throws -> UInt64 {
        guard let entry = image.symbol(named: manifest.entry)?.value else {
            throw HarnessError.format(manifest.entryField.error("no symbol '\(manifest.entry)' in \(snippet.displayPath)"))
        }
        return entry
    }

    func symbolize(_ pc: UInt64) -> String { image.symbolize(pc) }
}
