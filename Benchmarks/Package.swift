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
    ],
    targets: [
        .target(name: "CBenchSupport"),
        .executableTarget(
            name: "spindle-bench",
            dependencies: [
                .product(name: "Spindle", package: "Spindle"),
                "CBenchSupport",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
