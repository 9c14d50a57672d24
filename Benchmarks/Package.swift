// swift-tools-version: 6.1
// Spindle's benchmarks: a separate package, so the library's own build and CI never compile them.
//   cd Benchmarks && swift build -c release && .build/release/spindle-bench [section ...]
import PackageDescription

let package = Package(
    name: "SpindleBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // `name:` lets `package: "Spindle"` below work whatever the checkout folder is called.
        .package(name: "Spindle", path: ".."),
        // Peers: AsyncChannel (the queue section's task → task figure) and swift-subprocess (the
        // subprocess section), as a Swift program on Linux would use them.
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
    ],
    targets: [
        .target(name: "CBenchSupport"),
        .executableTarget(
            name: "spindle-bench",
            dependencies: [
                .product(name: "Spindle", package: "Spindle"),
                .product(name: "SpindleEnvoy", package: "Spindle"),
                .product(name: "SpindleSupervisorServer", package: "Spindle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                "CBenchSupport",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
