import ClipIO
import Foundation
import Testing

/// Clips made for the tests.
enum TestClips {
    /// The gray level of frame `index` in an index-coded clip: far enough apart that
    /// lossy codecs cannot blur one frame into the next. Levels repeat after 19 frames.
    static func level(ofFrame index: Int) -> UInt8 { UInt8(20 + 12 * (index % 19)) }

    /// Which frame an index-coded picture shows, from its mean gray level.
    static func frameIndex(ofLevel mean: Double) -> Int { Int(((mean - 20) / 12).rounded()) }

    /// Writes an index-coded gray clip: frame i is flat gray at `level(ofFrame: i)`.
    @discardableResult
    static func indexCoded(_ url: URL, frames: Int, width: Int = 64, height: Int = 48, fps: Int = 8,
                           quality: Int = 0) throws -> URL {
        let writer = try MP4Writer(url: url, width: width, height: height, fps: fps, quality: quality)
        for index in 0..<frames {
            try writer.append([UInt8](repeating: level(ofFrame: index), count: width * height), channels: 1)
        }
        try writer.finish()
        return url
    }

    /// Mean gray level (0...255) of each sampled frame.
    static func frameMeans(_ clip: ClipFrames) -> [Double] {
        (0..<clip.settings.frames).map { index in
            let frame = clip.frame(index)
            return Double(frame.reduce(0) { $0 + Int($1) }) / Double(frame.count)
        }
    }

    /// Runs the ffmpeg command line (quietly) with `arguments`; throws when it fails.
    static func ffmpeg(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        process.arguments = ["-nostdin", "-v", "error", "-y"] + arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw ClipIOError(path: arguments.last ?? "ffmpeg",
                              reason: "ffmpeg failed: " + String(decoding: message, as: UTF8.self))
        }
    }
}
