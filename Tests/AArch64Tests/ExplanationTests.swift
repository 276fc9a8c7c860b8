import Foundation
import Testing
@testable import AArch64

@Suite("explain and the combining table")
struct ExplanationTests {
    @Test func the2015Case() {
        let explanation = AttributeExplanation.explain(stage1: 0x44, stage2: 0xF, fwb: false)
        #expect(explanation.combined.attribute == MemoryAttribute(mairByte: 0x44))
        #expect(explanation.stage1.attribute == MemoryAttribute(mairByte: 0x44))
        #expect(explanation.stage2.attribute == .normal(inner: .writeBack, outer: .writeBack))
        #expect(explanation.description == """
            Stage 1: MAIR byte 0x44 = Normal Non-cacheable, SH Inner Shareable
            Stage 2: MemAttr 0b1111 (HCR_EL2.FWB = 0) = Normal Write-Back, SH Inner Shareable
            Effective: Normal Non-cacheable, Outer Shareable
            Rule: S1 Normal-NC with S2 Normal-WB: the more restrictive cacheability (NC) wins, per nibble; allocation hints come from stage 1
            Arm ARM pseudocode: S2CombineS1AttrHints
            """)
    }

    @Test func fwbForcesWriteBack() {
        let explanation = AttributeExplanation.explain(stage1: 0x44, stage2: 0x6, fwb: true)
        #expect(explanation.combined.attribute?.encoding == 0xFF)
        #expect(explanation.rule == .forcedWriteBack)
        #expect(explanation.description.contains("Effective: Normal Write-Back RA WA, Outer Shareable"))
    }

    private func json(_ entry: CombiningTableEntry?) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(try #require(entry)), as: UTF8.self)
    }

    @Test func tableEntries() throws {
        let entries = CombiningTableEntry.allEntries(features: .mte2)
        #expect(entries.count == 256 * 16 * 2)
        #expect(Set(entries.map { [$0.s1, $0.s2, $0.fwb ? 1 : 0] }).count == entries.count)
        func entry(_ s1: Int, _ s2: Int, fwb: Bool) -> CombiningTableEntry? {
            entries.first { $0.s1 == s1 && $0.s2 == s2 && $0.fwb == fwb }
        }

        #expect(try json(entry(0x44, 0xF, fwb: false)) == #"{"device":null,"fwb":false,"inner":"nc","outer":"nc","s1":68,"s2":15,"shareability":"outer","type":"normal","unpredictable":false}"#)
        #expect(try json(entry(0x44, 0x6, fwb: true)) == #"{"device":null,"fwb":true,"inner":"wb","outer":"wb","s1":68,"s2":6,"shareability":"outer","type":"normal","unpredictable":false}"#)
        #expect(try json(entry(0xFF, 0x1, fwb: false)) == #"{"device":"nGnRE","fwb":false,"inner":null,"outer":null,"s1":255,"s2":1,"shareability":"outer","type":"device","unpredictable":false}"#)
        #expect(try json(entry(0xFF, 0xE, fwb: false)) == #"{"device":null,"fwb":false,"inner":"wt","outer":"wb","s1":255,"s2":14,"shareability":"inner","type":"normal","unpredictable":false}"#)
        #expect(try json(entry(0xF0, 0xF, fwb: false)) == #"{"device":null,"fwb":false,"inner":"wb","outer":"wb","s1":240,"s2":15,"shareability":"inner","type":"normal","unpredictable":false}"#)
        #expect(try json(entry(0x02, 0xF, fwb: false)) == #"{"device":null,"fwb":false,"inner":null,"outer":null,"s1":2,"s2":15,"shareability":null,"type":null,"unpredictable":true}"#)
        #expect(try json(entry(0xFF, 0x9, fwb: true)) == #"{"device":null,"fwb":true,"inner":null,"outer":null,"s1":255,"s2":9,"shareability":null,"type":null,"unpredictable":true}"#)
        // An UNPREDICTABLE row carries nothing a script could read as a defined result.
        #expect(entries.filter(\.unpredictable).allSatisfy {
            $0.type == nil && $0.shareability == nil && $0.inner == nil && $0.outer == nil && $0.device == nil
        })
        // Without FEAT_MTE2 (the emulated CPUs), 0xF0 is UNPREDICTABLE in every row.
        let plain = CombiningTableEntry.allEntries()
        #expect(plain.filter { $0.s1 == 0xF0 }.allSatisfy { $0.unpredictable })
        #expect(plain.filter { $0.s1 != 0xF0 } == entries.filter { $0.s1 != 0xF0 })

        let decoded = try JSONDecoder().decode([CombiningTableEntry].self, from: JSONEncoder().encode(entries))
        #expect(decoded == entries)
    }
}
