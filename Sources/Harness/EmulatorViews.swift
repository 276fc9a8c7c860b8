import AArch64
import Unicorn

/// Guest physical memory as a walk reads it.
struct PhysicalMemory: TranslationTableReader {
    let machine: Machine
    func readDescriptor(at physicalAddress: UInt64) throws -> UInt64 {
        try machine.read64(at: physicalAddress)
    }
}

/// The guest's EL1 translation registers as the emulator holds them now.
struct EmulatorRegisters: TranslationRegisterReader {
    let machine: Machine
    func read(_ register: SystemRegister) -> UInt64 {
        (try? machine.readSystemRegister(SystemRegisterAddress(register.encoding))) ?? 0
    }
}

extension Machine {
    /// The EL1 translation registers now.
    var translationRegisters: TranslationRegisters { TranslationRegisters(EmulatorRegisters(machine: self)) }

    /// The guest PC (0 if the emulator cannot say).
    var pc: UInt64 { (try? read(.pc)) ?? 0 }
}

/// The one place where the emulator's spelling of an encoding meets the architecture's.
extension SystemRegisterAddress {
    init(_ encoding: SystemRegisterEncoding) {
        self.init(op0: encoding.op0, op1: encoding.op1, crn: encoding.crn, crm: encoding.crm, op2: encoding.op2)
    }

    var encoding: SystemRegisterEncoding {
        SystemRegisterEncoding(op0: op0, op1: op1, crn: crn, crm: crm, op2: op2)
    }
}
