import ActionNet
import ClipIO

/// What the model sees of a sampled clip (T, H, W, C) with C = 1 (gray) or 3 (RGB).
/// Stored in the checkpoint (`__metadata__.input`), so prediction applies it too.
///
/// Many label sets depend on which way things move (swipe left or right, walk towards or
/// away, a camera panning left or right): the inputs below that carry motion keep its
/// sign. Only `frame_differences` throws the direction away.
public enum InputTransform: String, Codable, Sendable, CaseIterable {
    /// The frames as they are, in [0, 1].
    case frames
    /// |frame t - frame t-1| for t >= 1 and a black frame 0: only what moves, whatever
    /// the background and whether the figure is lighter or darker than it, but not which
    /// way it moved.
    case frameDifferences = "frame_differences"
    /// frame t - frame t-1 (in [-1, 1]) for t >= 1, zero for frame 0: what moves, with the
    /// sign that tells an edge arriving from one arriving at the other side.
    case signedDifferences = "signed_differences"
    /// Each frame and its signed difference from the previous one, as 2C channels.
    case framesAndDifferences = "frames_and_differences"
    /// Dense optical flow (dx, dy) of the gray frames, in pixels of the sampled frame: 2
    /// channels, zero for frame 0. Where everything moved, and which way.
    case motion
    /// The frames (C channels) followed by their optical flow (2 channels).
    case framesAndMotion = "frames_and_motion"
    /// |frame t - frame t-1| (C channels) followed by the optical flow (2 channels): what
    /// moves, however thin or faint, and which way everything moved.
    case differencesAndMotion = "differences_and_motion"

    /// The checkpoint metadata key that names the transform.
    public static let metadataKey = "input"

    /// Channels of the model's input for clips sampled with `channels` channels.
    public func outputChannels(_ channels: Int) -> Int {
        switch self {
        case .frames, .frameDifferences, .signedDifferences: channels
        case .framesAndDifferences: 2 * channels
        case .motion: 2
        case .framesAndMotion, .differencesAndMotion: channels + 2
        }
    }

    /// Channels the clips must be sampled with for a model input of `modelChannels`, or
    /// nil when this transform cannot produce that many. Motion alone is computed from
    /// gray frames.
    public func samplingChannels(forModelChannels modelChannels: Int) -> Int? {
        let candidates = [1, 3].filter { outputChannels($0) == modelChannels }
        return candidates.first
    }

    /// One sample's model input shape for a sampled shape (T, H, W, C).
    public func outputShape(_ sampleShape: [Int]) -> [Int] {
        Array(sampleShape.dropLast()) + [outputChannels(sampleShape[3])]
    }

    /// True when the input includes optical flow.
    public var usesMotion: Bool { self == .motion || self == .framesAndMotion || self == .differencesAndMotion }

    /// The optical flow (T, H, W, 2) of one sample (T, H, W, C).
    public static func motion(of source: UnsafePointer<Float>, shape: [Int]) -> [Float] {
        let (T, H, W, C) = (shape[0], shape[1], shape[2], shape[3])
        let gray = OpticalFlow.gray(source, count: T, height: H, width: W, channels: C)
        var flow = [Float](repeating: 0, count: T * H * W * 2)
        gray.withUnsafeBufferPointer { g in
            flow.withUnsafeMutableBufferPointer { f in
                OpticalFlow.flow(ofGrayFrames: g.baseAddress!, count: T, height: H, width: W, into: f.baseAddress!)
            }
        }
        return flow
    }

    /// Writes the model input (T, H, W, C') of one sample (T, H, W, C) to `output`.
    /// `motion` is the sample's optical flow (T, H, W, 2) when already known; inputs that
    /// need it compute it otherwise. `source` and `output` must not overlap.
    public func apply(_ source: UnsafePointer<Float>, shape: [Int], motion known: UnsafePointer<Float>? = nil,
                      into output: UnsafeMutablePointer<Float>) {
        let (T, H, W, C) = (shape[0], shape[1], shape[2], shape[3])
        let pixels = H * W, frame = pixels * C
        switch self {
        case .frames:
            output.update(from: source, count: T * frame)
        case .frameDifferences, .signedDifferences:
            output.update(repeating: 0, count: frame)
            let absolute = self == .frameDifferences
            for t in 1..<max(T, 1) {
                let current = source + t * frame, previous = current - frame, out = output + t * frame
                for i in 0..<frame {
                    let difference = current[i] - previous[i]
                    out[i] = absolute ? abs(difference) : difference
                }
            }
        case .framesAndDifferences:
            for t in 0..<T {
                let current = source + t * frame, out = output + t * frame * 2
                for p in 0..<pixels {
                    for c in 0..<C {
                        let value = current[p * C + c]
                        out[p * 2 * C + c] = value
                        out[p * 2 * C + C + c] = t == 0 ? 0 : value - current[p * C + c - frame]
                    }
                }
            }
        case .motion, .framesAndMotion, .differencesAndMotion:
            let computed = known == nil ? Self.motion(of: source, shape: shape) : []
            computed.withUnsafeBufferPointer { buffer in
                let flow = known ?? buffer.baseAddress!
                if self == .motion {
                    output.update(from: flow, count: T * pixels * 2)
                    return
                }
                let out = C + 2, differences = self == .differencesAndMotion
                for i in 0..<(T * pixels) {
                    for c in 0..<C {
                        let value = source[i * C + c]
                        if !differences {
                            output[i * out + c] = value
                        } else {
                            output[i * out + c] = i < pixels ? 0 : abs(value - source[(i - pixels) * C + c])
                        }
                    }
                    output[i * out + C] = flow[2 * i]
                    output[i * out + C + 1] = flow[2 * i + 1]
                }
            }
        }
    }

    /// Transforms every sample of `x` (N, T, H, W, C) into (N, T, H, W, C').
    public func apply(to x: inout Tensor) {
        guard self != .frames, x.shape.count == 5 else { return }
        let sampleShape = Array(x.shape.dropFirst()), count = x.shape[0]
        let outputShape = outputShape(sampleShape)
        let inSize = sampleShape.reduce(1, *), outSize = outputShape.reduce(1, *)
        var out = [Float](repeating: 0, count: count * outSize)
        x.data.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { destination in
                for n in 0..<count {
                    apply(source.baseAddress! + n * inSize, shape: sampleShape, into: destination.baseAddress! + n * outSize)
                }
            }
        }
        x = Tensor(shape: [count] + outputShape, data: out)
    }
}
