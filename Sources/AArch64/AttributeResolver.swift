// The effective attribute of an EL1&0 data access: the guest's stage 1 (its walk, or the
// defaults when stage 1 is disabled) combined with the hypervisor's stage 2 (Arm ARM,
// "Combining the stage 1 and stage 2 attributes"; pseudocode AArch64.S1Translate and
// S2CombineS1MemAttrs).

/// Reads the EL1 translation registers as they stand now (an emulator, a snapshot, a test).
public protocol TranslationRegisterReader {
    func read(_ register: SystemRegister) -> UInt64
}

/// The registers a stage 1 translation depends on.
public struct TranslationRegisters: Hashable, Sendable {
    public var sctlr, tcr, ttbr0, ttbr1, mair, hcr: UInt64
    /// The PE's features, for decoding MAIR bytes.
    public var features: CPUFeatures = []

    public init(sctlr: UInt64, tcr: UInt64, ttbr0: UInt64, ttbr1: UInt64, mair: UInt64, hcr: UInt64 = 0) {
        self.sctlr = sctlr
        self.tcr = tcr
        self.ttbr0 = ttbr0
        self.ttbr1 = ttbr1
        self.mair = mair
        self.hcr = hcr
    }

    public init(_ reader: some TranslationRegisterReader) {
        self.init(sctlr: reader.read(.sctlrEL1), tcr: reader.read(.tcrEL1), ttbr0: reader.read(.ttbr0EL1),
                  ttbr1: reader.read(.ttbr1EL1), mair: reader.read(.mairEL1))
    }

    public var stage1: Stage1Walker {
        Stage1Walker(tcrEL1: tcr, ttbr0EL1: ttbr0, ttbr1EL1: ttbr1, sctlrEL1: sctlr, mairEL1: mair, hcrEL2: hcr,
                     features: features)
    }
}

/// What an access resolves to.
public struct ResolvedAccess: Hashable, Sendable {
    /// The output address of stage 1 (an IPA under stage 2), or nil when the walk faulted.
    public let outputAddress: UInt64?
    public let stage1: Stage1Attributes
    public let combined: CombinedAttributes
    /// The fault the walk reported, when it did.
    public let fault: TranslationError?
}

public enum AttributeResolver {
    /// Resolves a data access to `virtualAddress` under `stage2`. When the walk faults, stage 1
    /// is taken as disabled and the fault is returned with the result, for the caller to judge.
    public static func resolve(_ virtualAddress: UInt64, access: AccessKind = .data, registers: TranslationRegisters,
                               tables: some TranslationTableReader, stage2: Stage2Attributes) -> ResolvedAccess {
        let walker = registers.stage1
        var stage1 = Stage1Attributes.translationDisabled(access: access, sctlrEL1: registers.sctlr, hcrEL2: registers.hcr)
        var output: UInt64? = virtualAddress
        var fault: TranslationError?
        if walker.isTranslationEnabled {
            do {
                let translation = try walker.translate(virtualAddress, access: access, reader: tables)
                stage1 = translation.attributes
                output = translation.outputAddress
            } catch {
                fault = error
                output = nil
            }
        }
        return ResolvedAccess(outputAddress: output, stage1: stage1,
                              combined: AttributeCombiner.combine(stage1: stage1, stage2: stage2), fault: fault)
    }
}
