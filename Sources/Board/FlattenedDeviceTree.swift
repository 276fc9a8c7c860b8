// The flattened devicetree (DTB) format, version 17 (Devicetree Specification v0.4, chapter 5):
// a 40-byte header, the memory reservation block, the structure block and the strings block,
// every integer big-endian.

import AArch64

/// A devicetree that cannot be flattened, or a blob that cannot be read.
public enum DeviceTreeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A node name outside DT spec 2.2.1 (1-31 characters of `[0-9a-zA-Z,._+-]` starting with a
    /// letter, then an optional `@unit-address`), or a root with a name.
    case invalidNodeName(path: String)
    /// Two children of one node with the same full name.
    case duplicateNode(path: String)
    /// A property name outside DT spec 2.2.4.1 (1-31 characters of `[0-9a-zA-Z,._+?#-]`).
    case invalidPropertyName(path: String, name: String)
    case duplicateProperty(path: String, name: String)
    /// A `phandle` property that is not one cell, or is 0 or 0xffffffff (DT spec 2.3.3).
    case invalidPhandle(path: String)
    /// Two nodes with the same phandle.
    case duplicatePhandle(UInt32)
    /// A blob that does not follow DT spec chapter 5 (version 17 readers).
    case malformedBlob(String)

    public var description: String {
        switch self {
        case .invalidNodeName(let path): "invalid node name at \(path)"
        case .duplicateNode(let path): "duplicate node \(path)"
        case .invalidPropertyName(let path, let name): "invalid property name \"\(name)\" in \(path)"
        case .duplicateProperty(let path, let name): "duplicate property \(name) in \(path)"
        case .invalidPhandle(let path): "invalid phandle in \(path)"
        case .duplicatePhandle(let value): "phandle \(hex(UInt64(value))) used twice"
        case .malformedBlob(let reason): "malformed devicetree blob: \(reason)"
        }
    }
}

extension DeviceTree {
    /// DT spec 5.2: `magic`.
    public static let magic: UInt32 = 0xD00D_FEED
    /// The version written, and the oldest version a reader must understand to read it
    /// (DT spec 5.1: version 17 blobs are backwards compatible with version 16).
    public static let version: UInt32 = 17
    public static let lastCompatibleVersion: UInt32 = 16
    /// DT spec 5.2: the header is ten 32-bit fields.
    public static let headerSize = 40

    /// Structure block tokens (DT spec 5.4.1).
    enum Token: UInt32 {
        case beginNode = 1, endNode = 2, prop = 3, nop = 4, end = 9
    }

    /// The version 17 blob: header, memory reservation block (8-byte aligned), structure block
    /// (4-byte aligned), strings block (unaligned; alignments from DT spec 5.6), then
    /// zeros up to `minimumSize`, counted in `totalsize` as free space for whoever edits the tree
    /// in place (DT spec 5.1 allows free space at the end).
    public func flattened(minimumSize: Int = 0) throws(DeviceTreeError) -> [UInt8] {
        try validate()
        var strings = StringsBlock()
        var structure: [UInt8] = []
        Self.emit(root, into: &structure, strings: &strings)
        append(Token.end.rawValue, to: &structure)

        var reservations: [UInt8] = []
        for range in memoryReservations + [AddressRange(base: 0, size: 0)] {
            append64(range.base, to: &reservations)
            append64(range.size, to: &reservations)
        }

        let reservationsOffset = Self.headerSize  // 40: already 8-byte aligned
        let structureOffset = reservationsOffset + reservations.count  // multiple of 16
        let stringsOffset = structureOffset + structure.count  // multiple of 4
        let end = stringsOffset + strings.bytes.count
        let totalSize = max(end, minimumSize)

        var blob: [UInt8] = []
        blob.reserveCapacity(totalSize)
        for field in [
            Self.magic, UInt32(totalSize), UInt32(structureOffset), UInt32(stringsOffset),
            UInt32(reservationsOffset), Self.version, Self.lastCompatibleVersion, bootCPUID,
            UInt32(strings.bytes.count), UInt32(structure.count),
        ] {
            append(field, to: &blob)
        }
        blob += reservations
        blob += structure
        blob += strings.bytes
        blob += [UInt8](repeating: 0, count: totalSize - end)
        return blob
    }

