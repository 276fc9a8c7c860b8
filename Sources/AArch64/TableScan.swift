// Scanning a guest's stage 1 tables for the attribute indices its live descriptors use (for
// a hypervisor that rewrites only the MAIR_EL1 indices in use). 4KB granule only.

extension Stage1Walker {
    /// The AttrIndx values of every valid block and page descriptor reachable from TTBR0_EL1
    /// and TTBR1_EL1 (each range whose walks TCR_EL1.EPDx allows), reading at most `limit`
    /// descriptors; nil when stage 1 is disabled or the tables are larger than that.
    public func attributeIndicesInUse(reader: some TranslationTableReader, limit: Int = 1 << 16) -> Set<Int>? {
        guard isTranslationEnabled else { return nil }
        var found: Set<Int> = []
        var budget = limit
        let ranges: [(ttbr: UInt64, txsz: UInt64, disabled: Bool, granule4KB: Bool)] = [
            (ttbr0EL1, tcrEL1.bits(5, 0), tcrEL1.bit(7), tcrEL1.bits(15, 14) == 0b00),
            (ttbr1EL1, tcrEL1.bits(21, 16), tcrEL1.bit(23), tcrEL1.bits(31, 30) == 0b10),
        ]
        for range in ranges where !range.disabled && range.granule4KB && TableWalk.validTxSZ.contains(range.txsz) {
            let inputSize = 64 - Int(range.txsz)
            let startLevel = 4 - (inputSize - 4) / 9
            let entries = 1 << (inputSize - TableWalk.levelShift(startLevel))
            let base = range.ttbr & UInt64.mask(47, 12)
            guard scan(base, level: startLevel, entries: entries, reader: reader, budget: &budget, into: &found) else {
                return nil
            }
        }
        return found
    }

    private func scan(_ table: UInt64, level: Int, entries: Int, reader: some TranslationTableReader,
                      budget: inout Int, into found: inout Set<Int>) -> Bool {
        for index in 0..<entries {
            budget -= 1
            guard budget >= 0 else { return false }
            guard let descriptor = try? reader.readDescriptor(at: table + UInt64(index) * 8), descriptor.bit(0) else { continue }
            let isTable = descriptor.bit(1) && level < 3
            if isTable {
                guard scan(descriptor & UInt64.mask(47, 12), level: level + 1, entries: 512, reader: reader,
                           budget: &budget, into: &found) else { return false }
            } else if descriptor.bit(1) ? level == 3 : (level == 1 || level == 2) {
                found.insert(Int(descriptor.bits(4, 2)))
            }
        }
        return true
    }
}
