// A devicetree as firmware and kernels read it (Devicetree Specification v0.4, chapter 2): a
// tree of named nodes carrying properties whose values are big-endian byte strings. Values are
// kept encoded, so that a tree built here and one read back from a blob compare equal.

import AArch64

/// A devicetree: the node tree plus the two header-level items a flattened blob carries.
public struct DeviceTree: Hashable, Sendable {
    /// The root node; its name is empty (DT spec 2.2.1: the root is "/").
    public var root: Node
    /// The memory reservation block's entries (DT spec 5.3), in order.
    public var memoryReservations: [AddressRange]
    /// `boot_cpuid_phys` (DT spec 5.2): the `reg` of the CPU that boots.
    public var bootCPUID: UInt32

    public init(root: Node = Node(""), memoryReservations: [AddressRange] = [], bootCPUID: UInt32 = 0) {
        self.root = root
        self.memoryReservations = memoryReservations
        self.bootCPUID = bootCPUID
    }

    /// The node at an absolute path with full node names (`/cpus/cpu@0`); `/` is the root.
    public func node(at path: String) -> Node? {
        var node = root
        for component in path.split(separator: "/") {
            guard let child = node.child(String(component)) else { return nil }
            node = child
        }
        return node
    }

    /// Applies `change` to the node at `path`; false (and nothing changed) when there is none.
    @discardableResult
    public mutating func modifyNode(at path: String, _ change: (inout Node) -> Void) -> Bool {
        let components = path.split(separator: "/").map(String.init)
        return root.modifyDescendant(components[...], change)
    }
}

/// A range of physical addresses: a `reg` entry, a memory reservation, a region of a board.
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    public var base: UInt64
    public var size: UInt64

    public init(base: UInt64, size: UInt64) {
        self.base = base
        self.size = size
    }

    /// One past the last address (wraps to 0 for a range that ends at the top of the space).
    public var end: UInt64 { base &+ size }

    public func contains(_ address: UInt64) -> Bool { address >= base && address - base < size }

    public var description: String { "[\(hex(base)), +\(hex(size)))" }
}

extension DeviceTree {
    /// A node (DT spec 2.2): a name (`node-name@unit-address`), properties, children.
    public struct Node: Hashable, Sendable {
        public var name: String
        public var properties: [Property]
        public var children: [Node]

        public init(_ name: String, properties: [Property] = [], children: [Node] = []) {
            self.name = name
            self.properties = properties
            self.children = children
        }

        public func property(_ name: String) -> Property? { properties.first { $0.name == name } }

        public func child(_ name: String) -> Node? { children.first { $0.name == name } }

        /// Replaces the property of the same name, or appends it.
        public mutating func set(_ property: Property) {
            if let index = properties.firstIndex(where: { $0.name == property.name }) {
                properties[index] = property
            } else {
                properties.append(property)
            }
        }

        /// Removes the property named `name`; false when there was none.
        @discardableResult
        public mutating func removeProperty(_ name: String) -> Bool {
            guard let index = properties.firstIndex(where: { $0.name == name }) else { return false }
            properties.remove(at: index)
            return true
        }

        /// Replaces the child of the same name, or appends it.
        public mutating func set(child: Node) {
            if let index = children.firstIndex(where: { $0.name == child.name }) {
                children[index] = child
            } else {
                children.append(child)
            }
        }

        mutating func modifyDescendant(_ path: ArraySlice<String>, _ change: (inout Node) -> Void) -> Bool {
            guard let first = path.first else {
                change(&self)
                return true
            }
            guard let index = children.firstIndex(where: { $0.name == first }) else { return false }
            return children[index].modifyDescendant(path.dropFirst(), change)
        }
    }

    /// A phandle (DT spec 2.3.3): a node's unique 32-bit handle; 0 and 0xffffffff are not
    /// valid handles.
    public struct Phandle: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt32

        public init?(rawValue: UInt32) {
            guard rawValue != 0, rawValue != .max else { return nil }
            self.rawValue = rawValue
        }

