// Building the table tree of a TOML document, enforcing its define-once rules.

/// Builds a table tree while enforcing TOML's define-once rules. Tables live in an array and
/// refer to each other by index, so the tree can grow in place without reference types.
struct TOMLTableBuilder {
    enum Origin {
        case root
        /// Created as the parent in a header (`a` in `[a.b]`); may still be defined by `[a]`.
        case implicit
        case header
        /// Created by a dotted key (`a` in `a.b = 1`); only dotted keys may add to it.
        case dotted
    }

    enum Entry {
        /// Scalars, arrays and inline tables: closed to any later addition.
        case value(TOMLItem)
        case table(Int)
        case tableArray([Int], line: Int)
    }

    struct Node {
        var path: String
        var line: Int
        var origin: Origin
        var keys: [String] = []
        var entries: [String: Entry] = [:]
    }

    let file: String
    /// The document's text, only read to count a column for an error.
    let bytes: [UInt8]
    var nodes: [Node]

    init(file: String, path: String, line: Int, bytes: [UInt8]) {
        self.file = file
        self.bytes = bytes
        nodes = [Node(path: path, line: line, origin: .root)]
    }

    func path(of table: Int, extendedBy keys: [String]) -> String {
        keys.reduce(nodes[table].path) { $0.isEmpty ? TOMLKey.quoted($1) : "\($0).\(TOMLKey.quoted($1))" }
    }

    /// `[keys]`: returns the index of the table that following key/values go into.
    mutating func defineTable(_ keys: [String], at mark: TOMLParser.Mark) throws(FormatError) -> Int {
        let what = "table [\(path(of: 0, extendedBy: keys))]"
        let parent = try descend(keys.dropLast(), from: 0, byHeader: true, what: what, at: mark)
        let key = keys[keys.count - 1]
        switch nodes[parent].entries[key] {
        case nil:
            return add(key, in: parent, origin: .header, line: mark.line)
        case .table(let index) where nodes[index].origin == .implicit:
            nodes[index].origin = .header
            nodes[index].line = mark.line
            return index
        case let existing?:
            throw redefinition(what, existing, at: mark)
        }
    }

    /// `[[keys]]`: appends a table to the array and returns its index.
    mutating func appendArrayTable(_ keys: [String], at mark: TOMLParser.Mark) throws(FormatError) -> Int {
        let what = "array of tables [[\(path(of: 0, extendedBy: keys))]]"
        let parent = try descend(keys.dropLast(), from: 0, byHeader: true, what: what, at: mark)
        let key = keys[keys.count - 1]
        let arrayPath = path(of: parent, extendedBy: [key])
        switch nodes[parent].entries[key] {
        case nil:
            let index = newNode(Node(path: "\(arrayPath)[0]", line: mark.line, origin: .header))
            nodes[parent].keys.append(key)
            nodes[parent].entries[key] = .tableArray([index], line: mark.line)
            return index
        case .tableArray(var indices, let firstLine):
            let index = newNode(Node(path: "\(arrayPath)[\(indices.count)]", line: mark.line, origin: .header))
            indices.append(index)
            nodes[parent].entries[key] = .tableArray(indices, line: firstLine)
            return index
        case let existing?:
            throw redefinition(what, existing, at: mark)
        }
    }

    /// `keys = item` inside `table`.
    mutating func insert(_ item: TOMLItem, at keys: [String], in table: Int, at mark: TOMLParser.Mark) throws(FormatError) {
        let what = "key '\(path(of: table, extendedBy: keys))'"
        let parent = try descend(keys.dropLast(), from: table, byHeader: false, what: what, at: mark)
        let key = keys[keys.count - 1]
        if let existing = nodes[parent].entries[key] {
            throw redefinition(what, existing, at: mark)
        }
        nodes[parent].keys.append(key)
        nodes[parent].entries[key] = .value(item)
    }

    /// Walks (creating as needed) the parent tables named by `keys`. Headers may pass through
    /// any table and into the last element of an array of tables; dotted keys only through
    /// tables that dotted keys created.
    private mutating func descend(_ keys: ArraySlice<String>, from start: Int, byHeader: Bool,
                                  what: String, at mark: TOMLParser.Mark) throws(FormatError) -> Int {
        var current = start
        for key in keys {
            switch nodes[current].entries[key] {
            case nil:
                current = add(key, in: current, origin: byHeader ? .implicit : .dotted, line: mark.line)
            case .table(let index) where byHeader || nodes[index].origin == .dotted:
                current = index
            case .tableArray(let indices, _) where byHeader:
                current = indices[indices.count - 1]
            case let existing?:
                let conflicting = path(of: current, extendedBy: [key]), firstLine = self.line(of: existing)
                throw FormatError(file: file, line: mark.line, column: TOMLParser.column(of: mark, in: bytes),
                                message: "\(what) conflicts with '\(conflicting)' defined at line \(firstLine)")
            }
        }
        return current
    }

    private mutating func add(_ key: String, in parent: Int, origin: Origin, line: Int) -> Int {
        let index = newNode(Node(path: path(of: parent, extendedBy: [key]), line: line, origin: origin))
        nodes[parent].keys.append(key)
        nodes[parent].entries[key] = .table(index)
        return index
    }

    private mutating func newNode(_ node: Node) -> Int {
        nodes.append(node)
        return nodes.count - 1
    }

    private func line(of entry: Entry) -> Int {
        switch entry {
        case .value(let item): item.line
        case .table(let index): nodes[index].line
        case .tableArray(_, let line): line
        }
    }

    private func redefinition(_ what: String, _ existing: Entry, at mark: TOMLParser.Mark) -> FormatError {
        FormatError(file: file, line: mark.line, column: TOMLParser.column(of: mark, in: bytes),
                  message: "\(what) is already defined at line \(self.line(of: existing))")
    }

    func build(_ index: Int = 0) -> TOMLTable {
        let node = nodes[index]
        var items: [String: TOMLItem] = [:]
        for (key, entry) in node.entries {
            switch entry {
            case .value(let item):
                items[key] = item
            case .table(let child):
                items[key] = TOMLItem(value: .table(build(child)), line: nodes[child].line)
            case .tableArray(let children, let line):
                let elements = children.map { TOMLItem(value: .table(build($0)), line: nodes[$0].line) }
                items[key] = TOMLItem(value: .array(elements), line: line)
            }
        }
        return TOMLTable(file: file, path: node.path, line: node.line, keys: node.keys, items: items)
    }
}

