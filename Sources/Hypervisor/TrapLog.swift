import AArch64

/// One guest access that the hypervisor trapped: a VM control register written (HCR_EL2.TVM)
/// or read (HCR_EL2.TRVM), or a data cache operation by set/way (HCR_EL2.TSW). A fixed-size
/// record (32 bytes, nothing allocated): a guest may trap millions of times, and the names,
/// sites and per-index rewrite details are made only when a report shows them.
public struct TrappedAccess: Sendable, Equatable {
    public enum Direction: String, Sendable, Codable {
        case write, read
        /// A system instruction (DC ... by set/way).
        case operation
    }

    /// What trapped: a register or a cache maintenance instruction.
    public enum Target: Sendable, Hashable {
        case register(SystemRegister)
        case operation(CacheMaintenanceOperation)

        /// The architecture's spelling (`MAIR_EL1`, `DC CISW`).
        public var name: String {
            switch self {
            case .register(let register): register.rawValue
            case .operation(let operation): operation.rawValue
            }
        }
    }

    public let target: Target
    public let direction: Direction
    public let path: ExitPath
    /// The host cleaned the VM's stage 2 to PoC while handling it.
    public let stage2Flush: Bool
    /// A MAIR_EL1 write under a rewrite rule: `value` requested, `loaded` held.
    public let rewritten: Bool
    /// The value the guest wrote, or was given on a read.
    public let value: UInt64
    /// The value the hardware register holds after the trap (writes).
    public let loaded: UInt64
    /// The guest PC.
    public let pc: UInt64

    public init(_ target: Target, direction: Direction, value: UInt64, loaded: UInt64, path: ExitPath,
                stage2Flush: Bool = false, rewritten: Bool = false, pc: UInt64) {
        self.target = target
        self.direction = direction
        self.path = path
        self.stage2Flush = stage2Flush
        self.rewritten = rewritten
        self.value = value
        self.loaded = loaded
        self.pc = pc
    }

    /// The register or instruction in the architecture's spelling.
    public var name: String { target.name }
}

/// Equal trapped accesses in a row (a guest that writes the same value at the same site in a
/// loop): nothing tells them apart, so they are kept once with a count.
public struct TrapRun: Sendable, Equatable {
    public let access: TrappedAccess
    public fileprivate(set) var count: Int
}

/// Every trapped access of one run, in order (as runs of equal accesses), with running counts.
public struct TrapLog: Sendable, Equatable {
    /// The runs in chunks of 64 Ki, then the chunk being filled: a log of millions is never
    /// copied whole to grow (nor held twice while it does), and a record touches one array.
    private var full: [[TrapRun]] = []
    private var current: [TrapRun] = []
    private static let chunkCapacity = 1 << 16
    public private(set) var total = 0
    public private(set) var fastPath = 0
    public private(set) var fullExits = 0
    public private(set) var stage2Flushes = 0

    public init() {}

    /// Records `count` equal accesses in a row.
    public mutating func record(_ access: TrappedAccess, count: Int = 1) {
        guard count > 0 else { return }
        if let last = current.indices.last, current[last].access == access {
            current[last].count += count
        } else {
            if current.count == Self.chunkCapacity {
                full.append(current)
                // Later chunks reserved whole: they never grow by copying. (The first grows as
                // usual: most runs trap a few times, and an execution keeps its log.)
                current = []
                current.reserveCapacity(Self.chunkCapacity)
            }
            current.append(TrapRun(access: access, count: count))
        }
        total += count
        switch access.path {
        case .fastPath: fastPath += count
        case .fullExit: fullExits += count
        }
        if access.stage2Flush { stage2Flushes += count }
    }

    /// Equal accesses in a row, in order.
    public var runs: FlattenSequence<[[TrapRun]]> { (full + [current]).joined() }

    /// Every access, in order.
    public var accesses: some Sequence<TrappedAccess> {
        runs.lazy.flatMap { repeatElement($0.access, count: $0.count) }
    }

    public var byRegister: [String: Int] {
        count(\.target).reduce(into: [:]) { $0[$1.key.name, default: 0] += $1.value }
    }

    public var byPath: [String: Int] {
        [ExitPath.fastPath.rawValue: fastPath, ExitPath.fullExit.rawValue: fullExits].filter { $0.value > 0 }
    }

    /// Counts by site: PCs counted first, each distinct PC named once by `site`.
    public func bySite(_ site: (UInt64) -> String) -> [String: Int] {
        count(\.pc).reduce(into: [:]) { $0[site($1.key), default: 0] += $1.value }
    }

    private func count<Key: Hashable>(_ key: (TrappedAccess) -> Key) -> [Key: Int] {
        var tally = Tally<Key>()
        for run in runs { tally.add(key(run.access), count: run.count, slot: Int(truncatingIfNeeded: run.access.pc >> 2)) }
        return tally.dictionary
    }
}

/// Counts of keys in order of first occurrence, for reports over millions of trap records: a
/// direct-mapped cache in front of the dictionary (indexed by a cheap `slot` the caller gives,
/// such as the PC) spares hashing the same few keys again and again.
/// (Inlinable, so that callers in other modules get it specialized to their key.)
public struct Tally<Key: Hashable> {
    /// The keys in order of first occurrence, and their counts.
    @inlinable public var keys: [Key] { orderedKeys }
    @inlinable public var counts: [Int] { keyCounts }
    @usableFromInline var orderedKeys: [Key] = []
    @usableFromInline var keyCounts: [Int] = []
    @usableFromInline var index: [Key: Int] = [:]
    @usableFromInline var cache: [(key: Key, index: Int)?] = Array(repeating: nil, count: 64)

    @inlinable public init() {}

    @inlinable public mutating func add(_ key: Key, count: Int = 1, slot: Int) {
        let line = slot & 63
        if let hit = cache[line], hit.key == key {
            keyCounts[hit.index] += count
            return
        }
        let position: Int
        if let known = index[key] {
            position = known
            keyCounts[known] += count
        } else {
            position = orderedKeys.count
            index[key] = position
            orderedKeys.append(key)
            keyCounts.append(count)
        }
        cache[line] = (key, position)
    }

    @inlinable public var dictionary: [Key: Int] { Dictionary(uniqueKeysWithValues: zip(orderedKeys, keyCounts)) }
}
