/// A cpio archive in the "new ASCII" (newc) format, the one the Linux kernel unpacks as an
/// initramfs (Documentation/driver-api/early-userspace/buffer-format.rst; cpio(5), "New ASCII
/// Format"). Writing only: each entry is a 110-byte header of `070701` and thirteen 8-digit
/// hexadecimal fields, the name with its NUL padded so that header and name end on a 4-byte
/// boundary, the data padded to 4 bytes; a `TRAILER!!!` entry ends the archive.
public enum Cpio {
    /// One archived file. Owner root, modification time 0: the same input gives the same bytes.
    public struct Entry: Sendable, Equatable {
        /// The path inside the archive, without a leading `/` (as `find . | cpio` writes it
        /// after `./`); the kernel creates it under `/`.
        public let name: String
        /// File type and permission bits, as in `st_mode`.
        public let mode: UInt32
        /// The contents: less than 4 GiB, what the 8 hex digits of `c_filesize` hold.
        public let data: [UInt8]
        /// For a device node, the device it stands for (`rdevmajor`, `rdevminor`).
        public let deviceMajor: UInt32
        public let deviceMinor: UInt32

        public init(name: String, mode: UInt32, data: [UInt8] = [], deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0) {
            self.name = name
            precondition(data.count <= Int(UInt32.max), "a newc entry holds less than 4 GiB")
            self.mode = mode
            self.data = data
            self.deviceMajor = deviceMajor
            self.deviceMinor = deviceMinor
        }

        // The file type bits of st_mode (S_IFREG, S_IFDIR, S_IFCHR).
        public static let regularFile: UInt32 = 0o100000
        public static let directoryType: UInt32 = 0o040000
        public static let characterDeviceType: UInt32 = 0o020000

        public static func file(_ name: String, permissions: UInt32, data: [UInt8]) -> Entry {
            Entry(name: name, mode: regularFile | permissions, data: data)
        }

        public static func directory(_ name: String, permissions: UInt32 = 0o755) -> Entry {
            Entry(name: name, mode: directoryType | permissions)
        }

        public static func characterDevice(_ name: String, permissions: UInt32, major: UInt32, minor: UInt32) -> Entry {
            Entry(name: name, mode: characterDeviceType | permissions, deviceMajor: major, deviceMinor: minor)
        }
    }

    /// The magic of the newc format (no checksum: `c_check` is 0).
    public static let magic = "070701"
    public static let trailerName = "TRAILER!!!"

    /// The archive: `entries` in order (a directory before what is in it), inode numbers from
    /// 1 up, then the trailer.
    public static func newc(_ entries: [Entry]) -> [UInt8] {
        var archive: [UInt8] = []
        for (index, entry) in entries.enumerated() {
            let isDirectory = entry.mode & 0o170000 == Entry.directoryType
            append(entry, inode: UInt32(index + 1), links: isDirectory ? 2 : 1, to: &archive)
        }
        append(Entry(name: trailerName, mode: 0), inode: 0, links: 1, to: &archive)
        return archive
    }

    private static func append(_ entry: Entry, inode: UInt32, links: UInt32, to archive: inout [UInt8]) {
        let name = Array(entry.name.utf8) + [0]
        // c_ino, c_mode, c_uid, c_gid, c_nlink, c_mtime, c_filesize, c_devmajor, c_devminor,
        // c_rdevmajor, c_rdevminor, c_namesize (NUL included), c_check.
        let fields: [UInt32] = [inode, entry.mode, 0, 0, links, 0, UInt32(entry.data.count), 0, 0,
                                entry.deviceMajor, entry.deviceMinor, UInt32(name.count), 0]
        archive += Array(magic.utf8)
        for field in fields { archive += Array(hex8(field).utf8) }
        archive += name
        pad(&archive)
        archive += entry.data
        pad(&archive)
    }

    /// Eight upper-case hexadecimal digits, as GNU cpio and the kernel's gen_init_cpio write them.
    static func hex8(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// Zero bytes up to the next multiple of 4 from the start of the archive (every header
    /// starts on one, so this is the same as padding from the header).
    private static func pad(_ archive: inout [UInt8]) {
        archive += [UInt8](repeating: 0, count: (4 - archive.count % 4) % 4)
    }
}
