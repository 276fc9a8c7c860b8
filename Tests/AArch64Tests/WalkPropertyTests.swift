import Testing
@testable import AArch64

/// A fixed-seed generator (xorshift64*), so every run walks the same tables.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 { state ^= state >> 12; state ^= state << 25; state ^= state >> 27; return state &* 0x2545_F491_4F6C_DD1D }
}

/// Random table memory: every 8-byte word is a function of its address and a seed, biased
/// towards table, block and page descriptors with small output addresses (so walks go deep),
/// with invalid words, addresses beyond 48 bits, AF = 0 and bus errors mixed in. Counts reads.
final class RandomTables: TranslationTableReader {
    struct BusError: Error {}
    let seed: UInt64
    private(set) var reads = 0

    init(seed: UInt64) { self.seed = seed }

    func readDescriptor(at physicalAddress: UInt64) throws -> UInt64 {
        reads += 1
        var generator = SeededGenerator(state: (seed ^ physicalAddress &* 0x9E37_79B9_7F4A_7C15) | 1)
        let raw = generator.next()
        let choice = raw % 100
        if choice < 3 { throw BusError() }
        // Output/next-table address: mostly below 4 GB, sometimes anywhere in bits [51:12].
        let address = choice < 10 ? generator.next() & UInt64.mask(51, 12) : generator.next() & UInt64.mask(31, 12)
        let type: UInt64 = choice < 55 ? 0b11 : choice < 80 ? 0b01 : raw >> 8 & 0b11
        let upper = generator.next() & (UInt64.mask(63, 52) | UInt64.mask(11, 2))
        return upper | address | type
    }
}

/// Random registers and tables through both walks: each translation ends in a typed fault or
/// a result, reads at most the levels from its start level to 3, and whatever it returns obeys
/// the 4KB-granule format (Arm ARM, VMSAv8-64 translation table format). Crashes and endless
/// walks would stop the test process; the bounds are checked explicitly.
@Suite struct WalkPropertyTests {
    static let sizes: [Int] = [32, 36, 40, 42, 44, 48, 52]

    /// IPS/PS as the Arm ARM encodes it, bounded by PARange and by 48 bits with the 4KB granule;
    /// the reserved 0b111 behaves as PARange.
    static func outputSize(_ encoding: UInt64, implemented: PhysicalAddressSize) -> Int {
        min(encoding < 7 ? sizes[Int(encoding)] : implemented.bits, implemented.bits, 48)
    }

    /// Half the values entirely random, half with a valid-looking TxSZ and the 4KB granule.
    static func register(_ generator: inout SeededGenerator, structured: (inout SeededGenerator) -> UInt64) -> UInt64 {
        Bool.random(using: &generator) ? generator.next() : structured(&generator)
    }

    static func virtualAddress(_ generator: inout SeededGenerator) -> UInt64 {
        let low = generator.next() & UInt64.mask(47, 0)
        return switch generator.next() % 4 {
        case 0: generator.next()
        case 1: low | 0xFFFF_0000_0000_0000
        default: low & UInt64.mask(Int.random(in: 20...47, using: &generator), 0)
        }
    }

    /// What a result or a fault must satisfy, from the format; the problem found, or nil.
    static func checkLeaf(level: Int, blockSize: UInt64, descriptor: UInt64, addresses: [UInt64], reads: Int,
                          output: UInt64, input: UInt64, outputSize: Int, startLevel: Int) -> String? {
        if !(1...3).contains(level) { return "leaf at level \(level)" }
        if blockSize != 1 << UInt64(12 + 9 * (3 - level)) { return "block size \(blockSize) at level \(level)" }
        if addresses.count != reads || reads > 4 - startLevel || reads != level - startLevel + 1 { return "\(reads) reads for level \(level)" }
        if addresses.contains(where: { $0 & 7 != 0 }) { return "unaligned descriptor address" }
        if descriptor & 1 == 0 || descriptor >> 10 & 1 == 0 { return "leaf invalid or AF = 0" }
        if descriptor & 0b11 != (level == 3 ? 0b11 : 0b01) { return "leaf type \(descriptor & 0b11) at level \(level)" }
        if output >> UInt64(outputSize) != 0 { return "output 0x\(String(output, radix: 16)) beyond \(outputSize) bits" }
        if output & (blockSize - 1) != input & (blockSize - 1) { return "offset in block not kept" }
        return nil
    }

