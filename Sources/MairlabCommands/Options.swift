import ArgumentParser
import Formats
import FoundationEssentials
import Harness
import Hypervisor

/// Where the snippets live (shared by the subcommands that find them).
struct SnippetLocation: ParsableArguments {
    @Option(name: .customLong("images"), help: "The folder of snippets.")
    var images: String = "guest-images"

    var directory: URL { URL(fileURLWithPath: images) }

    /// The snippets named, or all of them when none is, each allowed to read `allowed` too.
    func snippets(_ names: [String], allowing allowed: AllowedPaths) throws -> [Snippet] {
        let found = names.isEmpty ? try Snippet.all(in: directory) : try names.map { try Snippet(path: $0, searchDirectory: directory) }
        return found.map { $0.allowing(allowed.directories) }
    }
}

/// `--allow-path`: folders the user lets snippets read besides their own (for the commands
/// that assemble them).
struct AllowedPaths: ParsableArguments {
    @Option(name: .customLong("allow-path"), help: "A folder snippets may read files from besides their own (.include, .incbin); repeatable.")
    var paths: [String] = []

    var directories: [URL] { paths.map { URL(fileURLWithPath: $0) } }
}

/// `--policy NAME`, `--policy-file`, the knobs that override a policy's parts, and `--cost`
/// (shared by run, check and compare).
struct PolicyOptions: ParsableArguments {
    enum Switch: String, RawValueArgument {
        case on, off
        var isOn: Bool { self == .on }
    }

    @Option(name: .customLong("policy"),
            help: "A named policy: \(Policy.builtIn.map(\.name).joined(separator: ", ")) (default: kvm-2015), or one from --policy-file; `boot --suite` takes several, repeated or comma-separated.")
    var policies: [String] = []

    /// Every name given, comma lists split.
    var names: [String] { policies.flatMap { $0.split(separator: ",").map(String.init) } }

    /// The one policy a single run takes.
    var policy: String? { names.last }

    @Option(help: "A TOML file of more policies ([[policy]] name, base, trap, rewrite, fast_path, trvm, fwb, device_mapping, ...).")
    var policyFile: String?

    @Option(help: "Trap regime: \(TrapRegime.allCases.map(\.rawValue).joined(separator: "|")).")
    var trap: TrapRegime?

    @Option(help: "MAIR_EL1 rewrite: \(MAIRRewriteRule.allCases.map(\.rawValue).joined(separator: "|")).")
    var rewrite: MAIRRewriteRule?

    @Option(help: "Rewrite scope: defined (indices up to the highest non-zero byte) or all.")
    var rewriteScope: MAIRRewriteScope?

    @Option(name: .customLong("fast-path"), help: "EL2 fast path for trivial trapped accesses: on|off.")
    var fastPath: Switch?

    @Option(help: "Trap reads too (HCR_EL2.TRVM), answering with the guest's own values: on|off.")
    var trvm: Switch?

    @Option(help: "HCR_EL2.FWB (FEAT_S2FWB) on the host: on|off.")
    var fwb: Switch?

    @Option(help: "A TOML file of per-event cycle costs ([cost] trap_round_trip, fast_path_handling, world_switch, stage2_flush_per_mib, cycles_per_instruction).")
    var cost: String?

    func validate() throws {
        for policy in names where policyFile == nil && Policy.named(policy) == nil {
            throw ValidationError("unknown policy '\(policy)': known are \(Policy.builtIn.map(\.name).joined(separator: ", "))")
        }
    }

    /// The built-in policies and the file's.
    func catalog() throws -> [Policy] {
        guard let policyFile else { return Policy.builtIn }
        return Policy.builtIn + (try Policy.load(contentsOf: URL(fileURLWithPath: policyFile), displayPath: policyFile))
    }

    /// The policy named (or the default) with every knob given applied; a policy changed by
    /// knobs is named after them, so reports never claim the unmodified policy.
    func resolve(catalog: [Policy]) throws -> Policy {
        if names.count > 1 { throw ValidationError("--policy: one policy here (only `mairlab boot --suite` runs several)") }
        if let policy, catalog.first(where: { $0.name == policy }) == nil {
            throw ValidationError("unknown policy '\(policy)': known are \(catalog.map(\.name).joined(separator: ", "))")
        }
        return applyKnobs(to: policy.flatMap { name in catalog.first { $0.name == name } } ?? .kvm2015)
    }

    /// Each policy named, knobs applied; none named: every one in the catalog, or kvm-2015 with
    /// the knobs given (as the snippet suite takes them).
    func resolveAll(catalog: [Policy]) throws -> [Policy] {
        if names.isEmpty { return isSet ? [try resolve(catalog: catalog)] : catalog }
        return try names.map { name in
            guard let policy = catalog.first(where: { $0.name == name }) else {
                throw ValidationError("unknown policy '\(name)': known are \(catalog.map(\.name).joined(separator: ", "))")
            }
            return applyKnobs(to: policy)
        }
    }

    /// The names `resolveAll` starts from, in its order.
    func baseNames(catalog: [Policy]) -> [String] {
        names.isEmpty ? (isSet ? [policy ?? Policy.kvm2015.name] : catalog.map(\.name)) : names
    }

    /// The options besides --policy, to give a child process the same policies.
    var knobArguments: [String] {
        let given: [(String, String?)] = [
            ("policy-file", policyFile), ("trap", trap?.rawValue), ("rewrite", rewrite?.rawValue),
            ("rewrite-scope", rewriteScope?.rawValue), ("fast-path", fastPath?.rawValue), ("trvm", trvm?.rawValue),
            ("fwb", fwb?.rawValue), ("cost", cost),
        ]
        return given.compactMap { name, value in value.map { "--\(name)=\($0)" } }
    }

    func applyKnobs(to base: Policy) -> Policy {
        var result = base
        if let trap { result = result.variant("trap=\(trap.rawValue)") { $0.trap = trap } }
        if let rewrite { result = result.variant("rewrite=\(rewrite.rawValue)") { $0.rewrite = rewrite } }
        if let rewriteScope {
            result = result.variant("rewrite-scope=\(rewriteScope.rawValue)") { $0.rewriteScope = rewriteScope }
        }
        if let fastPath { result = result.variant("fast-path=\(fastPath.rawValue)") { $0.fastPath = fastPath.isOn } }
        if let trvm { result = result.variant("trvm=\(trvm.rawValue)") { $0.trvm = trvm.isOn } }
        if let fwb { result = result.variant("fwb=\(fwb.rawValue)") { $0.fwb = fwb.isOn } }
        return result
    }

    /// Whether any policy or knob was given.
    var isSet: Bool {
        policy != nil || trap != nil || rewrite != nil || rewriteScope != nil || fastPath != nil || trvm != nil || fwb != nil
    }

    func costModel() throws -> CostModel {
        guard let cost else { return .defaults }
        return try CostModel.load(contentsOf: URL(fileURLWithPath: cost), displayPath: cost)
    }
}

/// A String-backed enum as an argument: the values ArgumentParser's default lists, taken from
/// the raw values directly (its default formats each through `String(describing:)`, about 2 M
/// instructions of every start under callgrind, for the same strings).
protocol RawValueArgument: ExpressibleByArgument, CaseIterable, RawRepresentable where RawValue == String {}

extension RawValueArgument {
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
    /// None: a value is its own description (the default's would be Swift case names, found
    /// by reflection, that no help shows).
    public static var allValueDescriptions: [String: String] { [:] }
}

extension TrapRegime: RawValueArgument {}
extension MAIRRewriteRule: RawValueArgument {}
extension MAIRRewriteScope: RawValueArgument {}
