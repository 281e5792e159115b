// swift-tools-version:6.0
import PackageDescription

// Optimise the numeric and video code even in debug builds: the test suite trains
// small networks and decodes real clips, which unoptimised Swift makes 20x slower.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "ActionLab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "actionlab", targets: ["actionlab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // System libraries from Debian, each with a shim.h that explains what it wraps.
        .systemLibrary(name: "CNcursesw", pkgConfig: "ncursesw",
                       providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "CFFmpeg", pkgConfig: "libavformat libavcodec libswscale libavutil",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),

        // The network: tensors, layers, loss, Adam, summary, safetensors checkpoints.
        .target(name: "ActionNet", dependencies: ["COpenBLAS"], swiftSettings: optimisedInDebug),
        // Video in and out: FFmpeg decoding, sampling, the clip cache, synthetic clips.
        .target(name: "ClipIO", dependencies: ["CFFmpeg"], swiftSettings: optimisedInDebug),
        // The project database: clips, labels and their history, runs, metrics.
        .target(name: "ActionStore", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        // Datasets, the background trainer and its events.
        .target(name: "Training", dependencies: ["ActionNet", "ClipIO", "ActionStore"],
                swiftSettings: optimisedInDebug),
        // App state, update(event), pure views into a cell grid, the ncurses driver.
        .target(name: "ActionLabUI", dependencies: [
            "ActionNet", "ClipIO", "ActionStore", "Training", "CNcursesw",
            .product(name: "TOMLKit", package: "TOMLKit"),
        ], resources: [.copy("Themes")]),
        // The executable: command-line parsing only.
        .executableTarget(name: "actionlab", dependencies: [
            "ActionNet", "ClipIO", "ActionStore", "Training", "ActionLabUI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Helpers shared by the test targets: closeness checks, fixtures, snapshots.
        .target(name: "TestSupport", dependencies: ["ActionNet"], path: "Tests/TestSupport",
                resources: [.copy("Fixtures")]),
        .testTarget(name: "ActionNetTests", dependencies: ["ActionNet", "TestSupport"],
                    swiftSettings: optimisedInDebug),
        .testTarget(name: "ClipIOTests", dependencies: ["ClipIO", "TestSupport"]),
        .testTarget(name: "ActionStoreTests", dependencies: [
            "ActionStore", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "TestSupport"]),
        .testTarget(name: "ActionLabUITests", dependencies: ["ActionLabUI", "TestSupport"],
                    exclude: ["Snapshots"]),
        // Drives the built `actionlab` binary (CLI and a real terminal through tmux).
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport"]),
    ]
)
