import ArgumentParser
import ClipIO
import Foundation

/// `actionlab bench`: timings that are not tests. Each kind of benchmark brings its own
/// option group and runs when its options ask for it; add a group and a line in `run()`.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure how fast ActionLab trains, decodes clips and answers label keys.",
        discussion: """
            Without options, or with --shape: seconds per training step (median after a \
            warm-up), inference seconds per clip, peak memory and GFLOP/s of the seed stack \
            at the tiny, small and seed shapes, beside OpenBLAS's sgemm speed.

            --decode FILE: clips per second for decoding, sampling and scaling one clip \
            (60 frames of 192x192 gray unless told otherwise), cache hits, the optical flow of \
            the sampled frames (what motion inputs add), and the same \
            frames from the ffmpeg command line for comparison.

            --data DIR: clips per second read back from the project's clip cache (as training \
            reads them, with and without optical flow) and the peak memory per 1,000 clips, at \
            --data-frames x --data-size squared (32x96x96 unless told otherwise); --json prints them \
            as one JSON object.

            --ui: label key press to committed label to redrawn screen on a project \
            of 10,000 clips (median and 99th percentile).
            """)

    @OptionGroup(title: "Clip decoding")
    var decode: DecodeBenchmark

    @OptionGroup(title: "Data path")
    var data: DataBenchmark

    @OptionGroup(title: "Labelling")
    var ui: UIBenchOptions

    @OptionGroup(title: "Network")
    var network: NetworkBenchOptions

    func run() throws {
        var ran = false
        if decode.file != nil {
            try decode.run()
            ran = true
        }
        if data.directory != nil {
            try data.run(json: network.json)
            ran = true
        }
        if ui.enabled {
            try ui.run()
            ran = true
        }
        if !ran || network.shape != nil {
            try network.run()
        }
    }
}

/// Decoding speed of one clip: ActionLab's reader, its cache, and the ffmpeg command line.
struct DecodeBenchmark: ParsableArguments {
    @Option(name: .customLong("decode"), help: "Video file to decode, sample and scale.")
    var file: String?

    @Option(name: .customLong("decode-frames"), help: "Frames to sample (T).")
    var frames = SamplingSettings.seedStack.frames

    @Option(name: .customLong("decode-size"), help: "Side of the square gray frames (H = W).")
    var size = SamplingSettings.seedStack.width

    @Option(name: .customLong("seconds"), help: "Time to spend on each measurement.")
    var seconds = 3.0

    @Flag(name: .customLong("no-ffmpeg"), help: "Skip timing the ffmpeg command line.")
    var skipFFmpeg = false

    func validate() throws {
        if let problem = settings.problem { throw ValidationError(problem) }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    var settings: SamplingSettings {
        SamplingSettings(frames: frames, height: size, width: size, channels: 1)
    }

    func run() throws {
        guard let file else { return }
        let url = URL(fileURLWithPath: file)
        let metadata = try ClipReader(url: url).metadata
        print("\(file): \(metadata.codec) \(metadata.width)x\(metadata.height), \(metadata.frameCount) frames, "
              + String(format: "%.2f s", metadata.duration))
        let shape = "\(frames)x\(size)x\(size) gray"

        let decoding = try measure { _ = try ClipReader(url: url).sampledFrames(settings) }
        report("ActionLab decode+sample+scale to \(shape)", decoding)

        let cacheFolder = FileManager.default.temporaryDirectory
            .appendingPathComponent("actionlab-bench-\(getpid())", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: cacheFolder) }
        let cache = ClipCache(directory: cacheFolder)
        _ = try cache.frames(for: url, settings: settings)
        let hits = try measure { _ = try cache.frames(for: url, settings: settings) }
        report("cache hit", hits)
        print(String(format: "cache hit is %.0fx faster than decoding", hits.clipsPerSecond / decoding.clipsPerSecond))

        // Motion inputs compute optical flow from the cached frames once per run: what
        // that costs beside reading the frames.
        let gray = try cache.frames(for: url, settings: settings).floats()
        var flow = [Float](repeating: 0, count: gray.count * 2)
        let motion = try measure {
            gray.withUnsafeBufferPointer { g in
                flow.withUnsafeMutableBufferPointer { f in
                    OpticalFlow.flow(ofGrayFrames: g.baseAddress!, count: frames, height: size, width: size, into: f.baseAddress!)
                }
            }
        }
        report("optical flow of the sampled frames", motion)

        guard !skipFFmpeg else { return }
        guard let ffmpeg = ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"].first(where: FileManager.default.isExecutableFile)
        else {
            print("ffmpeg command line not found; skipped")
            return
        }
        let rate = String(format: "%.6f", Double(frames) / max(metadata.duration, 1e-3))
        // -benchmark makes ffmpeg print its own real time ("rtime"), which leaves out
        // the start-up of the ffmpeg process; both are reported.
        let arguments = ["-nostdin", "-hide_banner", "-nostats", "-benchmark", "-i", file,
                         "-vf", "fps=\(rate),scale=\(size):\(size),format=gray", "-f", "rawvideo", "-"]
        print("ffmpeg " + arguments.joined(separator: " "))
        var ownSeconds: [Double] = []
        let command = try measure { ownSeconds.append(try runFFmpeg(ffmpeg, arguments)) }
        report("ffmpeg command line, whole process", command)
        let ownTime = ownSeconds.sorted()[ownSeconds.count / 2]
        report("ffmpeg command line, its own rtime (median)",
               Measurement(runs: ownSeconds.count, elapsed: ownTime * Double(ownSeconds.count)))
        print(String(format: "ActionLab is %.2fx the speed of the ffmpeg process, %.2fx its own rtime",
                     decoding.clipsPerSecond / command.clipsPerSecond, decoding.clipsPerSecond * ownTime))
    }

    struct Measurement {
        var runs: Int
        var elapsed: Double
        var clipsPerSecond: Double { Double(runs) / elapsed }
    }

    /// Runs `body` once to warm up, then repeatedly for about `seconds` (at least 3 times).
    private func measure(_ body: () throws -> Void) throws -> Measurement {
        try body()
        var runs = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        while runs < 3 || elapsed < seconds {
            try body()
            runs += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        return Measurement(runs: runs, elapsed: elapsed)
    }

    private func report(_ what: String, _ measurement: Measurement) {
        let padded = what.padding(toLength: 50, withPad: " ", startingAt: 0)
        print(padded + String(format: "%9.1f clips/s  (%.3f ms per clip, %d runs)", measurement.clipsPerSecond,
                              1000 / measurement.clipsPerSecond, measurement.runs))
    }

    /// Runs ffmpeg with its output discarded; returns the real time it reports for itself.
    private func runFFmpeg(_ executable: String, _ arguments: [String]) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("ffmpeg failed on \(file ?? ""): \(log.split(separator: "\n").last ?? "")")
        }
        guard let range = log.range(of: "rtime="),
              let seconds = Double(log[range.upperBound...].prefix { $0.isNumber || $0 == "." })
        else { throw ValidationError("ffmpeg -benchmark printed no rtime") }
        return seconds
    }
}
