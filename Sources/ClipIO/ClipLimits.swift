import Foundation

/// What ClipIO believes of a clip's header. A header can claim anything; values beyond
/// these bounds are refused as unreadable instead of being turned into sizes, counts or
/// timestamps that overflow or allocate without end.
public enum ClipLimits {
    /// The longest clip: a day. Action clips last seconds.
    public static let maximumDuration = 86_400.0
    /// The highest frame rate: high-speed cameras reach a thousand frames a second.
    public static let maximumFPS = 1_000.0
    /// The most frames a clip may claim (a day at 60 fps); never more than the file has bytes.
    public static let maximumFrameCount = 5_184_000
    /// The widest and tallest picture (FFmpeg's own decoders stop at 16384).
    public static let maximumSide = 16_384

    /// What is wrong with `metadata` read from a file of `fileSize` bytes, nil when it is plausible.
    static func problem(with metadata: ClipMetadata, fileSize: Int?) -> String? {
        if !(metadata.duration.isFinite && metadata.duration >= 0 && metadata.duration <= maximumDuration) {
            return "the header claims a duration of \(format(metadata.duration)) s "
                + "(at most \(format(maximumDuration)) s is accepted)"
        }
        if !(metadata.fps.isFinite && metadata.fps >= 0 && metadata.fps <= maximumFPS) {
            return "the header claims \(format(metadata.fps)) frames per second (at most \(format(maximumFPS)) is accepted)"
        }
        if metadata.frameCount < 0 || metadata.frameCount > maximumFrameCount {
            return "the header claims \(metadata.frameCount) frames (at most \(maximumFrameCount) are accepted)"
        }
        if let fileSize, metadata.frameCountIsExact, metadata.frameCount > fileSize {
            return "the header claims \(metadata.frameCount) frames, more than a file of \(fileSize) bytes can hold"
        }
        if !(1...maximumSide).contains(metadata.width) || !(1...maximumSide).contains(metadata.height) {
            return "the picture size \(metadata.width)x\(metadata.height) is beyond \(maximumSide)x\(maximumSide)"
        }
        return nil
    }

    /// `value` rounded to the nearest whole number when it is finite and within `range`, else nil.
    static func wholeNumber<T: BinaryInteger>(_ value: Double, in range: ClosedRange<T>) -> T? {
        let rounded = value.rounded()
        guard rounded.isFinite, rounded >= Double(range.lowerBound), rounded <= Double(range.upperBound) else { return nil }
        return T(exactly: rounded)
    }

    private static func format(_ value: Double) -> String { String(format: "%g", value) }
}
