import AArch64
import Board
import Formats
import FoundationEssentials
import Hypervisor

/// Boots an image on the virt-like board under a policy (`mairlab boot`).
public enum Boot {
    /// Runs the image to its end; `console` receives the guest's UART output as it is sent.
    public static func run(_ options: BootOptions, console: (([UInt8]) -> Void)? = nil,
                           progress: ((UInt64, String) -> Void)? = nil) throws -> BootReport {
        let guest = try BoardGuest(options)
        guest.consoleSink = console
        guest.progress = progress
        let runOptions = RunOptions(budget: options.budget, cpu: .cortexA57, policy: options.policy,
                                    costModel: options.costModel, eventLimit: options.eventLimit)
        let execution = try GuestExecution(program: guest, options: runOptions)
        try execution.run()
        return execution.bootReport(guest)
    }
}

extension GuestExecution {
    /// The report of a boot of `board`.
    func bootReport(_ board: BoardGuest) -> BootReport {
        nameSitesAfterRelocation()
        let options = board.options
        let ending = ending ?? RunEnding(status: .guestFault, exitStatus: nil, fault: nil, message: "the run did not end")
        let image = BootReport.Image(
            path: options.imagePath, sha256: board.sha256, format: board.elf == nil ? "raw" : "elf",
            placement: options.flash ? "flash" : "ram", base: hex(board.imageBase), size: board.imageSize,
            entry: hex(board.entryPoint))
        let summary = BootReport.BoardSummary(ramBase: hex(board.board.ram.base), ramMiB: options.memory >> 20,
                                              deviceTree: hex(board.deviceTreeAddress), bootargs: options.bootargs,
                                              input: options.input)
        var report = BootReport(
            image: image, board: summary, policy: PolicySummary(options.policy),
            outcome: .init(status: ending.status, message: ending.message + Self.cpuOnNote(board) + Self.panicNote(board), fault: ending.fault,
                           consoleTail: board.devices.consoleTail(), test: GuestTestResult(console: board.devices.consoleText)),
            console: board.devices.consoleText, guestInstructions: instructions,
            relocation: board.relocation.map { .init(offset: hex($0.offset), source: $0.source) },
            profile: bootProfile(board))
        report.exceptionsTaken = exceptionsTaken.isEmpty ? nil : exceptionsTaken
        let acknowledged = board.devices.gic.acknowledged
        report.interruptsAcknowledged = acknowledged.isEmpty ? nil
            : Dictionary(uniqueKeysWithValues: acknowledged.map { (String($0.key), $0.value) })
        report.wfiSkips = wfiSkips
        return report
    }

    /// Linux's last words, when it panicked (`panic()` prints "Kernel panic - not syncing: ").
    static func panicNote(_ board: BoardGuest) -> String {
        let marker = "Kernel panic - not syncing: "
        guard let line = board.devices.consoleText.split(whereSeparator: \.isNewline).first(where: { $0.contains(marker) }),
              let start = line.firstRange(of: marker) else { return "" }
        return "; the kernel panicked: " + line[start.upperBound...].trimmingBlanks()
    }

    /// A guest that wanted a second CPU is told so in the outcome (PSCI refused each CPU_ON).
    static func cpuOnNote(_ board: BoardGuest) -> String {
        let refused = board.devices.psciCalls.filter { $0.function.hasPrefix("CPU_ON") && $0.result.hasPrefix("refused") }.count
        return refused == 0 ? "" : "; PSCI refused CPU_ON \(refused) time(s): this board has one CPU"
    }

    private func bootProfile(_ board: BoardGuest) -> BootProfile {
        let log = traps.log
        var exits = board.devices.exits
        for (path, count) in log.byPath { exits["trap " + path] = count }
        return BootProfile(
            trapsTotal: log.total, trapped: aggregatedTraps(log), maintenance: maintenanceCounts(log), exits: exits,
            mair: mairValues(log),
            psci: board.devices.psciCalls.map { .init(conduit: $0.conduit, function: $0.function, result: $0.result, site: site($0.pc)) },
            stage2Flushes: log.stage2Flushes,
            cost: CostSummary(model: options.costModel, counts: costCounts, hostTrapTime: traps.hostTime, traps: log.total),
            events: TrapSummary(log, site: site, events: options.eventLimit).events)
    }

    /// One row per distinct access, in order of first occurrence: a set/way walk of 33,280
    /// DC ISW is one row, not 33,280.
    private func aggregatedTraps(_ log: TrapLog) -> [BootProfile.Trapped] {
        struct Key: Hashable {
            let target: TrappedAccess.Target
            let direction: TrappedAccess.Direction
            let value, loaded: UInt64
            let path: ExitPath
        }
        var order: [Key] = []
        var rows: [Key: (count: Int, flushes: Int, first: UInt64, last: UInt64)] = [:]
        for run in log.runs {
            let access = run.access
            let isRegister = if case .register = access.target { true } else { false }
            let key = Key(target: access.target, direction: access.direction, value: isRegister ? access.value : 0,
                          loaded: isRegister ? access.loaded : 0, path: access.path)
            if rows[key] == nil { order.append(key) }
            let row = rows[key] ?? (0, 0, access.pc, access.pc)
            rows[key] = (row.count + run.count, row.flushes + (access.stage2Flush ? run.count : 0), row.first, access.pc)
        }
        return order.map { key in
            let row = rows[key]!
            let isRegister = if case .register = key.target { true } else { false }
            return BootProfile.Trapped(target: key.target.name, direction: key.direction,
                                       value: isRegister ? hex64(key.value) : nil, loaded: isRegister ? hex64(key.loaded) : nil,
                                       path: key.path, count: row.count, stage2Flushes: row.flushes,
                                       firstSite: site(row.first), lastSite: site(row.last))
        }
    }

    /// Every cache and TLB maintenance instruction issued, trapped or not (counted in C).
    private func maintenanceCounts(_ log: TrapLog) -> [BootProfile.Maintenance] {
        let trapped = log.byRegister
        return fast.systemInstructionCounts.map { address, count in
            let name = address.encoding.maintenanceName
            return BootProfile.Maintenance(operation: name, issued: count, trapped: trapped[name] ?? 0)
        }.sorted { $0.operation < $1.operation }
    }

    /// Each distinct MAIR_EL1 write (requested, loaded), with every index up to the highest
    /// one either value defines.
    private func mairValues(_ log: TrapLog) -> [BootProfile.MAIRValue] {
        struct Key: Hashable { let requested, loaded: UInt64 }
        var tally = Tally<Key>()
        for run in log.runs where run.access.target == .register(.mairEL1) && run.access.direction == .write {
            tally.add(Key(requested: run.access.value, loaded: run.access.loaded), count: run.count,
                      slot: Int(truncatingIfNeeded: run.access.pc >> 2))
        }
        return zip(tally.keys, tally.counts).map { key, count in
            let either = key.requested | key.loaded
            let highest: Int = (0..<8).filter { either >> (8 * UInt64($0)) & 0xFF != 0 }.max() ?? 0
            let indices: [BootProfile.MAIRValue.Index] = (0...highest).map { index in
                let shift = 8 * UInt64(index)
                return BootProfile.MAIRValue.Index(
                    attrIndx: index, requested: MAIRRewriteReport.describe(UInt8(truncatingIfNeeded: key.requested >> shift)),
                    loaded: MAIRRewriteReport.describe(UInt8(truncatingIfNeeded: key.loaded >> shift)))
            }
            return BootProfile.MAIRValue(requested: hex64(key.requested), loaded: hex64(key.loaded), count: count,
                                         indices: indices)
        }
    }
}