        public var description: String { "<\(hex(UInt64(rawValue)))>" }
    }

    /// A property: a name and its encoded value (DT spec 2.2.4). The constructors encode the
    /// value types of DT spec Table 2.3; the accessors decode them back when the bytes fit.
    public struct Property: Hashable, Sendable {
        public var name: String
        public var value: [UInt8]

        public init(_ name: String, bytes: [UInt8]) {
            self.name = name
            self.value = bytes
        }

        /// `<empty>`: a boolean property, true by being present.
        public static func empty(_ name: String) -> Property { Property(name, bytes: []) }

        /// `<u32>`: one big-endian cell.
        public static func u32(_ name: String, _ value: UInt32) -> Property { cells(name, [value]) }

        /// `<prop-encoded-array>` of cells.
        public static func cells(_ name: String, _ values: [UInt32]) -> Property {
            Property(name, bytes: values.flatMap(bigEndianBytes))
        }

        /// `<u64>`: two cells, the high word first.
        public static func u64(_ name: String, _ value: UInt64) -> Property {
            cells(name, [UInt32(value >> 32), UInt32(truncatingIfNeeded: value)])
        }

        /// `<string>`: NUL-terminated. A NUL inside `value` cannot be represented, so it is a
        /// programming error.
        public static func string(_ name: String, _ value: String) -> Property { strings(name, [value]) }

        /// `<stringlist>`: the strings concatenated, each NUL-terminated.
        public static func strings(_ name: String, _ values: [String]) -> Property {
            Property(name, bytes: values.flatMap { value -> [UInt8] in
                precondition(!value.utf8.contains(0), "a devicetree string cannot contain NUL")
                return Array(value.utf8) + [0]
            })
        }

        /// Raw bytes (`[00 01 ...]` in DTS).
        public static func bytes(_ name: String, _ values: [UInt8]) -> Property { Property(name, bytes: values) }

        /// The node's own `phandle` property (DT spec 2.3.3).
        public static func phandle(_ handle: Phandle) -> Property { u32("phandle", handle.rawValue) }

        /// A property that refers to other nodes: one cell per phandle (`interrupt-parent`,
        /// `clocks` with `#clock-cells = 0`).
        public static func references(_ name: String, _ handles: [Phandle]) -> Property {
            cells(name, handles.map(\.rawValue))
        }

        /// `reg` (DT spec 2.3.6): (address, size) pairs in the parent's `#address-cells` and
        /// `#size-cells` (1 or 2 each; a size of 0 cells for buses like `/cpus`).
        public static func reg(_ ranges: [AddressRange], addressCells: Int = 2, sizeCells: Int = 2) -> Property {
            precondition((1...2).contains(addressCells) && (0...2).contains(sizeCells), "cells must be 1 or 2 (size 0)")
            var words: [UInt32] = []
            for range in ranges {
                words += cellWords(range.base, count: addressCells)
                words += cellWords(range.size, count: sizeCells)
            }
            return cells("reg", words)
        }

        /// The value as big-endian cells; nil when its length is not a multiple of 4.
        public var cells: [UInt32]? {
            guard value.count % 4 == 0 else { return nil }
            return stride(from: 0, to: value.count, by: 4).map { readBigEndian32(value, at: $0) }
        }

        /// The value as one cell; nil unless it is exactly 4 bytes.
        public var u32: UInt32? { value.count == 4 ? readBigEndian32(value, at: 0) : nil }

        /// The value as two cells, high first; nil unless it is exactly 8 bytes.
        public var u64: UInt64? {
            value.count == 8 ? UInt64(readBigEndian32(value, at: 0)) << 32 | UInt64(readBigEndian32(value, at: 4)) : nil
        }

        /// The value as a string list; nil unless it is non-empty, NUL-terminated UTF-8.
        public var strings: [String]? {
            guard value.last == 0 else { return nil }
            var result: [String] = []
            for part in value.dropLast().split(separator: 0, omittingEmptySubsequences: false) {
                guard let string = String(validating: part, as: UTF8.self) else { return nil }
                result.append(string)
            }
            return result
        }

        /// The value as one string; nil unless `strings` has exactly one element.
        public var string: String? {
            guard let strings, strings.count == 1 else { return nil }
            return strings[0]
        }

        private static func cellWords(_ value: UInt64, count: Int) -> [UInt32] {
            precondition(count == 2 || value >> (32 * count) == 0, "\(hex(value)) does not fit in \(count) cell(s)")
            return count == 2 ? [UInt32(value >> 32), UInt32(truncatingIfNeeded: value)]
                : count == 1 ? [UInt32(value)] : []
        }
    }
}

func bigEndianBytes(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
}

func readBigEndian32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
}
