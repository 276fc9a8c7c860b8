// The executable: everything else is in MairlabCommands, where the tests run it in-process.
import Glibc
import MairlabCommands

// A reader that closes the pipe early (`| head -1`) must not kill the process mid-record.
signal(SIGPIPE, SIG_IGN)
exit(Mairlab.execute(Array(CommandLine.arguments.dropFirst())))
