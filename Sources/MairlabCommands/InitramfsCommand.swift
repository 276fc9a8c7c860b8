import ArgumentParser
import Formats
import FoundationEssentials
import Harness

extension Mairlab {
    struct Initramfs: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "initramfs", _superCommandName: "mairlab",
            abstract: "Build the Linux init of our own and pack it into an initramfs (a newc cpio archive).",
            discussion: """
                The init (guest-images/linux-init/init.S, AArch64 assembly, no libc) is assembled \
                and linked into a static executable at 0x400000 with the toolchain the snippets \
                use. It forks two children, plays pipe ping-pong and sched_yield, prints its \
                counts and powers off through reboot(2). The archive holds /dev, /dev/console \
                (character device 5:1, the init's console) and /init. An existing output file is \
                never overwritten.
                Example: mairlab initramfs -o init.cpio
                """)

        @Option(name: .shortAndLong, help: "The archive to write (must not exist).")
        var output: String

        @Option(help: "The init's assembly source.")
        var source: String = LinuxInit.defaultSource

        func run() throws {
            let console = Console.current
            let destination = URL(fileURLWithPath: output)
            if FileManager.default.fileExists(atPath: destination.path) {
                throw BadInput("\(output) exists: not overwriting it")
            }
            guard FileManager.default.fileExists(atPath: source) else {
                throw BadInput("no init source at \(source)")
            }
            let executable = try LinuxInit.executable(source: URL(fileURLWithPath: source), toolchain: Toolchain.find())
            let archive = LinuxInit.initramfs(executable: executable)
            do {
                // O_EXCL: a file that appeared since the check above is not overwritten either.
                try Data(archive).write(to: destination, options: .withoutOverwriting)
            } catch {
                throw BadInput("cannot write \(output): \(systemReason(error))")
            }
            console.output("""
                \(output): \(archive.count) bytes, a newc cpio archive
                  /dev          directory
                  /dev/console  character device 5:1
                  /init         \(executable.count) bytes, static AArch64 executable from \(source)
                """)
        }
    }
}
