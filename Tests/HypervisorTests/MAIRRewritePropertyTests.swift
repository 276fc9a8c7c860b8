import AArch64
import Testing
@testable import Hypervisor

/// A fixed-seed generator (xorshift64*), so every run checks the same values.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 { state ^= state >> 12; state ^= state << 25; state ^= state >> 27; return state &* 0x2545_F491_4F6C_DD1D }
}

/// The MAIR_EL1 Attr<n> encodings as the Arm ARM's register description lists them, written
/// out here rather than taken from `MemoryAttribute`, so the properties do not check the
/// decoder against itself. A PE without FEAT_XS and FEAT_MTE2, as the harness models.
enum ArmMAIRByte: Equatable {
    /// `0b0000dd00`.
    case device
    /// `0booooiiii`, both nibbles non-zero; each level ranked 1 NC, 2 WT, 3 WB.
    case normal(inner: Int, outer: Int)
    /// `0b0000dd01` (FEAT_XS), `0b0000dd1x`, `0bxxxx0000` (0x40 and 0xA0 are FEAT_XS forms,
    /// 0xF0 FEAT_MTE2, the rest reserved).
    case unpredictable

    init(_ byte: UInt8) {
        let (outer, inner) = (byte >> 4, byte & 0xF)
        if outer == 0 {
            self = byte & 0b11 == 0 ? .device : .unpredictable
        } else if inner == 0 {
            self = .unpredictable
        } else {
            self = .normal(inner: Self.rank(inner), outer: Self.rank(outer))
        }
    }

    /// A non-zero nibble: 0100 Non-cacheable; 00RW and 10RW Write-Through (transient, not);
    /// 01RW and 11RW Write-Back.
    static func rank(_ nibble: UInt8) -> Int {
        nibble == 0b0100 ? 1 : (nibble & 0b0100 == 0 ? 2 : 3)
    }

    /// Cacheability per level (inner, outer): Device is below Non-cacheable, being neither
    /// cacheable nor Normal.
    var levels: (inner: Int, outer: Int)? {
        switch self {
        case .device: (0, 0)
        case .normal(let inner, let outer): (inner, outer)
        case .unpredictable: nil
        }
    }

    /// What each variant does to one byte, from its definition (`MAIRRewriteRule`, issue 4):
    /// Device becomes Normal WB RA WA (0xFF) under `uncached` and `all-cacheable`; an NC nibble
    /// becomes WB RA WA (0b1111) under all three; under `all-cacheable` a WT nibble becomes WB
    /// keeping its hints and transience (00RW -> 01RW, 10RW -> 11RW). UNPREDICTABLE bytes
    /// are never touched.
    static func expected(_ byte: UInt8, _ rule: MAIRRewriteRule) -> UInt8 {
        switch (ArmMAIRByte(byte), rule) {
        case (_, .none), (.unpredictable, _), (.device, .ncOnly): return byte
        case (.device, _): return 0xFF
        case (.normal, _): return nibble(byte >> 4, rule) << 4 | nibble(byte & 0xF, rule)
        }
    }

    private static func nibble(_ nibble: UInt8, _ rule: MAIRRewriteRule) -> UInt8 {
        switch rank(nibble) {
        case 1: 0b1111
        case 2 where rule == .allCacheable: nibble | 0b0100
        default: nibble
        }
    }
}

/// The rewrite variants as properties over MAIR values: per attribute byte exhaustively (all
/// 256 bytes in each of the 8 positions, over fixed backgrounds), plus random 64-bit values.
/// Every 64-bit value cannot be tried; the rewrite works byte by byte, so the per-byte sweep
/// with the scopes' position rules covers what a value can do.
@Suite struct MAIRRewritePropertyTests {
    static let backgrounds: [UInt64] = [0, 0xFFFF_FFFF_FFFF_FFFF, 0x0000_00FF_440C_0400, 0x4404_BBAA_01F0_0C22]

    /// The indices a scope covers, from its definition.
    static func covered(_ scope: MAIRRewriteScope, _ mair: UInt64, used: Set<Int>) -> Set<Int> {
        switch scope {
        case .all: Set(0..<8)
        case .used: used
        case .defined:
            // Up to the highest non-zero byte; none when the value is 0.
            Set((0..<8).filter { index in (index..<8).contains { mair >> (8 * UInt64($0)) & 0xFF != 0 } })
        }
    }

    static func byte(_ value: UInt64, _ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }

    /// The value a variant should load: the byte rule over the indices its scope covers.
    static func expected(_ mair: UInt64, _ rule: MAIRRewriteRule, _ scope: MAIRRewriteScope, used: Set<Int>) -> UInt64 {
        let inScope = covered(scope, mair, used: used)
        return (0..<8).reduce(0) { value, index in
            let before = byte(mair, index)
            return value | UInt64(inScope.contains(index) ? ArmMAIRByte.expected(before, rule) : before) << (8 * UInt64(index))
        }
    }

    /// Every property for one value, one rule, one scope: the problems found, empty if none.
    static func problems(_ mair: UInt64, _ rule: MAIRRewriteRule, _ scope: MAIRRewriteScope, used: Set<Int>) -> [String] {
        let loaded = MAIRRewrite.loaded(rule, scope: scope, to: mair, usedIndices: used)
        var problems: [String] = []
        // Only built for a problem: most calls find none.
        var context: String { "0x\(String(mair, radix: 16)) \(rule) \(scope) used \(used.sorted())" }
        if MAIRRewrite.loaded(rule, scope: scope, to: loaded, usedIndices: used) != loaded {
            problems.append("\(context): not idempotent")
        }
        let target = expected(mair, rule, scope, used: used)
        for index in 0..<8 {
            let (before, after, expected) = (byte(mair, index), byte(loaded, index), byte(target, index))
            if after != expected { problems.append("\(context): Attr\(index) 0x\(String(after, radix: 16)), expected 0x\(String(expected, radix: 16))") }
            let (old, new) = (ArmMAIRByte(before), ArmMAIRByte(after))
            if new == .unpredictable && after != before { problems.append("\(context): Attr\(index) made UNPREDICTABLE") }
            if let was = old.levels, let now = new.levels, now.inner < was.inner || now.outer < was.outer {
                problems.append("\(context): Attr\(index) cacheability lowered")
            }
        }
        return problems
    }

