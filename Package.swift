// swift-tools-version: 6.1
import PackageDescription

#if os(Linux)
import Glibc
#endif

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// spindled's link: the Swift runtime linked in (glibc stays dynamic, so NSS lookups for user=
/// work), spindled's symbols not exported, and, where the building machine's glibc reads them
/// (2.36 and later) and the toolchain has lld, relative relocations packed (DT_RELR): 37,000
/// relocation entries (874 KiB that ld.so reads at every start) become a 7 KiB table.
/// 18 -> 11.6 MiB resident in all (docs/PERFORMANCE.md, "Supervisor").
func spindledLinkerFlags() -> [String] {
    var flags = ["-static-stdlib", "-Xlinker", "--no-export-dynamic"]
    #if os(Linux)
    var name = [CChar](repeating: 0, count: 64)  // "glibc 2.36"
    _ = confstr(Int32(_CS_GNU_LIBC_VERSION), &name, name.count)
    let text = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let version = text.split(separator: " ").last?.split(separator: ".").compactMap { Int($0) } ?? []
    let readsRELR = version.count >= 2 && (version[0], version[1]) >= (2, 36)
    let path = getenv("PATH").map { String(cString: $0) }?.split(separator: ":") ?? []
    let hasLLD = path.contains { access("\($0)/ld.lld", X_OK) == 0 }
    if readsRELR && hasLLD {
        flags += ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"]
    }
    #endif
    return flags
}

let package = Package(
    name: "Spindle",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Spindle", targets: ["Spindle"]),
        .library(name: "SpindleThreading", targets: ["SpindleThreading"]),
        .library(name: "SpindleQueue", targets: ["SpindleQueue"]),
        .library(name: "SpindleFutures", targets: ["SpindleFutures"]),
        .library(name: "SpindleSubprocess", targets: ["SpindleSubprocess"]),
        .library(name: "SpindleDaemon", targets: ["SpindleDaemon"]),
        .library(name: "SpindleEnvoy", targets: ["SpindleEnvoy"]),
        .library(name: "SpindleMultiprocessing", targets: ["SpindleMultiprocessing"]),
        .library(name: "SpindleSupervisor", targets: ["SpindleSupervisor"]),
        .library(name: "SpindleSupervisorServer", targets: ["SpindleSupervisorServer"]),
        .executable(name: "spindle", targets: ["spindle"]),
        .executable(name: "spindled", targets: ["spindled"]),
        .executable(name: "spindlectl", targets: ["spindlectl"]),
        .executable(name: "spindle-examples", targets: ["spindle-examples"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .target(name: "CSpindle", linkerSettings: [.linkedLibrary("z")]),
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
            name: "SpindleSubprocess",
            dependencies: ["CSpindle", "SpindleSystem", "SpindleThreading"],
            swiftSettings: strict
        ),
        .target(
            name: "SpindleDaemon",
            dependencies: ["CSpindle", "SpindleSystem"],
            swiftSettings: strict
        ),
        .target(
            name: "SpindleEnvoy",
            dependencies: ["SpindleSystem", "SpindleSubprocess"],
            swiftSettings: strict
        ),
        .target(
            name: "SpindleMultiprocessing",
            dependencies: ["CSpindle", "SpindleSystem", "SpindleThreading", "SpindleQueue", "SpindleFutures", "SpindleSubprocess"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "spindle-mp-fixture",
            dependencies: ["SpindleMultiprocessing", "SpindleTestSupport"],
            path: "Tests/Fixtures/spindle-mp-fixture",
            swiftSettings: strict
        ),
        .target(
            name: "SpindleSupervisor",
            dependencies: ["CSpindle", "SpindleSystem", "SpindleThreading", "SpindleSubprocess", "SpindleDaemon"],
            swiftSettings: strict
        ),
        .target(
            name: "SpindleSupervisorServer",
            dependencies: [
                "SpindleSupervisor", "SpindleSystem", "SpindleDaemon",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "spindled",
            dependencies: ["SpindleSupervisorServer", "SpindleSupervisor", "SpindleDaemon", "SpindleSystem"],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(spindledLinkerFlags())]
        ),
        .executableTarget(
            name: "spindlectl",
            dependencies: [
                "SpindleSupervisorServer", "SpindleSupervisor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Spindle",
            dependencies: [
                "SpindleThreading", "SpindleQueue", "SpindleFutures", "SpindleSubprocess", "SpindleDaemon",
                "SpindleEnvoy", "SpindleSupervisor", "SpindleMultiprocessing",
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "spindle-examples",
            dependencies: ["Spindle", "SpindleSystem"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "spindle",
            dependencies: [
                "Spindle",
                "SpindleSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SpindleTestSupport",
            dependencies: ["SpindleSystem", "SpindleThreading"],
            path: "Tests/SpindleTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleThreadingTests",
            dependencies: ["SpindleTestSupport", "SpindleThreading", "SpindleSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleQueueTests",
            dependencies: ["SpindleTestSupport", "SpindleQueue", "SpindleThreading", "SpindleSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleFuturesTests",
            dependencies: ["SpindleTestSupport", "SpindleFutures", "SpindleQueue", "SpindleThreading", "SpindleSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleSubprocessTests",
            dependencies: ["SpindleTestSupport", "SpindleSubprocess", "SpindleThreading", "SpindleSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleDaemonTests",
            dependencies: ["SpindleDaemon", "SpindleSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleEnvoyTests",
            dependencies: ["SpindleTestSupport", "SpindleEnvoy", "SpindleSubprocess", "SpindleSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleMultiprocessingTests",
            dependencies: ["SpindleTestSupport", "SpindleMultiprocessing", "SpindleFutures", "SpindleSubprocess", "SpindleThreading", "SpindleSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleSupervisorTests",
            dependencies: ["SpindleSupervisor", "SpindleSubprocess", "SpindleThreading", "SpindleSystem", "SpindleTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SpindleSupervisorServerTests",
            dependencies: ["SpindleTestSupport", "SpindleSupervisorServer", "SpindleSupervisor", "SpindleSubprocess", "SpindleSystem"],
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
