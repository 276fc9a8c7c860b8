import Foundation
import Testing
@testable import Board

private let dtcPath = "/usr/bin/dtc"

/// `dtc -I dtb -O dts` of `blob`: the exit status, the source text and the diagnostics.
private func decompile(_ blob: [UInt8]) throws -> (status: Int32, dts: String, diagnostics: String) {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("board-\(UUID().uuidString).dtb")
    try Data(blob).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: dtcPath)
    process.arguments = ["-I", "dtb", "-O", "dts", file.path]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // dtc's output is small; read both pipes to the end before waiting.
    let dts = out.fileHandleForReading.readDataToEndOfFile()
    let diagnostics = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: dts, as: UTF8.self), String(decoding: diagnostics, as: UTF8.self))
}

/// The DTS as node path -> its property lines (trimmed), for the layout dtc writes: one
/// `name {` line opening a node, `};` closing it.
private func nodes(of dts: String) -> [String: Set<String>] {
    var path: [String] = [], result: [String: Set<String>] = [:]
    for raw in dts.split(separator: "\n") {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.hasSuffix("{") {
            path.append(String(line.dropLast().trimmingCharacters(in: .whitespaces)))
            if result[key(path)] == nil { result[key(path)] = [] }
        } else if line == "};" {
            path.removeLast()
        } else if !path.isEmpty, !line.isEmpty {
            result[key(path), default: []].insert(line)
        }
    }
    return result
}

private func key(_ path: [String]) -> String { path.count <= 1 ? "/" : "/" + path.dropFirst().joined(separator: "/") }

@Suite("virt board devicetree")
struct VirtBoardTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: dtcPath),
                   "dtc is not installed at /usr/bin/dtc (Debian package device-tree-compiler)"))
    func dtcDecompilesTheBoard() throws {
        let board = VirtBoard(ramSize: 256 << 20, bootargs: "console=ttyAMA0 earlycon")
        let (status, dts, diagnostics) = try decompile(board.deviceTreeBlob())
        #expect(status == 0)
        #expect(diagnostics.isEmpty, "dtc warned: \(diagnostics)")
        #expect(dts.hasPrefix("/dts-v1/;"))
        let tree = nodes(of: dts)
        // Expected lines in dtc's notation: cells as <0x..>, string lists joined with \0. The
        // values are the brief's virt layout, the bindings named in VirtBoard and PSCI's
        // function IDs (DEN0022).
        let expected: [String: [String]] = [
            "/": ["#address-cells = <0x02>;", "#size-cells = <0x02>;", "compatible = \"linux,dummy-virt\";",
                  "interrupt-parent = <0x01>;"],
            "/memory@40000000": ["device_type = \"memory\";", "reg = <0x00 0x40000000 0x00 0x10000000>;"],
            "/cpus": ["#address-cells = <0x01>;", "#size-cells = <0x00>;"],
            "/cpus/cpu@0": ["device_type = \"cpu\";", "compatible = \"arm,cortex-a57\";", "reg = <0x00>;",
                            "enable-method = \"psci\";"],
            "/psci": ["compatible = \"arm,psci-1.0\\0arm,psci-0.2\\0arm,psci\";", "method = \"hvc\";",
                      "cpu_on = <0xc4000003>;", "cpu_off = <0x84000002>;", "cpu_suspend = <0xc4000001>;",
                      "migrate = <0xc4000005>;"],
            // SPI 1, level high; clocks twice the 24 MHz fixed clock (phandle 2).
            "/pl011@9000000": ["compatible = \"arm,pl011\\0arm,primecell\";", "reg = <0x00 0x9000000 0x00 0x1000>;",
                               "interrupts = <0x00 0x01 0x04>;", "clocks = <0x02 0x02>;",
                               "clock-names = \"uartclk\\0apb_pclk\";"],
            "/apb-pclk": ["compatible = \"fixed-clock\";", "#clock-cells = <0x00>;", "clock-frequency = <0x16e3600>;",
                          "phandle = <0x02>;"],
            // PPIs 13, 14, 11, 10 (INTIDs 29, 30, 27, 26), level high, CPU 0 only.
            "/timer": ["compatible = \"arm,armv8-timer\";", "always-on;",
                       "interrupts = <0x01 0x0d 0x104 0x01 0x0e 0x104 0x01 0x0b 0x104 0x01 0x0a 0x104>;"],
            "/intc@8000000": ["compatible = \"arm,cortex-a15-gic\";",
                              "reg = <0x00 0x8000000 0x00 0x10000 0x00 0x8010000 0x00 0x10000>;",
                              "#interrupt-cells = <0x03>;", "#address-cells = <0x00>;", "interrupt-controller;", "phandle = <0x01>;"],
            "/chosen": ["bootargs = \"console=ttyAMA0 earlycon\";", "stdout-path = \"/pl011@9000000\";"],
            "/flash@0": ["compatible = \"cfi-flash\";", "reg = <0x00 0x00 0x00 0x4000000 0x00 0x4000000 0x00 0x4000000>;",
                         "bank-width = <0x04>;"],
        ]
        for (path, lines) in expected {
            let found = try #require(tree[path], "no node \(path) in:\n\(dts)")
            for line in lines { #expect(found.contains(line), "\(path): missing \(line); has \(found.sorted())") }
        }
        #expect(Set(tree.keys) == Set(expected.keys))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: dtcPath),
                   "dtc is not installed at /usr/bin/dtc (Debian package device-tree-compiler)"))
    func dtcAcceptsTheBoardWithoutFlash() throws {
        let (status, dts, diagnostics) = try decompile(VirtBoard(describesFlash: false).deviceTreeBlob(minimumSize: 0))
        #expect(status == 0 && diagnostics.isEmpty)
        #expect(!dts.contains("flash@0"))
        #expect(dts.contains("reg = <0x00 0x40000000 0x00 0x8000000>;"))  // the 128 MiB default
    }

    @Test func treeContents() throws {
        let board = VirtBoard(ramSize: 0x1_0000_0000, bootargs: "")
        let tree = board.deviceTree
        // DT spec 3.4: /memory's reg in the root's 2+2 cells; 4 GiB needs the high size cell.
        #expect(tree.node(at: "/memory@40000000")?.property("reg")?.cells == [0, 0x4000_0000, 1, 0])
        #expect(tree.node(at: "/chosen")?.property("stdout-path")?.string == "/pl011@9000000")
        // stdout-path must name a node that exists.
        #expect(tree.node(at: "/pl011@9000000") != nil)
        #expect(tree.node(at: "/intc@8000000")?.property("phandle")?.u32 == VirtBoard.gicPhandle.rawValue)
        #expect(tree.root.property("interrupt-parent")?.u32 == VirtBoard.gicPhandle.rawValue)
        #expect(tree.node(at: "/apb-pclk")?.property("phandle")?.u32 == VirtBoard.clockPhandle.rawValue)
        #expect(tree.node(at: "/psci")?.property("compatible")?.strings == ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"])
        #expect(board.ram == AddressRange(base: 0x4000_0000, size: 0x1_0000_0000))
    }

    @Test func blobIsPaddedForInPlaceEdits() {
        let blob = VirtBoard().deviceTreeBlob()
        #expect(blob.count == 0x1_0000)
        #expect(Header(blob).totalSize == 0x1_0000)
    }
}
