import Hypervisor
import Unicorn

/// Knobs of one run that are not part of the snippet.
public struct RunOptions: Sendable {
    /// Overrides the manifest's instruction budget.
    public var budget: Int?
    /// Overrides the manifest's wall-clock safety net.
    public var timeoutMilliseconds: Int?
    public var cpu: CPUModel
    /// The hypervisor: traps, rewrite, fast path.
    public var policy: Policy
    public var costModel: CostModel
    /// How many trap events the report lists (nil: all; the counts always cover every trap).
    public var eventLimit: Int?
    /// Trapped writes whose handling depends on their value alone are taken in C
    /// (`FastPath.takeTrivialWrites`); false sends every trap through the Swift controller (the
    /// tests hold the two to the same reports).
    public var trivialTrapsInC = true
    /// Guest accesses that bypass the caches on lines no cache can hold are taken without
    /// resolving or exploring again (`SharedMemory.plainAccess`); false explores every access
    /// (the tests hold the two to the same reports).
    public var plainLines = true

    public init(budget: Int? = nil, timeoutMilliseconds: Int? = nil, cpu: CPUModel = .max,
                policy: Policy = .kvm2015, costModel: CostModel = .defaults, eventLimit: Int? = nil) {
        self.eventLimit = eventLimit
        self.budget = budget
        self.timeoutMilliseconds = timeoutMilliseconds
        self.cpu = cpu
        self.policy = policy
        self.costModel = costModel
    }
}

/// The generic timer as the guest sees it: virtual, counting guest instructions, so that a run
/// is the same on every host (Unicorn's own counter follows host time).
enum VirtualTimer {
    /// CNTFRQ_EL0 as QEMU's virt machine reports it at reset.
    static let frequency: UInt64 = 62_500_000
    /// One tick per guest instruction: a 62.5 MHz counter on a 62.5 M instructions/s guest.
    static func count(afterInstructions n: UInt64) -> UInt64 { n }
}
