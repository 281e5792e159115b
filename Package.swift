// swift-tools-version:6.0
import Foundation
import PackageDescription

// Optimise the numeric and video code even in debug builds: the test suite trains
// small networks and decodes real clips, which unoptimised Swift makes 20x slower.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

// ActionNet's element-wise kernels (Winograd transforms, gate arithmetic) are loops and
// SIMD8 values that the compiler maps to the widest vectors its target CPU has. The
// default target is baseline x86-64 (SSE2, 4 floats); on a CPU with AVX2 and FMA (x86
// CPUs since 2013) ActionNet is built for that instruction set instead, which makes a
// training step about 10% faster. On an AMD CPU with Zen 4's AVX-512 (Zen 4 and later)
// it is built for Zen 4, the one AVX-512 target whose loops the compiler vectorises
// with 16 floats (for Intel's it keeps to 8): the gate arithmetic takes a quarter less
// time. `make` builds on the machine that runs the program, as `-march=native` would;
// ACTIONLAB_TARGET_CPU names another target (e.g. "x86-64" for a binary to copy to an
// older machine).
let vectorTarget: [SwiftSetting] = {
    if let cpu = ProcessInfo.processInfo.environment["ACTIONLAB_TARGET_CPU"] {
        return cpu.isEmpty ? [] : [.unsafeFlags(["-target-cpu", cpu])]
    }
    #if arch(x86_64)
    guard let cpuInfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagLine = cpuInfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
    let flags = Set(flagLine.split(separator: " ").map(String.init))
    guard flags.isSuperset(of: ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "movbe"]) else { return [] }
    let amd = cpuInfo.contains("AuthenticAMD")
    let zen4AVX512: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512ifma", "avx512vbmi",
                                   "avx512_vbmi2", "avx512_vnni", "avx512_bitalg", "avx512_vpopcntdq", "avx512_bf16",
                                   "gfni", "vaes", "vpclmulqdq"]
    return [.unsafeFlags(["-target-cpu", amd && flags.isSuperset(of: zen4AVX512) ? "znver4" : "haswell"])]
    #else
    return []
    #endif
}()

// Open MPI is optional. SwiftPM has no optional dependencies: a system-library target
// whose headers are missing fails the whole build. So the manifest asks pkg-config
// whether Open MPI is installed and only then adds the CMPI target, makes Distributed
// depend on it and defines ACTIONLAB_MPI there; without it, `train --distributed` says
// how to install Open MPI. ACTIONLAB_WITHOUT_MPI=1 builds as if it were missing.
let openMPIInstalled: Bool = {
    if ProcessInfo.processInfo.environment["ACTIONLAB_WITHOUT_MPI"] == "1" { return false }
    let pkgConfig = Process()
    pkgConfig.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    pkgConfig.arguments = ["pkg-config", "--exists", "ompi-c"]
    pkgConfig.standardOutput = FileHandle.nullDevice
    pkgConfig.standardError = FileHandle.nullDevice
    guard (try? pkgConfig.run()) != nil else { return false }
    pkgConfig.waitUntilExit()
    return pkgConfig.terminationStatus == 0
}()
let openMPITargets: [Target] = openMPIInstalled
    ? [.systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])])]
    : []
let openMPIDependency: [Target.Dependency] = openMPIInstalled ? ["CMPI"] : []
let openMPIDefine: [SwiftSetting] = openMPIInstalled ? [.define("ACTIONLAB_MPI")] : []

// ActionLab builds on Linux only: it calls Glibc by name and in its Linux spellings
// (`Glibc.signal`, `RUSAGE_SELF.rawValue`, madvise's MADV_DONTNEED), reads /proc (memory
// size, its own executable), links the Debian packages of ncursesw,
// FFmpeg, OpenBLAS and Open MPI, and is tested nowhere else. So no `platforms` entry
// claims a macOS version.
let package = Package(
    name: "ActionLab",
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
    ] + openMPITargets + [

        // bfloat16 matrix products with float32 accumulation (AVX512_BF16), which Debian's
        // OpenBLAS leaves out (it is built without BUILD_BFLOAT16: no cblas_sbgemm), and
        // float32 ones on AVX-512F, which OpenBLAS does not use when OPENBLAS_CORETYPE
        // names an AVX2 core. Its kernel functions are compiled for AVX512_BF16 or
        // AVX-512F by target attributes and called only on CPUs that have it; optimised in debug builds too, as intrinsics at -O0
        // would be many times slower than sgemm.
        .target(name: "CBFloat16", cSettings: [.unsafeFlags(["-O3"])]),

        // The network: tensors, layers, loss, Adam, summary, safetensors checkpoints.
        .target(name: "ActionNet", dependencies: ["COpenBLAS", "CBFloat16"], swiftSettings: optimisedInDebug + vectorTarget),
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
        // Data-parallel training over MPI: ranks, sharded batches, gradient and BatchNorm
        // reductions. Without Open MPI it builds and reports that it needs it.
        .target(name: "Distributed", dependencies: ["ActionNet"] + openMPIDependency,
                swiftSettings: optimisedInDebug + openMPIDefine),
        // App state, update(event), pure views into a cell grid, the ncurses driver. Its
        // themes are the top-level themes/ folder, found beside the program or built in
        // (BuiltInThemes.swift), not a resource bundle: a copied binary needs none.
        .target(name: "ActionLabUI", dependencies: [
            "ActionNet", "ClipIO", "ActionStore", "Training", "CNcursesw",
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        // The executable: command-line parsing only.
        .executableTarget(name: "actionlab", dependencies: [
            "ActionNet", "ClipIO", "ActionStore", "Training", "ActionLabUI", "Distributed",
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
        // Sharding and reductions in one process, and `mpirun` runs of the built binary.
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "TestSupport"],
                    swiftSettings: openMPIDefine),
        // Drives the built `actionlab` binary (CLI and a real terminal through tmux).
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport"]),
    ]
)