    static func checkFault(_ error: TranslationError, reads: Int, startLevel: Int?, granuleField: String?) -> String? {
        switch error {
        case .fault(let fault):
            if fault.descriptorAddresses.count != reads { return "fault lists \(fault.descriptorAddresses.count) of \(reads) reads" }
            if reads > 4 - (startLevel ?? 0) { return "\(reads) reads before a fault" }
            if reads == 0 && fault.level != 0 { return "level \(fault.level) fault without a read" }
            if let startLevel, reads > 0, fault.level != startLevel + reads - 1 { return "fault level \(fault.level) after \(reads) reads" }
            if Int(fault.faultStatusCode & 0b11) != fault.level & 0b11 { return "FSC level bits" }
            return nil
        case .unsupportedGranule(let field, _):
            return field == granuleField && reads == 0 ? nil : "unsupported granule \(field), expected \(granuleField ?? "none")"
        }
    }

    /// What one translation returned, for the checks.
    enum Returned {
        case leaf(level: Int, blockSize: UInt64, descriptor: UInt64, addresses: [UInt64], output: UInt64)
        case problem(String)
    }

    /// Results, faults and problems over many translations.
    struct Tally {
        var results = 0, faults = 0
        var problems: [String] = []

        mutating func record(_ round: Int, tables: RandomTables, startLevel: Int?, granuleField: String?, input: UInt64,
                             outputSize: Int, _ body: () throws(TranslationError) -> Returned?) {
            let problem: String?
            do {
                let returned = try body()
                results += 1
                switch returned {
                case .leaf(let level, let blockSize, let descriptor, let addresses, let output):
                    problem = WalkPropertyTests.checkLeaf(level: level, blockSize: blockSize, descriptor: descriptor, addresses: addresses,
                                        reads: tables.reads, output: output, input: input, outputSize: outputSize,
                                        startLevel: startLevel ?? -1)
                case .problem(let text): problem = text
                case nil: problem = nil
                }
            } catch {
                faults += 1
                problem = WalkPropertyTests.checkFault(error, reads: tables.reads, startLevel: startLevel, granuleField: granuleField)
            }
            if let problem { problems.append("round \(round): \(problem)") }
        }

        /// No problem, and both ends exercised, so the bounds were checked on real walks.
        func expectClean(sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(problems.isEmpty, "\(problems.count) problems, first: \(problems.prefix(5))", sourceLocation: sourceLocation)
            #expect(results > 500 && faults > 500, "\(results) results, \(faults) faults", sourceLocation: sourceLocation)
        }
    }

    @Test func randomStage1Walks() {
        var generator = SeededGenerator(state: 0x5131)
        var tally = Tally()
        for round in 0..<20_000 {
            let tcr = Self.register(&generator) { g in
                UInt64.random(in: 12...44, using: &g) | UInt64.random(in: 12...44, using: &g) << 16 | 0b10 << 30
                    | (g.next() & (1 << 7 | 1 << 23 | 1 << 37 | 1 << 38 | 1 << 41 | 1 << 42)) | (g.next() % 8) << 32
            }
            let sctlr: UInt64 = generator.next() % 10 == 0 ? generator.next() : generator.next() | 1
            let hcr: UInt64 = generator.next() % 10 == 0 ? 1 << 12 : 0
            let implemented = PhysicalAddressSize.allCases.randomElement(using: &generator)!
            let walker = Stage1Walker(tcrEL1: tcr, ttbr0EL1: generator.next() & UInt64.mask(35, 0), ttbr1EL1: generator.next(),
                                      sctlrEL1: sctlr, mairEL1: generator.next(), hcrEL2: hcr, physicalAddressRange: implemented)
            let va = Self.virtualAddress(&generator)
            let tables = RandomTables(seed: UInt64(round))
            // From TCR_EL1 directly: VA bit 55 selects TTBR1 (TG1 0b10 is 4KB) or TTBR0 (TG0 0b00).
            let upper = va >> 55 & 1 == 1
            let txsz = upper ? tcr >> 16 & 0x3F : tcr & 0x3F
            let granuleField = upper ? (tcr >> 30 & 3 == 0b10 ? nil : "TCR_EL1.TG1") : (tcr >> 14 & 3 == 0 ? nil : "TCR_EL1.TG0")
            let inputSize = 64 - Int(txsz)
            let startLevel = inputSize > 39 ? 0 : inputSize > 30 ? 1 : 2
            let outputSize = Self.outputSize(tcr >> 32 & 7, implemented: implemented)
            tally.record(round, tables: tables, startLevel: startLevel, granuleField: granuleField, input: va, outputSize: outputSize) { () throws(TranslationError) -> Returned? in
                let translation = try walker.translate(va, access: round % 3 == 0 ? .instructionFetch : .data, reader: tables)
                guard let walk = translation.walk else {
                    // A flat map: stage 1 off, nothing read.
                    return tables.reads == 0 && !walker.isTranslationEnabled ? nil : .problem("flat map with reads or M = 1")
                }
                guard walk.attrIndx == Int(walk.descriptor >> 2 & 7) else { return .problem("AttrIndx") }
                return .leaf(level: walk.level, blockSize: walk.blockSize, descriptor: walk.descriptor,
                             addresses: walk.descriptorAddresses, output: translation.outputAddress)
            }
        }
        tally.expectClean()
    }

