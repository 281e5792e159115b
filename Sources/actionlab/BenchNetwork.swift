import ActionNet
import ArgumentParser
import Foundation

extension ConvLSTM2D.Algorithm: ExpressibleByArgument {}

/// Training and inference speed of the seed stack at named shapes, with the machine's
/// sgemm speed beside it. Each shape of `all` runs in a child process so that its peak
/// memory is its own.
struct NetworkBenchOptions: ParsableArguments {
    @Option(name: .customLong("shape"), help: "tiny (T=8, 32x32, batch 4), small (T=16, 64x64, batch 8), seed (T=60, 192x192, batch 1) or all.")
    var shape: String?

    @Option(name: .customLong("steps"), help: "Training steps to time after one warm-up step (the median is reported).")
    var steps = 3

    @Option(name: .customLong("threads"), help: "Threads for OpenBLAS and the ConvLSTM work.")
    var threads = 2

    @Option(name: .customLong("algorithm"),
            help: "How the ConvLSTMs compute their 3x3 products: winograd (the default) or im2col, to compare.")
    var algorithm: ConvLSTM2D.Algorithm = .winograd

    @Option(name: .customLong("precision"), help: precisionHelp)
    var precision: Precision = .fp32

    @Flag(name: .customLong("json"), help: "Print one JSON object.")
    var json = false

    struct Report: Codable {
        var sgemmGFLOPS: Double
        var openblasCore: String
        var threads: Int
        var precision: Precision
        var shapes: [String: Benchmark.Result]

        enum CodingKeys: String, CodingKey {
            case sgemmGFLOPS = "sgemm_gflops"
            case openblasCore = "openblas_core"
            case threads, precision, shapes
        }
    }

    func validate() throws {
        if let shape, shape != "all", Benchmark.Shape.named(shape) == nil {
            throw ValidationError("--shape must be tiny, small, seed or all, got '\(shape)'")
        }
        guard steps >= 1, threads >= 1 else { throw ValidationError("--steps and --threads must be at least 1") }
    }

    func run() throws {
        try reportingErrors { try checkPrecision(precision) }
        BLAS.setThreads(threads)
        let names = (shape ?? "all") == "all" ? Benchmark.Shape.all.map(\.name) : [shape!]
        let sgemm = Benchmark.sgemmGFLOPS()
        if let note = BLAS.coreTypeNote { FileHandle.standardError.write(Data((note + "\n").utf8)) }
        if !json {
            print(String(format: "OpenBLAS %@, %d threads: sgemm %.1f GFLOP/s (1024x1024x1024)", BLAS.coreName, threads, sgemm))
            let kernel = precision == .fp32 ? (MatrixProduct.ownFloat32Kernel ? " (ActionNet's AVX-512 kernel)" : " (OpenBLAS)") : ""
            print("ConvLSTM products: \(algorithm.rawValue), \(precision.rawValue)\(kernel); GFLOP counted as direct convolutions")
        }
        var results: [String: Benchmark.Result] = [:]
        for name in names {
            let result = names.count == 1 ? try measure(name) : try measureInChildProcess(name)
            results[name] = result
            if !json { printLine(name, result) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let report = Report(sgemmGFLOPS: sgemm, openblasCore: BLAS.coreName, threads: threads, precision: precision,
                                shapes: results)
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
    }

    private func measure(_ name: String) throws -> Benchmark.Result {
        let shape = Benchmark.Shape.named(name)!
        return try Benchmark.run(shape, steps: steps, algorithm: algorithm, precision: precision) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// Runs `actionlab bench --shape NAME --json` and reads its result.
    private func measureInChildProcess(_ name: String) throws -> Benchmark.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["bench", "--shape", name, "--steps", String(steps), "--threads", String(threads),
                             "--algorithm", algorithm.rawValue, "--precision", precision.rawValue, "--json"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let report = try? JSONDecoder().decode(Report.self, from: data), let result = report.shapes[name] else {
            throw ValidationError("the \(name) benchmark failed (status \(process.terminationStatus))")
        }
        return result
    }

    private func printLine(_ name: String, _ r: Benchmark.Result) {
        // %-6@ does not pad on Linux: the name is padded by hand so that the columns line up.
        print(name.padding(toLength: 6, withPad: " ", startingAt: 0) + String(format: "train %8.3f s/step  infer %8.3f s/clip  peak RSS %7.0f MiB  %8.1f GFLOP/step  %6.1f GFLOP/s",
                     r.trainSecondsPerStep, r.inferSecondsPerClip, Double(r.peakRSSBytes) / 1_048_576,
                     r.gflopPerStep, r.gflops))
    }
}
