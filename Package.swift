// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Spindle",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Spindle", targets: ["Spindle"]),
        .library(name: "SpindleThreading", targets: ["SpindleThreading"]),
        .library(name: "SpindleQueue", targets: ["SpindleQueue"]),
        .library(name: "SpindleFutures", targets: ["SpindleFutures"]),
        .executable(name: "spindle-examples", targets: ["spindle-examples"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        .target(name: "CSpindle"),
        .target(
            name: "SpindleSystem",
            dependencies: [
                "CSpindle",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SpindleThreading",
            dependencies: [
                "SpindleSystem",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SpindleQueue",
            dependencies: [
                "SpindleSystem",
                "SpindleThreading",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SpindleFutures",
            dependencies: [
                "SpindleSystem",
                "SpindleThreading",
                "SpindleQueue",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Spindle",
            dependencies: ["SpindleThreading", "SpindleQueue", "SpindleFutures"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "spindle-examples",
            dependencies: ["Spindle", "SpindleSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleThreadingTests",
            dependencies: ["SpindleThreading", "SpindleSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleQueueTests",
            dependencies: ["SpindleQueue", "SpindleThreading", "SpindleSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleFuturesTests",
            dependencies: ["SpindleFutures", "SpindleQueue", "SpindleThreading", "SpindleSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleTests",
            dependencies: ["Spindle"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleExamplesTests",
            dependencies: ["SpindleSystem"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
