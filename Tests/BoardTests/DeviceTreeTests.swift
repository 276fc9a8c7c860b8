import Testing
@testable import Board

/// The header as DT spec v0.4 5.2 lays it out (ten big-endian u32 fields), read here without the
/// library's reader.
struct Header {
    let magic, totalSize, structureOffset, stringsOffset, reservationsOffset: UInt32
    let version, lastCompatibleVersion, bootCPUID, stringsSize, structureSize: UInt32

    init(_ blob: [UInt8]) {
        let f = { (i: Int) in (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(blob[4 * i + $1]) } }
        (magic, totalSize, structureOffset, stringsOffset, reservationsOffset) = (f(0), f(1), f(2), f(3), f(4))
        (version, lastCompatibleVersion, bootCPUID, stringsSize, structureSize) = (f(5), f(6), f(7), f(8), f(9))
    }
}

private func words(_ values: UInt32...) -> [UInt8] {
    values.flatMap { v in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
}

@Suite("Flattened devicetree")
struct DeviceTreeTests {
    /// root { compatible = "a"; c@1 { x; }; } with one reservation.
    static let small = DeviceTree(
        root: .init("", properties: [.string("compatible", "a")], children: [.init("c@1", properties: [.empty("x")])]),
        memoryReservations: [AddressRange(base: 0x1000, size: 0x2000)])

    @Test func smallTreeEncodesByteForByte() throws {
        // DT spec 5.2-5.5, written out by hand: header, reservation block at 40 (8-aligned, one
        // entry and the zero terminator), structure block (tokens BEGIN_NODE 1, PROP 3,
        // END_NODE 2, END 9; names NUL-terminated and padded to 4; PROP is len, nameoff,
        // value padded to 4), strings block "compatible\0x\0".
        let reservations = words(0, 0x1000, 0, 0x2000, 0, 0, 0, 0)
        let structure = words(1, 0)  // root, empty name padded
            + words(3, 2, 0) + [0x61, 0, 0, 0]  // compatible = "a"
            + words(1) + Array("c@1".utf8) + [0]  // 4 bytes, already aligned
            + words(3, 0, 11)  // x; its name at offset 11 in the strings block
            + words(2, 2, 9)
        let strings = Array("compatible\0x\0".utf8)
        let expectedHeader = words(0xD00D_FEED, 141, 72, 128, 40, 17, 16, 0, 13, 56)
        #expect(try Self.small.flattened() == expectedHeader + reservations + structure + strings)
    }

    @Test func headerFieldsAndAlignment() throws {
        let blob = try VirtBoard(ramSize: 256 << 20, bootargs: "console=ttyAMA0").deviceTree.flattened()
        let header = Header(blob)
        // DT spec 5.2: magic, sizes and offsets; 5.1: version 17, compatible back to 16.
        #expect(header.magic == 0xD00D_FEED)
        #expect(header.totalSize == UInt32(blob.count))
        #expect(header.version == 17)
        #expect(header.lastCompatibleVersion == 16)
        #expect(header.bootCPUID == 0)
        // DT spec 5.6: reservation block 8-aligned, structure block 4-aligned; blocks inside
        // totalsize and not overlapping the header.
        #expect(header.reservationsOffset % 8 == 0 && header.reservationsOffset >= 40)
        #expect(header.structureOffset % 4 == 0 && header.structureOffset > header.reservationsOffset)
        #expect(header.structureOffset + header.structureSize <= header.stringsOffset)
        #expect(header.stringsOffset + header.stringsSize <= header.totalSize)
        // DT spec 5.3.2: an empty reservation list is just the (0, 0) terminator.
        let r = Int(header.reservationsOffset)
        #expect(blob[r..<(r + 16)].allSatisfy { $0 == 0 })
        // DT spec 5.4.1: the structure block starts with FDT_BEGIN_NODE and ends with FDT_END.
        let s = Int(header.structureOffset), e = s + Int(header.structureSize)
        #expect(Array(blob[s..<(s + 4)]) == words(1))
        #expect(Array(blob[(e - 4)..<e]) == words(9))
    }

    @Test func paddingIsCountedInTotalSize() throws {
        let blob = try Self.small.flattened(minimumSize: 4096)
        #expect(blob.count == 4096)
        #expect(Header(blob).totalSize == 4096)
        #expect(try DeviceTree(flattened: blob) == Self.small)
    }

    @Test func propertyEncodings() {
        // DT spec 2.2.4.2, Table 2.3: big-endian cells; <u64> high word first; stringlists
        // NUL-separated; <empty> has no bytes.
        #expect(DeviceTree.Property.u32("p", 0x0102_0304).value == [1, 2, 3, 4])
        #expect(DeviceTree.Property.u64("p", 0x1122_3344_5566_7788).value == [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88])
        #expect(DeviceTree.Property.strings("p", ["ab", "c"]).value == [0x61, 0x62, 0, 0x63, 0])
        #expect(DeviceTree.Property.empty("p").value.isEmpty)
        let reg = DeviceTree.Property.reg([AddressRange(base: 0x1_4000_0000, size: 0x1000)])
        #expect(reg.value == words(1, 0x4000_0000, 0, 0x1000))
        #expect(DeviceTree.Property.reg([AddressRange(base: 7, size: 0)], addressCells: 1, sizeCells: 0).value == words(7))
        #expect(DeviceTree.Property.strings("p", ["ab", "c"]).strings == ["ab", "c"])
        #expect(reg.cells == [1, 0x4000_0000, 0, 0x1000])
        #expect(DeviceTree.Property.bytes("p", [1, 2, 3]).cells == nil)
    }

    @Test func roundTripThroughTheReader() throws {
        let tree = VirtBoard(bootargs: "console=ttyAMA0 earlycon").deviceTree
        #expect(try DeviceTree(flattened: tree.flattened()) == tree)
        #expect(try DeviceTree(flattened: Self.small.flattened()) == Self.small)
    }

    @Test func readerSkipsNopTokens() throws {
        // DT spec 5.4.1: FDT_NOP may appear anywhere a token may and is ignored.
        var blob = try Self.small.flattened()
        let header = Header(blob)
        let at = Int(header.structureOffset) + 8  // after the root's BEGIN_NODE and name
        blob.insert(contentsOf: words(4), at: at)
        // Patch totalsize, strings offset and structure size for the four extra bytes.
        blob.replaceSubrange(4..<8, with: words(header.totalSize + 4))
        blob.replaceSubrange(12..<16, with: words(header.stringsOffset + 4))
        blob.replaceSubrange(36..<40, with: words(header.structureSize + 4))
        #expect(try DeviceTree(flattened: blob) == Self.small)
    }

    @Test func readerRejectsWhatIsNotAVersion17Blob() throws {
        var blob = try Self.small.flattened()
        blob[0] = 0xD0 ^ 0xFF
        #expect(throws: DeviceTreeError.self) { try DeviceTree(flattened: blob) }
        blob = try Self.small.flattened()
        blob.replaceSubrange(24..<28, with: words(18))  // last_comp_version 18: unreadable
        #expect(throws: DeviceTreeError.self) { try DeviceTree(flattened: blob) }
        #expect(throws: DeviceTreeError.self) { try DeviceTree(flattened: Array(try Self.small.flattened().prefix(60))) }
    }

    @Test func invalidTreesAreRejected() {
        func flatten(_ children: [DeviceTree.Node], _ properties: [DeviceTree.Property] = []) throws(DeviceTreeError) {
            _ = try DeviceTree(root: .init("", properties: properties, children: children)).flattened()
        }
        // DT spec 2.2.1: node names start with a letter, at most 31 characters before '@'.
        #expect(throws: DeviceTreeError.invalidNodeName(path: "/1abc")) { try flatten([.init("1abc")]) }
        #expect(throws: DeviceTreeError.invalidNodeName(path: "/has space")) { try flatten([.init("has space")]) }
        #expect(throws: DeviceTreeError.invalidNodeName(path: "/" + String(repeating: "a", count: 32))) {
            try flatten([.init(String(repeating: "a", count: 32))])
        }
        #expect(throws: DeviceTreeError.invalidNodeName(path: "/a@")) { try flatten([.init("a@")]) }
        #expect(throws: DeviceTreeError.duplicateNode(path: "/a@1")) { try flatten([.init("a@1"), .init("a@1")]) }
        // DT spec 2.2.4.1: property names of [0-9a-zA-Z,._+?#-], 1-31 characters.
        #expect(throws: DeviceTreeError.invalidPropertyName(path: "/", name: "a/b")) { try flatten([], [.empty("a/b")]) }
        #expect(throws: DeviceTreeError.duplicateProperty(path: "/", name: "a")) { try flatten([], [.empty("a"), .empty("a")]) }
        // DT spec 2.3.3: phandles are unique, one cell, never 0 or 0xffffffff.
        #expect(throws: DeviceTreeError.duplicatePhandle(5)) {
            try flatten([.init("a", properties: [.u32("phandle", 5)]), .init("b", properties: [.u32("phandle", 5)])])
        }
        #expect(throws: DeviceTreeError.invalidPhandle(path: "/a")) { try flatten([.init("a", properties: [.u32("phandle", 0)])]) }
        #expect(DeviceTree.Phandle(rawValue: 0) == nil && DeviceTree.Phandle(rawValue: 0xFFFF_FFFF) == nil)
        #expect(throws: Never.self) { try flatten([.init("a,b.c_d+e-f@1,2")], [.empty("#a?,._+-")]) }
    }

    @Test func editingByPath() {
        var tree = Self.small
        #expect(tree.modifyNode(at: "/c@1") { $0.set(.u32("y", 1)) })
        #expect(tree.node(at: "/c@1")?.property("y")?.u32 == 1)
        #expect(!tree.modifyNode(at: "/missing") { _ in })
        #expect(tree.node(at: "/")?.property("compatible")?.string == "a")
    }
}