    @Test func randomStage2Walks() {
        var generator = SeededGenerator(state: 0x5132)
        var tally = Tally()
        for round in 0..<20_000 {
            // Structured: SL0 and T0SZ that agree (AArch64.S2InconsistentSL), an IPA within T0SZ.
            let level = Int(generator.next() % 3)
            let inputSize = 12 + 9 * (3 - level) + 1 + Int(generator.next() % 13)
            let vtcr = Self.register(&generator) { g in
                UInt64(64 - inputSize) | UInt64([0b10, 0b01, 0b00][level]) << 6 | (g.next() % 8) << 16
            }
            let implemented = PhysicalAddressSize.allCases.randomElement(using: &generator)!
            let walker = Stage2Walker(vtcrEL2: vtcr, vttbrEL2: generator.next() % 2 == 0 ? generator.next() : generator.next() & UInt64.mask(35, 0),
                                      physicalAddressRange: implemented)
            let ipa = generator.next() & UInt64.mask(generator.next() % 8 == 0 ? 50 : min(inputSize, 48) - 1, 0)
            let tables = RandomTables(seed: UInt64(round) << 20)
            let granuleField = vtcr >> 14 & 3 == 0 ? nil : "VTCR_EL2.TG0"
            // SL0 with the 4KB granule: 0b00 level 2, 0b01 level 1, 0b10 level 0.
            let startLevel: Int? = [2, 1, 0, nil][Int(vtcr >> 6 & 3)]
            let outputSize = Self.outputSize(vtcr >> 16 & 7, implemented: implemented)
            tally.record(round, tables: tables, startLevel: startLevel, granuleField: granuleField, input: ipa, outputSize: outputSize) { () throws(TranslationError) -> Returned? in
                let translation = try walker.translate(ipa, reader: tables)
                return .leaf(level: translation.level, blockSize: translation.blockSize, descriptor: translation.descriptor,
                             addresses: translation.descriptorAddresses, output: translation.outputAddress)
            }
        }
        tally.expectClean()
    }

    /// The combined resolver over random registers, tables and stage 2 attributes: an output
    /// address exactly when there is no fault.
    @Test func randomResolvedAccesses() {
        var generator = SeededGenerator(state: 0x5133)
        var inconsistent = 0
        for round in 0..<5_000 {
            var registers = TranslationRegisters(sctlr: generator.next(), tcr: generator.next() & ~(3 << 14) | 0b10 << 30,
                                                 ttbr0: generator.next() & UInt64.mask(35, 0), ttbr1: generator.next(),
                                                 mair: generator.next(), hcr: generator.next() % 4 == 0 ? 1 << 12 : 0)
            registers.features = round % 2 == 0 ? [] : [.xs, .mte2]
            let stage2 = Stage2Attributes(memAttr: UInt8(generator.next() % 16), fwb: round % 3 == 0,
                                          shareability: Shareability(sh: UInt8(generator.next() % 4)))
            let access = AttributeResolver.resolve(Self.virtualAddress(&generator), registers: registers,
                                                   tables: RandomTables(seed: UInt64(round) << 40), stage2: stage2)
            if (access.fault == nil) != (access.outputAddress != nil) { inconsistent += 1 }
        }
        #expect(inconsistent == 0)
    }
}
