/// How `ClipNormalization` rescales each sample.
public enum ClipNormalizationMode: String, Codable, Sendable, CaseIterable {
    /// Each channel to mean 0 and standard deviation 1 over the whole clip (T, H, W):
    /// Keras's LayerNormalization(axis=(1, 2, 3), center=False, scale=False). Takes away
    /// a clip's brightness and contrast, and with motion inputs the mean motion too.
    case standardize
    /// The whole clip divided by its root mean square over every value: signs, the mean
    /// and the ratio between channels stay (which way things move), only the clip's
    /// overall scale (contrast, or how fast everything moves) goes.
    case scale
}

/// Normalises each sample (T, H, W, C) on its own, in training and inference alike, so a
/// clip filmed darker, with less contrast or with slower motion than the training clips
/// reaches the network at the same scale. No parameters.
///
/// With n values x over which the statistic is taken, s = sqrt(mean(x^2) + epsilon)
/// (`scale`) or s = sqrt(var(x) + epsilon) and y = (x - mean(x)) / s (`standardize`);
/// the backward pass is d(input) = (dy - mean(dy) - y * mean(dy * y)) / s, without the
/// mean(dy) term for `scale`.
public final class ClipNormalization: Layer {
    public let name: String
    public var typeName: String { mode == .standardize ? "LayerNormalization" : "RMSNormalization" }
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var parameterOffset = 0
    public var parameters: [ParameterSpec] { [] }
    public let mode: ClipNormalizationMode
    public let epsilon: Float
    /// Small beside the spread of any real clip (pixels in [0, 1] vary by 0.01 or more,
    /// motion by tenths of a pixel), so only a still, flat clip is held back from being
    /// blown up to unit scale.
    public static let defaultEpsilon: Float = 1e-4

    /// One sample's positions (T*H*W) and channels.
    private let positions: Int, C: Int

    public init(name: String, inputShape: [Int], mode: ClipNormalizationMode, epsilon: Float) {
        precondition(inputShape.count >= 2, "ClipNormalization takes (..., C)")
        self.name = name
        self.inputShape = inputShape
        self.mode = mode
        self.epsilon = epsilon
        C = inputShape[inputShape.count - 1]
        positions = inputShape.dropLast().reduce(1, *)
    }

    /// The backward pass takes s again from the input (rebuilding it from y loses
    /// precision when the spread dwarfs epsilon).
    public var needsInputForBackward: Bool { true }
    public var needsOutputForBackward: Bool { true }

    /// The statistic groups of one sample: (first value, stride, count) per group. Every
    /// channel on its own for `standardize`, all values together for `scale`.
    private var groups: [(start: Int, stride: Int, count: Int)] {
        switch mode {
        case .standardize: (0..<C).map { ($0, C, positions) }
        case .scale: [(0, 1, positions * C)]
        }
    }

    /// The value subtracted from a group (its mean, or 0 for `scale`) and 1 / s.
    private func statistics(_ sample: UnsafePointer<Float>, _ group: (start: Int, stride: Int, count: Int))
        -> (shift: Float, inverse: Float) {
        // Sums in Double: a clip adds up to millions of values.
        var sum = 0.0, squares = 0.0
        for i in 0..<group.count {
            let x = Double(sample[group.start + i * group.stride])
            sum += x
            squares += x * x
        }
        let n = Double(group.count), centred = mode == .standardize
        let mean = centred ? sum / n : 0
        let spread = centred ? max(squares / n - mean * mean, 0) : squares / n
        return (Float(mean), Float(1 / (spread + Double(epsilon)).squareRoot()))
    }

    public func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch: Int,
                        parameters: UnsafeMutablePointer<Float>, training: Bool) {
        let size = positions * C
        for b in 0..<batch {
            let src = input + b * size, dst = output + b * size
            for group in groups {
                let (shift, inverse) = statistics(src, group)
                for i in 0..<group.count {
                    let at = group.start + i * group.stride
                    dst[at] = (src[at] - shift) * inverse
                }
            }
        }
    }

    public func backward(dInput: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        guard let dInput else { return }
        let size = positions * C, centred = mode == .standardize
        for b in 0..<batch {
            let x = input + b * size, y = output + b * size, dy = dOutput + b * size, dx = dInput + b * size
            for group in groups {
                let inverse = statistics(x, group).inverse
                var sumDy = 0.0, sumDyY = 0.0
                for i in 0..<group.count {
                    let at = group.start + i * group.stride
                    sumDy += Double(dy[at])
                    sumDyY += Double(dy[at]) * Double(y[at])
                }
                let n = Double(group.count)
                let meanDy = Float(centred ? sumDy / n : 0), meanDyY = Float(sumDyY / n)
                for i in 0..<group.count {
                    let at = group.start + i * group.stride
                    dx[at] += (dy[at] - meanDy - y[at] * meanDyY) * inverse
                }
            }
        }
    }
}
