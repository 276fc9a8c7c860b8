import AArch64
import ArgumentParser
import Formats
import FoundationEssentials

extension Mairlab {
    /// `mairlab explain`: how a stage-1 MAIR attribute and a stage-2 MemAttr combine.
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "explain", _superCommandName: "mairlab",
            abstract: "Decode a stage-1 MAIR attribute and a stage-2 MemAttr and show what they combine to, and why.",
            discussion: """
                Examples:
                  mairlab explain --s1 0x44 --s2 0xf          # the 2015 problem: Normal-NC wins
                  mairlab explain --s1 0x44 --s2 0x6 --fwb    # FEAT_S2FWB forces Write-Back
                  mairlab explain --mair 0x000000FF440C0400 --index 3 --s2 0xf
                  mairlab explain --table --json              # all 256 x 16 x 2 combinations
                Both stages are taken as Inner Shareable (Device and Non-cacheable results are Outer).
                """)

        @Option(help: "Stage-1 attribute: a MAIR byte (0x00-0xff).", transform: parseByte)
        var s1: UInt8?

        @Option(help: "A whole MAIR_EL1 value; with --index, the attribute it selects.", transform: parseUInt64)
        var mair: UInt64?

        @Option(help: "AttrIndx (0-7) into --mair.")
        var index: Int?

        @Option(help: "Stage-2 MemAttr[3:0] (0x0-0xf; with --fwb, MemAttr[2:0] and bit 3 RES0).", transform: parseByte)
        var s2: UInt8 = 0xF

        @Flag(help: "HCR_EL2.FWB = 1 (FEAT_S2FWB).")
        var fwb = false

        @Option(help: "The PE's features MAIR bytes are decoded with: mte2 (0xF0 is Tagged Normal), xs (the XS forms), comma-separated; default none, as the emulated CPUs.",
                transform: { text in
                    guard let features = CPUFeatures(names: text) else {
                        throw ValidationError("'\(text)' names no known feature (mte2, xs)")
                    }
                    return features
                })
        var features: CPUFeatures = []

        @Flag(help: "Every stage-1 byte x stage-2 MemAttr x FWB combination.")
        var table = false

        @Flag(help: "JSON: one object (or, with --table, one array of objects).")
        var json = false

        func validate() throws {
            if table {
                guard s1 == nil, mair == nil, index == nil else {
                    throw ValidationError("--table takes no --s1, --mair or --index")
                }
                return
            }
            switch (s1, mair, index) {
            case (.some, nil, nil), (nil, .some, .some): break
            case (nil, .some, nil): throw ValidationError("--mair needs --index (the AttrIndx, 0-7)")
            case (nil, nil, _): throw ValidationError("give --s1 BYTE, or --mair VALUE --index N, or --table")
            default: throw ValidationError("give either --s1 or --mair with --index, not both")
            }
            if let index, !(0...7).contains(index) { throw ValidationError("--index must be 0-7 (AttrIndx is 3 bits)") }
            if s2 > 0xF { throw ValidationError("--s2 must be 0x0-0xf (stage-2 MemAttr is 4 bits)") }
        }

        func run() throws {
            let console = Console.current
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            if table {
                let entries = CombiningTableEntry.allEntries(features: features)
                if json {
                    console.output(String(decoding: try encoder.encode(entries), as: UTF8.self))
                } else {
                    for entry in entries { console.output(Self.line(entry)) }
                }
                return
            }
            let byte = s1 ?? MAIR(rawValue: mair!).byte(attrIndx: index!)
            let explanation = AttributeExplanation.explain(stage1: byte, stage2: s2, fwb: fwb, features: features)
            if json {
                let entry = ExplainedEntry(entry: CombiningTableEntry(explanation: explanation),
                                           rule: explanation.rule.description, pseudocode: explanation.rule.pseudocode)
                console.output(String(decoding: try encoder.encode(entry), as: UTF8.self))
            } else {
                if let mair, let index {
                    console.output("MAIR_EL1 \(cFormat("0x%016llx", mair)) AttrIndx \(index) selects 0x\(cFormat("%02x", byte))")
                }
                console.output(explanation.description)
            }
        }

        /// One table row for a terminal.
        static func line(_ e: CombiningTableEntry) -> String {
            let result = e.unpredictable ? "UNPREDICTABLE"
                : e.type == "device" ? "Device-\(e.device ?? "?")"
                : "Normal inner \(e.inner ?? "?") outer \(e.outer ?? "?")"
            return cFormat("s1 0x%02lx  s2 0x%lx  fwb %d  ", e.s1, e.s2, Int32(e.fwb ? 1 : 0))
                + result + (e.shareability.map { "  \($0)-shareable" } ?? "")
        }
    }
}

func parseUInt64(_ text: String) throws -> UInt64 {
    let cleaned = text.replacing("_", with: "").lowercased()
    let value = cleaned.hasPrefix("0x") ? UInt64(cleaned.dropFirst(2), radix: 16)
        : cleaned.hasPrefix("0b") ? UInt64(cleaned.dropFirst(2), radix: 2) : UInt64(cleaned)
    guard let value else { throw ValidationError("'\(text)' is not a number (decimal, 0x hex or 0b binary)") }
    return value
}

func parseByte(_ text: String) throws -> UInt8 {
    let value = try parseUInt64(text)
    guard value <= 0xFF else { throw ValidationError("'\(text)' does not fit in a byte") }
    return UInt8(value)
}

/// One combination with the rule that decided it: the table entry's fields and two more, in one
/// JSON object (both encodings write into the same keyed container).
private struct ExplainedEntry: Encodable {
    let entry: CombiningTableEntry
    let rule: String
    let pseudocode: String

    private enum Key: String, CodingKey { case rule, pseudocode }

    func encode(to encoder: any Encoder) throws {
        try entry.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(rule, forKey: .rule)
        try container.encode(pseudocode, forKey: .pseudocode)
    }
}
