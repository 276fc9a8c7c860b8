// swift-tools-version: 6.0
// mairlab: an experiment harness for AArch64 memory attributes under a hypervisor.
// Module arrows point one way: CLI -> Collector -> Harness -> {Hypervisor, Coherency -> AArch64;
// Unicorn -> CUnicorn}. AArch64 and Unicorn know nothing of each other.
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
        .target(name: "Harness", dependencies: ["Unicorn", "AArch64", "Hypervisor", "Coherency"]),
        .target(name: "Collector", dependencies: ["Harness", "Hypervisor", "Unicorn"]),
        .executableTarget(
            name: "mairlab",
            dependencies: [
                "Harness", "Collector", "AArch64", "Hypervisor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "UnicornTests", dependencies: ["Unicorn"]),
        .testTarget(name: "AArch64Tests", dependencies: ["AArch64"]),
        .testTarget(name: "HypervisorTests", dependencies: ["Hypervisor", "AArch64"]),
        .testTarget(name: "CoherencyTests", dependencies: ["Coherency", "AArch64"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "Unicorn", "AArch64", "Hypervisor", "Coherency"]),
        .testTarget(name: "CollectorTests", dependencies: ["Collector", "Harness"]),
        // Runs the built `mairlab` binary as a user would (golden output, exit statuses).
        .testTarget(name: "MairlabCLITests", dependencies: ["mairlab"]),
    ]
)
