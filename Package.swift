// swift-tools-version: 6.0
// mairlab: an experiment harness for AArch64 memory attributes under a hypervisor.
//
// Module arrows point one way (README, "Layout"):
//   mairlab (executable) -> MairlabCommands -> {Collector, Bench} -> Harness -> {Formats, Hypervisor,
//   Coherency, AArch64, Unicorn, Board}; Formats -> {Hypervisor, Coherency} -> AArch64; Board -> AArch64;
//   Unicorn -> CUnicorn.
// AArch64 imports nothing; Hypervisor, Coherency and Formats never import Unicorn.
import PackageDescription

let package = Package(
    name: "mairlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mairlab", targets: ["mairlab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CUnicorn",
            pkgConfig: "unicorn",
            providers: [.apt(["libunicorn-dev"])]
        ),
        .target(name: "Unicorn", dependencies: ["CUnicorn"]),
        .target(name: "AArch64"),
        .target(name: "Hypervisor", dependencies: ["AArch64"]),
        .target(name: "Coherency", dependencies: ["AArch64"]),
        .target(name: "Formats", dependencies: ["AArch64", "Hypervisor", "Coherency"]),
        .target(name: "Board", dependencies: ["AArch64"]),
        .target(name: "Harness", dependencies: ["Unicorn", "AArch64", "Hypervisor", "Coherency", "Formats", "Board"]),
        .target(name: "Collector", dependencies: ["Harness", "Formats", "Hypervisor", "Unicorn"]),
        // `mairlab bench`: the harness against raw Unicorn (raw.h), never run by the tests.
        .target(name: "Bench", dependencies: ["Harness", "Hypervisor", "Formats", "CUnicorn"]),
        .target(
            name: "MairlabCommands",
            dependencies: [
                "Harness", "Collector", "Bench", "AArch64", "Hypervisor", "Formats", "Unicorn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "mairlab", dependencies: ["MairlabCommands"]),
        .testTarget(name: "UnicornTests", dependencies: ["Unicorn"]),
        .testTarget(name: "AArch64Tests", dependencies: ["AArch64"]),
        .testTarget(name: "HypervisorTests", dependencies: ["Hypervisor", "AArch64"]),
        .testTarget(name: "CoherencyTests", dependencies: ["Coherency", "AArch64"]),
        .testTarget(name: "BoardTests", dependencies: ["Board"]),
        // Builds without Unicorn: the file formats are pure.
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "Hypervisor", "Coherency", "AArch64"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "Formats", "Unicorn", "AArch64", "Hypervisor", "Coherency"]),
        .testTarget(name: "CollectorTests", dependencies: ["Collector", "Harness", "Formats"]),
        // The commands in-process: golden help and reports, exit statuses.
        .testTarget(name: "MairlabCommandsTests", dependencies: ["MairlabCommands", "Collector", "Harness"],
                    exclude: ["Golden"]),
        // The built `mairlab` binary as a user runs it (signals, pipes, the process's exit status).
        .testTarget(name: "MairlabCLITests", dependencies: ["mairlab", "Formats"]),
    ]
)
