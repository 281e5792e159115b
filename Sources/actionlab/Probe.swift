import ArgumentParser
import ClipIO
import Foundation

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each clip's metadata and the shape and mean of its sampled frames.",
        discussion: """
            A file that cannot be read prints one line, FILE: what is wrong, and makes \
            the exit status 1.
            """)

    @Argument(help: "Video files to probe.")
    var files: [String]

    @Option(help: "Frames to sample (T).")
    var frames = SamplingSettings.seedStack.frames

    @Option(help: "Side of the square sampled frames (H = W).")
    var size = SamplingSettings.seedStack.width

    @Option(help: "Channels: 1 gray, 3 RGB.")
    var channels = SamplingSettings.seedStack.channels

    @Flag(help: "Print one JSON array instead of lines of text.")
    var json = false

    func validate() throws {
        if let problem = settings.problem { throw ValidationError(problem) }
    }

    private var settings: SamplingSettings {
        SamplingSettings(frames: frames, height: size, width: size, channels: channels)
    }

    /// One file's findings, as printed with --json.
    struct Report: Encodable {
        var file: String
        var metadata: ClipMetadata?
        /// (T, H, W, C) of the sampled frames.
        var shape: [Int]?
        /// Mean of the sampled pixels, in [0, 1].
        var mean: Double?
        var error: String?
    }

    func run() throws {
        var reports: [Report] = []
        for file in files {
            do {
                let reader = try ClipReader(url: URL(fileURLWithPath: file))
                let sampled = try reader.sampledFrames(settings)
                reports.append(Report(file: file, metadata: reader.metadata, shape: sampled.shape, mean: sampled.mean))
            } catch {
                reports.append(Report(file: file, error: error.reason))
            }
            if !json { printLine(reports.last!) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(reports), as: UTF8.self))
        }
        if reports.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }

    private func printLine(_ report: Report) {
        guard let metadata = report.metadata, let shape = report.shape, let mean = report.mean else {
            FileHandle.standardError.write(Data("\(report.file): \(report.error ?? "unreadable")\n".utf8))
            return
        }
        let count = "\(metadata.frameCount) frames" + (metadata.frameCountIsExact ? "" : " (estimated)")
        let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        print("\(report.file): \(metadata.codec) \(metadata.width)x\(metadata.height), "
              + String(format: "%.3g fps, %.2f s, ", metadata.fps, metadata.duration) + count
              + "; sampled \(shapeText) mean " + String(format: "%.4f", mean))
    }
}