    /// Reads a blob of version 17, or any later version compatible with it (DT spec 5.1:
    /// `last_comp_version` at most 17). Free space and NOP tokens are skipped.
    public init(flattened blob: [UInt8]) throws(DeviceTreeError) {
        func fail(_ reason: String) -> DeviceTreeError { .malformedBlob(reason) }
        guard blob.count >= Self.headerSize else { throw fail("\(blob.count) bytes, shorter than the header") }
        let field = { (index: Int) in Int(readBigEndian32(blob, at: 4 * index)) }
        guard UInt32(field(0)) == Self.magic else { throw fail("magic \(hex(UInt64(field(0))))") }
        let totalSize = field(1), structureOffset = field(2), stringsOffset = field(3)
        let reservationsOffset = field(4), version = field(5), lastCompatible = field(6)
        let stringsSize = field(8), structureSize = field(9)
        guard version >= 17, lastCompatible <= 17 else {
            throw fail("version \(version), last compatible \(lastCompatible): not readable as version 17")
        }
        guard totalSize <= blob.count else { throw fail("totalsize \(totalSize) beyond the \(blob.count) bytes given") }
        guard structureOffset % 4 == 0, structureOffset + structureSize <= totalSize,
              stringsOffset + stringsSize <= totalSize, reservationsOffset % 8 == 0,
              reservationsOffset >= Self.headerSize, reservationsOffset < totalSize
        else { throw fail("blocks outside totalsize or misaligned") }

        var reservations: [AddressRange] = []
        var offset = reservationsOffset
        while true {
            guard offset + 16 <= totalSize else { throw fail("memory reservation block not terminated") }
            let base = read64(blob, at: offset), size = read64(blob, at: offset + 8)
            offset += 16
            if base == 0 && size == 0 { break }
            reservations.append(AddressRange(base: base, size: size))
        }

        var reader = StructureReader(
            blob: blob, offset: structureOffset, end: structureOffset + structureSize,
            strings: stringsOffset..<(stringsOffset + stringsSize))
        guard try reader.nextToken() == .beginNode else { throw fail("structure block does not begin with a node") }
        let root = try reader.readNode()
        guard try reader.nextToken() == .end else { throw fail("tokens after the root node") }
        self.init(root: root, memoryReservations: reservations, bootCPUID: UInt32(field(7)))
    }

    private static func emit(_ node: Node, into structure: inout [UInt8], strings: inout StringsBlock) {
        append(Token.beginNode.rawValue, to: &structure)
        structure += Array(node.name.utf8) + [0]
        pad(&structure)
        // DT spec 5.4.2: a node's properties come before its children.
        for property in node.properties {
            append(Token.prop.rawValue, to: &structure)
            append(UInt32(property.value.count), to: &structure)
            append(strings.offset(of: property.name), to: &structure)
            structure += property.value
            pad(&structure)
        }
        for child in node.children { emit(child, into: &structure, strings: &strings) }
        append(Token.endNode.rawValue, to: &structure)
    }

    /// The checks of DT spec chapter 2 that a blob cannot express otherwise.
    func validate() throws(DeviceTreeError) {
        guard root.name.isEmpty else { throw .invalidNodeName(path: root.name) }
        var phandles: Set<UInt32> = []
        try Self.validate(root, path: "/", phandles: &phandles)
    }

    private static func validate(_ node: Node, path: String, phandles: inout Set<UInt32>) throws(DeviceTreeError) {
        var names: Set<String> = []
        for property in node.properties {
            guard isValidPropertyName(property.name) else {
                throw .invalidPropertyName(path: path, name: property.name)
            }
            guard names.insert(property.name).inserted else { throw .duplicateProperty(path: path, name: property.name) }
            if property.name == "phandle" {
                guard let value = property.u32, Phandle(rawValue: value) != nil else { throw .invalidPhandle(path: path) }
                guard phandles.insert(value).inserted else { throw .duplicatePhandle(value) }
            }
        }
        var childNames: Set<String> = []
        for child in node.children {
            let childPath = path == "/" ? "/" + child.name : path + "/" + child.name
            guard isValidNodeName(child.name) else { throw .invalidNodeName(path: childPath) }
            guard childNames.insert(child.name).inserted else { throw .duplicateNode(path: childPath) }
            try validate(child, path: childPath, phandles: &phandles)
        }
    }