    @Test func everyByteInEveryPositionUnderEveryVariantAndScope() {
        var problems: [String] = []
        var cases = 0
        for rule in MAIRRewriteRule.allCases {
            for scope in MAIRRewriteScope.allCases {
                for (number, background) in Self.backgrounds.enumerated() {
                    for position in 0..<8 {
                        let shift = 8 * UInt64(position)
                        // `used`: the position itself in and out of the set, beside a fixed pattern.
                        let used: Set<Int> = Set((0..<8).filter { ($0 + number) % 3 == 0 }).symmetricDifference([position])
                        for byte in 0...255 {
                            let mair = background & ~(0xFF << shift) | UInt64(byte) << shift
                            problems += Self.problems(mair, rule, scope, used: byte % 2 == 0 ? used : used.subtracting([position]))
                            cases += 1
                        }
                    }
                }
            }
        }
        #expect(cases == 4 * 3 * 4 * 8 * 256)
        #expect(problems.isEmpty, "\(problems.count) problems, first: \(problems.prefix(5))")
    }

    @Test func randomValuesUnderEveryVariantAndScope() {
        var generator = SeededGenerator(state: 14)
        var problems: [String] = []
        for _ in 0..<2_000 {
            let mair = generator.next()
            let used = Set((0..<8).filter { _ in Bool.random(using: &generator) })
            for rule in MAIRRewriteRule.allCases {
                for scope in MAIRRewriteScope.allCases {
                    problems += Self.problems(mair, rule, scope, used: used)
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.count) problems, first: \(problems.prefix(5))")
    }

    /// The byte rule alone, all 256 bytes: `none` is the identity, and no variant leaves a
    /// Device byte or an NC nibble where it promises Write-Back.
    @Test func everyByteAgainstTheVariantDefinitions() {
        for rule in MAIRRewriteRule.allCases {
            let mismatches = (0...255).map(UInt8.init).filter { MAIRRewrite.rewrite($0, rule) != ArmMAIRByte.expected($0, rule) }
            #expect(mismatches.isEmpty, "\(rule): \(mismatches.prefix(8).map { String($0, radix: 16) })")
        }
        // Counts from the encoding table: 4 Device bytes, 15 x 15 Normal bytes, 27 UNPREDICTABLE.
        let kinds = (0...255).map { ArmMAIRByte(UInt8($0)) }
        #expect(kinds.filter { $0 == .device }.count == 4)
        #expect(kinds.filter { $0 == .unpredictable }.count == 27)
        // Changed bytes: a Normal byte has 15 x 15 nibble pairs; 1 of 15 nibbles is NC, 7 are
        // WT (00RW with RW != 00, 10RW), 7 WB. nc-only: 15 + 15 - 1 bytes with an NC nibble;
        // uncached adds the 4 Device bytes; all-cacheable: every Normal byte but the 7 x 7
        // WB/WB ones, and the Device bytes.
        let changed = { (rule: MAIRRewriteRule) in (0...255).filter { ArmMAIRByte.expected(UInt8($0), rule) != UInt8($0) }.count }
        #expect(changed(.none) == 0)
        #expect(changed(.ncOnly) == 29)
        #expect(changed(.uncached) == 33)
        #expect(changed(.allCacheable) == 225 - 49 + 4)
    }

    /// Each built-in and comparison policy through the trap controller: a trapped MAIR_EL1 write
    /// loads the policy's rule over its scope, a policy that does not trap loads nothing, and a
    /// reload under `used` gives what a fresh write would.
    @Test func everyPolicyLoadsItsRuleOverItsScope() {
        var generator = SeededGenerator(state: 2015)
        var checked = 0
        for policy in Policy.builtIn + Policy.comparisonSet + Self.scopeVariants {
            for _ in 0..<500 {
                let mair = generator.next()
                let used = Set((0..<8).filter { _ in Bool.random(using: &generator) })
                var controller = TrapController(policy: policy, resetSCTLR: 0)
                let decision = controller.write(.mairEL1, value: mair, usedIndices: used)
                guard policy.trap != .none else {
                    #expect(decision == nil, "\(policy.name) traps without TVM")
                    continue
                }
                let expected = Self.expected(mair, policy.rewrite, policy.rewriteScope, used: used)
                #expect(decision?.loaded == expected, "\(policy.name) 0x\(String(mair, radix: 16))")
                let reload = controller.reloadedMAIR(usedIndices: used, loaded: decision?.loaded ?? 0)
                #expect(reload == nil, "\(policy.name): a reload with the same indices changed the value")
                checked += 1
            }
        }
        // 7 built-in + 8 comparison + 12 variants; fwb (twice) and cacheable-pfnmap-2025 do not trap.
        #expect(checked == (7 + 8 + 12 - 3) * 500)
    }

    /// The rewriting policy under each rule and scope, named as `compare` names variants.
    static let scopeVariants: [Policy] = MAIRRewriteRule.allCases.flatMap { rule in
        MAIRRewriteScope.allCases.map { scope in
            Policy.rfc2015.variant("rewrite=\(rule.rawValue),scope=\(scope.rawValue)") {
                $0.rewrite = rule
                $0.rewriteScope = scope
            }
        }
    }
}
