import Foundation
import Formats
import Testing
import Unicorn
@testable import Harness

/// Random instruction words as a guest: each run ends in an outcome (completed, a guest fault,
/// the budget), never a harness error, a crash or the wall-clock net. One guest is assembled
/// from a `.S` whose slot is a `.word`; every other word is patched into a copy of its image,
/// so each word is executed (a fault ends a run, so one word per run) without assembling it.
///
/// `MAIRLAB_RANDOM_WORDS=N swift test --skip-build --filter RandomGuestTests` runs N words per
/// seed instead of the CI default (docs/reliability.md has the longer run's numbers).
@Suite struct RandomGuestTests {
    static let longer = ProcessInfo.processInfo.environment["MAIRLAB_RANDOM_WORDS"].flatMap { Int($0) }
    static let wordsPerSeed = longer ?? 60
    /// Words whose translation made Unicorn 2.0.1 abort the whole process in a long run (QEMU's
    /// `g_assert_not_reached` on unallocated FP16 encodings, docs/reliability.md): skipped here;
    /// the harness refuses them (TranslatorAborts, checked below); `MAIRLAB_RANDOM_SKIP=0x...`
    /// adds more.
    static let unicornAborts: Set<UInt32> = Set([
        0x2EF9_88D9, 0x2E79_4926, 0x7E78_28DC, 0x2E78_3B4E, 0x6EF9_8810, 0x4EF8_9BFD,  // two-reg misc
        0x2E47_0E36, 0x0ED2_2F2C, 0x6ED9_0F20, 0x4EC4_2FB9, 0x4EC4_1F32, 0x2EC7_0CA4,  // three-reg same
    ] +
        (ProcessInfo.processInfo.environment["MAIRLAB_RANDOM_SKIP"] ?? "").split(separator: ",").compactMap { UInt32($0.dropFirst(2), radix: 16) })
    /// Two words the guest branches over, marking the slot in the image file.
    static let marker: [UInt8] = [0x52, 0x49, 0x41, 0x4D, 0x50, 0x4F, 0x52, 0x50]

    /// Registers point into RAM, so that random loads and stores often hit memory, and the
    /// budget is small, so that a random backward branch ends soon.
    static func guest(firstWord: UInt32) throws -> LoadedSnippet {
        let registers = (0...28).map { "        ldr     x\($0), =\(0x4010_0000 + $0 * 0x1000)" }.joined(separator: "\n")
        let snippet = try Fixtures.snippet("random", """
            \(registers)
                    b       slot
                    .word   0x4d414952, 0x50524f50
            slot:   .word   0x\(String(firstWord, radix: 16))
                    mairlab_end 0
            """, manifest: Fixtures.defaultManifest.replacingOccurrences(of: "budget = 10_000", with: "budget = 2_000"))
        return try Fixtures.load(snippet)
    }

    /// The guest with `word` in its slot, and no disassembler (a fault would otherwise run
    /// llvm-objdump once per word).
    static func patched(_ loaded: LoadedSnippet, file: [UInt8], slot: Int, word: UInt32) throws -> LoadedSnippet {
        var bytes = file
        for index in 0..<4 { bytes[slot + index] = UInt8(truncatingIfNeeded: word >> (8 * UInt32(index))) }
        let toolchain = Toolchain(kind: loaded.toolchain.kind, assembler: loaded.toolchain.assembler,
                                  linker: loaded.toolchain.linker, identity: loaded.toolchain.identity, objdump: nil)
        return LoadedSnippet(snippet: loaded.snippet, manifest: loaded.manifest, image: try ELFImage(bytes),
                             imageFile: loaded.imageFile, hash: loaded.hash, toolchain: toolchain)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func randomWordsEndInAnOutcome(seed: UInt64) throws {
        var generator = SeededGenerator(state: seed &* 0x9E37_79B9_7F4A_7C15)
        let words = (0..<Self.wordsPerSeed).map { _ in UInt32(truncatingIfNeeded: generator.next()) }
        let loaded = try Self.guest(firstWord: words[0])
        let file = [UInt8](try Data(contentsOf: loaded.imageFile))
        let marks = (0...(file.count - 12)).filter { Array(file[$0..<($0 + 8)]) == Self.marker }
        try #require(marks.count == 1)
        var statuses: [Outcome.Status: Int] = [:]
        for word in words where !Self.unicornAborts.contains(word) && !TranslatorAborts.contains(word) {
            // A longer run names each word first, unbuffered: if the process dies, the last
            // line names the word that killed it.
            if Self.longer != nil { FileHandle.standardError.write(Data("seed \(seed) word 0x\(String(word, radix: 16))\n".utf8)) }
            let report = try Runner.run(Self.patched(loaded, file: file, slot: marks[0] + 8, word: word), options: RunOptions())
            statuses[report.outcome.status, default: 0] += 1
            #expect(report.outcome.status != .timedOut, "word 0x\(String(word, radix: 16))")
            // The slot word ran: the prologue is 29 loads and a branch.
            #expect(report.guestInstructions >= 31 || report.outcome.status == .guestFault, "word 0x\(String(word, radix: 16))")
        }
        #expect(statuses.values.reduce(0, +) == words.filter { !Self.unicornAborts.contains($0) && !TranslatorAborts.contains($0) }.count)
        // The words that abort Unicorn's translator are refused before they run, named.
        for word in words where TranslatorAborts.contains(word) {
            #expect(throws: HarnessError.self) { try Runner.run(Self.patched(loaded, file: file, slot: marks[0] + 8, word: word), options: RunOptions()) }
        }
        // Random words are mostly unallocated or fault; some run on to the end.
        #expect(statuses[.guestFault, default: 0] > 0 && statuses[.completed, default: 0] > 0, "\(statuses)")
    }
}

/// A fixed-seed generator (xorshift64*), so every run tries the same words.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 { state ^= state >> 12; state ^= state << 25; state ^= state >> 27; return state &* 0x2545_F491_4F6C_DD1D }
}

/// The refusal's table against the words a long random run found killing the process (found
/// before the table existed, by a different method): every one of them is in it.
@Suite struct TranslatorAbortTests {
    @Test func everyWordThatKilledTheProcessIsRefused() {
        for word in RandomGuestTests.unicornAborts { #expect(TranslatorAborts.contains(word), "0x\(String(word, radix: 16))") }
        // Allocated FP16 instructions still run: FRINTN v0.8h, v1.8h (0x4E798820), FADD v0.8h (0x4E411400).
        #expect(!TranslatorAborts.contains(0x4E79_8820))
        #expect(!TranslatorAborts.contains(0x4E41_1400))
    }

    @Test func aSnippetHoldingSuchAWordIsRefusedNamingTheSite() throws {
        let snippet = try Fixtures.snippet("fp16", "        nop\nbad:    .word 0x2ef988d9\n        mairlab_end 0")
        #expect {
            try Fixtures.run(snippet)
        } throws: { error in
            (error as? HarnessError)?.description.contains("the word 0x2ef988d9 at bad is an unallocated AdvSIMD FP16 encoding (UNDEFINED), whose translation aborts Unicorn 2.0.1: not run") == true
        }
    }
}
