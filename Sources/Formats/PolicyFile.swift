import FoundationEssentials
import Hypervisor

extension Policy {
    /// Policies a user defines in a TOML file, each `[[policy]]` with a `name`, optionally a
    /// built-in `base` to start from, and any of: summary, trap, rewrite, rewrite_scope,
    /// fast_path, trvm, trap_set_way, fwb, device_mapping, cacheable_pfnmap, reset, clean_on_map.
    public static func load(contentsOf url: URL, displayPath: String) throws(FormatError) -> [Policy] {
        try policies(in: TOMLTable(contentsOf: url, displayPath: displayPath))
    }

    public static func parse(_ text: String, file: String) throws(FormatError) -> [Policy] {
        try policies(in: TOMLTable(parsing: text, file: file))
    }

    static func policies(in root: TOMLTable) throws(FormatError) -> [Policy] {
        try root.rejectUnknownKeys(allowed: ["policy"])
        var policies: [Policy] = []
        for table in try root.arrayOfTables("policy") {
            try table.rejectUnknownKeys(allowed: ["name", "base", "summary", "trap", "rewrite", "rewrite_scope", "fast_path",
                                                 "trvm", "trap_set_way", "fwb", "device_mapping", "cacheable_pfnmap",
                                                 "reset", "clean_on_map"])
            let name = try table.string("name")
            if named(name) != nil || policies.contains(where: { $0.name == name }) {
                throw table.fieldError("name", "'\(name)' is already a policy")
            }
            var policy = Policy(name: name, summary: "", trap: .none)
            if let base = try table.optional("base", as: String.self) {
                guard let builtIn = named(base) else {
                    throw table.fieldError("base", "no built-in policy is named '\(base)'")
                }
                policy = builtIn
                policy.name = name
            }
            policy.summary = try table.optional("summary") ?? policy.summary
            func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(FormatError) -> T?
            where T.RawValue == String {
                guard let text = try table.optional(key, as: String.self) else { return nil }
                guard let value = T(rawValue: text) else {
                    throw table.fieldError(key, "'\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return value
            }
            policy.trap = try choice("trap", TrapRegime.self) ?? policy.trap
            policy.rewrite = try choice("rewrite", MAIRRewriteRule.self) ?? policy.rewrite
            policy.rewriteScope = try choice("rewrite_scope", MAIRRewriteScope.self) ?? policy.rewriteScope
            policy.deviceMapping = try choice("device_mapping", DeviceMapping.self) ?? policy.deviceMapping
            policy.reset = try choice("reset", ResetValues.self) ?? policy.reset
            policy.cleanOnMap = try choice("clean_on_map", CleanOnMap.self) ?? policy.cleanOnMap
            policy.fastPath = try table.optional("fast_path") ?? policy.fastPath
            policy.trvm = try table.optional("trvm") ?? policy.trvm
            policy.trapSetWay = try table.optional("trap_set_way") ?? policy.trapSetWay
            policy.fwb = try table.optional("fwb") ?? policy.fwb
            policy.cacheablePFNMAP = try table.optional("cacheable_pfnmap") ?? policy.cacheablePFNMAP
            policies.append(policy)
        }
        return policies
    }
}
