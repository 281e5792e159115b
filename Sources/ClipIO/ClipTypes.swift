import Foundation

/// How a clip is turned into network input: `frames` (T) pictures of
/// `height` x `width` (H x W) with `channels` (C) channels, 1 for gray or 3 for RGB.
public struct SamplingSettings: Sendable, Hashable, Codable {
    public var frames: Int
    public var height: Int
    public var width: Int
    public var channels: Int

    public init(frames: Int, height: Int, width: Int, channels: Int) {
        self.frames = frames
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// The original network's input: 60 frames of 192x192 gray.
    public static let seedStack = SamplingSettings(frames: 60, height: 192, width: 192, channels: 1)

    /// The largest frame count and side ClipIO accepts; beyond that a request is a mistake.
    public static let maximumFrames = 10_000
    public static let maximumSide = 8192

    /// The most bytes one sample may take as network input (T * H * W * C Float32 values):
    /// a quarter of the machine's memory, so that the decoded frames, the input and a
    /// model's activations can still fit beside it.
    public static var maximumSampleBytes: Int {
        Int(clamping: ProcessInfo.processInfo.physicalMemory / 4)
    }

    /// Bytes of one sampled picture: H * W * C.
    public var bytesPerFrame: Int { height * width * channels }
    /// Bytes of a whole sampled clip: T * H * W * C.
    public var byteCount: Int { frames * bytesPerFrame }

    /// What is wrong with these settings, nil when they can be used.
    public var problem: String? {
        if !(1...Self.maximumFrames).contains(frames) {
            return "frames must be between 1 and \(Self.maximumFrames), not \(frames)"
        }
        if !(1...Self.maximumSide).contains(height) || !(1...Self.maximumSide).contains(width) {
            return "frame size must be between 1 and \(Self.maximumSide), not \(width)x\(height)"
        }
        if channels != 1 && channels != 3 {
            return "channels must be 1 (gray) or 3 (RGB), not \(channels)"
        }
        if let problem = Self.sizeProblem(frames: frames, height: height, width: width, channels: channels) {
            return problem
        }
        return nil
    }
}

extension SamplingSettings {
    /// What is wrong with a sample of T x H x W x C values as network input (Float32), nil
    /// when it fits in `maximumSampleBytes`: the one check of a sample's size, for a clip's
    /// sampling, a project's [sampling] and a checkpoint's input alike.
    public static func sizeProblem(frames: Int, height: Int, width: Int, channels: Int) -> String? {
        var bytes = MemoryLayout<Float>.size
        for size in [frames, height, width, channels] {
            guard size >= 0, case let (product, false) = bytes.multipliedReportingOverflow(by: size) else {
                bytes = Int.max
                break
            }
            bytes = product
        }
        guard bytes > maximumSampleBytes else { return nil }
        let size = bytes == Int.max ? "more than \(gigabytes(Int.max))" : gigabytes(bytes)
        return "a sample of \(frames) x \(height) x \(width) x \(channels) values takes \(size) as network input, "
            + "more than this machine's memory allows (at most \(gigabytes(maximumSampleBytes)), a quarter of its memory)"
    }

    static func gigabytes(_ bytes: Int) -> String {
        String(format: "%.2f GB", Double(bytes) / 1e9)
    }
}

/// What a clip's container and stream say about it.
public struct ClipMetadata: Sendable, Codable, Equatable {
    /// FFmpeg's short codec name, e.g. "h264", "vp9", "mjpeg".
    public var codec: String
    public var width: Int
    public var height: Int
    /// Frames per second (the stream's average rate).
    public var fps: Double
    /// Seconds.
    public var duration: Double
    public var frameCount: Int
    /// True when the container stores the frame count; false when it is duration x fps.
    public var frameCountIsExact: Bool

    public init(codec: String, width: Int, height: Int, fps: Double, duration: Double,
                frameCount: Int, frameCountIsExact: Bool) {
        self.codec = codec
        self.width = width
        self.height = height
        self.fps = fps
        self.duration = duration
        self.frameCount = frameCount
        self.frameCountIsExact = frameCountIsExact
    }
}

/// A sampled clip: `pixels` has shape (T, H, W, C) of `settings`, row-major uint8.
public struct ClipFrames: Sendable, Equatable {
    public var settings: SamplingSettings
    /// (T, H, W, C) row-major; count == settings.byteCount.
    public var pixels: [UInt8]

    public init(settings: SamplingSettings, pixels: [UInt8]) {
        precondition(pixels.count == settings.byteCount, "pixels must hold T*H*W*C bytes")
        self.settings = settings
        self.pixels = pixels
    }

    /// The shape (T, H, W, C).
    public var shape: [Int] { [settings.frames, settings.height, settings.width, settings.channels] }

    /// The pixels as Float32 in [0, 1], same (T, H, W, C) layout: the network's input.
    public func floats() -> [Float] {
        pixels.map { Float($0) * (1 / 255) }
    }

    /// Appends the pixels as Float32 in [0, 1] to `buffer`, e.g. to build an (N, T, H, W, C) batch.
    public func appendFloats(to buffer: inout [Float]) {
        buffer.reserveCapacity(buffer.count + pixels.count)
        for value in pixels { buffer.append(Float(value) * (1 / 255)) }
    }

    /// The mean pixel value in [0, 1].
    public var mean: Double {
        guard !pixels.isEmpty else { return 0 }
        var sum = 0
        for value in pixels { sum += Int(value) }
        return Double(sum) / Double(pixels.count) / 255
    }

    /// The bytes of frame `index`: (H, W, C).
    public func frame(_ index: Int) -> ArraySlice<UInt8> {
        let size = settings.bytesPerFrame
        return pixels[index * size ..< (index + 1) * size]
    }
}

/// One picture for display: `rgb` holds (height, width, 3) row-major RGB24 bytes.
public struct PreviewFrame: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var rgb: [UInt8]
    /// Seconds from the start of the clip.
    public var timestamp: Double

    public init(width: Int, height: Int, rgb: [UInt8], timestamp: Double) {
        self.width = width
        self.height = height
        self.rgb = rgb
        self.timestamp = timestamp
    }
}