    /// DT spec 2.2.1 (Table 2.1) and 2.2.4.1 (Table 2.2): the characters of names.
    private static let nodeNameCharacters = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,._+-".utf8)
    private static let propertyNameCharacters = nodeNameCharacters.union("?#".utf8)

    static func isValidNodeName(_ name: String) -> Bool {
        let parts = name.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let base = parts[0].utf8
        guard (1...31).contains(base.count), let first = base.first,
              (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first | 0x20),
              base.allSatisfy(nodeNameCharacters.contains)
        else { return false }
        guard parts.count == 2 else { return true }
        return !parts[1].isEmpty && parts[1].utf8.allSatisfy(nodeNameCharacters.contains)
    }

    static func isValidPropertyName(_ name: String) -> Bool {
        (1...31).contains(name.utf8.count) && name.utf8.allSatisfy(propertyNameCharacters.contains)
    }
}

/// Property names, each stored once (DT spec 5.5).
private struct StringsBlock {
    var bytes: [UInt8] = []
    var offsets: [String: UInt32] = [:]

    mutating func offset(of name: String) -> UInt32 {
        if let offset = offsets[name] { return offset }
        let offset = UInt32(bytes.count)
        bytes += Array(name.utf8) + [0]
        offsets[name] = offset
        return offset
    }
}

private struct StructureReader {
    let blob: [UInt8]
    var offset: Int
    let end: Int
    let strings: Range<Int>

    /// The next token other than NOP.
    mutating func nextToken() throws(DeviceTreeError) -> DeviceTree.Token {
        while true {
            let word = try readWord()
            guard let token = DeviceTree.Token(rawValue: word) else {
                throw .malformedBlob("unknown token \(hex(UInt64(word))) at \(offset - 4)")
            }
            if token != .nop { return token }
        }
    }

    /// After FDT_BEGIN_NODE: the name, properties and children, up to FDT_END_NODE.
    mutating func readNode() throws(DeviceTreeError) -> DeviceTree.Node {
        var node = DeviceTree.Node(try readString(in: offset..<end, align: true))
        while true {
            switch try nextToken() {
            case .prop:
                let length = Int(try readWord()), nameOffset = Int(try readWord())
                guard offset + length <= end else { throw .malformedBlob("property value beyond the structure block") }
                let value = Array(blob[offset..<(offset + length)])
                offset = (offset + length + 3) & ~3
                guard nameOffset < strings.count else { throw .malformedBlob("property name offset \(nameOffset)") }
                var names = self
                names.offset = strings.lowerBound + nameOffset
                let name = try names.readString(in: strings, align: false)
                node.properties.append(DeviceTree.Property(name, bytes: value))
            case .beginNode:
                node.children.append(try readNode())
            case .endNode:
                return node
            case .end, .nop:
                throw .malformedBlob("FDT_END inside node \(node.name)")
            }
        }
    }

    private mutating func readWord() throws(DeviceTreeError) -> UInt32 {
        guard offset + 4 <= end else { throw .malformedBlob("structure block ends without FDT_END") }
        defer { offset += 4 }
        return readBigEndian32(blob, at: offset)
    }

    private mutating func readString(in range: Range<Int>, align: Bool) throws(DeviceTreeError) -> String {
        guard offset < range.upperBound, let nul = blob[offset..<range.upperBound].firstIndex(of: 0),
              let string = String(validating: blob[offset..<nul], as: UTF8.self)
        else { throw .malformedBlob("unterminated or non-UTF-8 name at \(offset)") }
        offset = align ? (nul + 1 + 3) & ~3 : nul + 1
        return string
    }
}

private func append(_ value: UInt32, to bytes: inout [UInt8]) { bytes += bigEndianBytes(value) }

private func append64(_ value: UInt64, to bytes: inout [UInt8]) {
    append(UInt32(value >> 32), to: &bytes)
    append(UInt32(truncatingIfNeeded: value), to: &bytes)
}

private func read64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
    UInt64(readBigEndian32(bytes, at: offset)) << 32 | UInt64(readBigEndian32(bytes, at: offset + 4))
}

private func pad(_ bytes: inout [UInt8]) {
    while bytes.count % 4 != 0 { bytes.append(0) }
}
