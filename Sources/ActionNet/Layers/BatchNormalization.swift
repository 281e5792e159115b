/// BatchNormalization over the last axis (channels), as Keras 3:
/// training uses the batch mean and biased variance over all other axes and moves
/// the moving statistics toward them (`moving = moving * momentum + batch * (1 - momentum)`);
/// inference uses the moving statistics. y = gamma * (x - mean) / sqrt(var + eps) + beta.
public final class BatchNormalization: Layer {
    public let name: String
    public var typeName: String { "BatchNormalization" }
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public let momentum: Float
    public let epsilon: Float
    public var parameterOffset = 0

    /// Sums per-channel statistics across model replicas (data-parallel training), in
    /// place. Forward passes [Σx (C), Σx² (C), count (1)]; backward passes
    /// [Σdy (C), Σdy·x̂ (C)]. Nil for a single replica.
    public var statisticsReducer: (@Sendable (UnsafeMutableBufferPointer<Double>) -> Void)?

    private let C: Int
    private var mean: [Double] = []      // (C) batch statistics of the last training pass
    private var invStd: [Double] = []    // (C)
    private var trainedBatch = -1

    /// The batch mean and 1 / standard deviation a training pass keeps: C each.
    public func trainingWorkingBytes(batch: Int, inputGradient: Bool) -> Int { 2 * C * MemoryLayout<Double>.stride }
    public var heldWorkingBytes: Int { (mean.count + invStd.count) * MemoryLayout<Double>.stride }

    public init(name: String, inputShape: [Int], momentum: Float = 0.99, epsilon: Float = 1e-3) {
        self.name = name
        self.inputShape = inputShape
        self.momentum = momentum
        self.epsilon = epsilon
        C = inputShape.last!
    }

    public var parameters: [ParameterSpec] {
        [ParameterSpec(name: "gamma", shape: [C], trainable: true, initializer: .ones),
         ParameterSpec(name: "beta", shape: [C], trainable: true, initializer: .zeros),
         ParameterSpec(name: "moving_mean", shape: [C], trainable: false, initializer: .zeros),
         ParameterSpec(name: "moving_variance", shape: [C], trainable: false, initializer: .ones)]
    }

    public func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch: Int,
                        parameters: UnsafeMutablePointer<Float>, training: Bool) {
        let rows = batch * inputSize / C
        let gamma = parameters + offset(of: "gamma"), beta = parameters + offset(of: "beta")
        let movingMean = parameters + offset(of: "moving_mean")
        let movingVariance = parameters + offset(of: "moving_variance")
        var scale = [Float](repeating: 0, count: C), shift = [Float](repeating: 0, count: C)
        if training {
            var sums = [Double](repeating: 0, count: 2 * C + 1)
            for r in 0..<rows {
                let row = input + r * C
                for c in 0..<C {
                    let v = Double(row[c])
                    sums[c] += v
                    sums[C + c] += v * v
                }
            }
            sums[2 * C] = Double(rows)
            if let statisticsReducer { sums.withUnsafeMutableBufferPointer { statisticsReducer($0) } }
            let count = sums[2 * C]
            mean = (0..<C).map { sums[$0] / count }
            let variance = (0..<C).map { max(sums[C + $0] / count - mean[$0] * mean[$0], 0) }
            invStd = variance.map { 1 / ($0 + Double(epsilon)).squareRoot() }
            for c in 0..<C {
                movingMean[c] = movingMean[c] * momentum + Float(mean[c]) * (1 - momentum)
                movingVariance[c] = movingVariance[c] * momentum + Float(variance[c]) * (1 - momentum)
                scale[c] = Float(Double(gamma[c]) * invStd[c])
                shift[c] = Float(Double(beta[c]) - mean[c] * Double(gamma[c]) * invStd[c])
            }
            trainedBatch = batch
        } else {
            for c in 0..<C {
                let inv = 1 / (Double(movingVariance[c]) + Double(epsilon)).squareRoot()
                scale[c] = Float(Double(gamma[c]) * inv)
                shift[c] = Float(Double(beta[c]) - Double(movingMean[c]) * Double(gamma[c]) * inv)
            }
        }
        for r in 0..<rows {
            let x = input + r * C, y = output + r * C
            for c in 0..<C { y[c] = x[c] * scale[c] + shift[c] }
        }
    }

    /// The backward pass rebuilds x̂ from the input and the kept batch statistics.
    public var needsOutputForBackward: Bool { false }

    public func backward(dInput: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        precondition(trainedBatch == batch, "\(name): backward needs a training-mode forward pass first")
        let rows = batch * inputSize / C
        let gamma = parameters + offset(of: "gamma")
        let dGamma = gradients + offset(of: "gamma"), dBeta = gradients + offset(of: "beta")
        // Σdy and Σdy·x̂ per channel.
        var sums = [Double](repeating: 0, count: 2 * C)
        for r in 0..<rows {
            let x = input + r * C, dy = dOutput + r * C
            for c in 0..<C {
                let g = Double(dy[c])
                sums[c] += g
                sums[C + c] += g * (Double(x[c]) - mean[c]) * invStd[c]
            }
        }
        for c in 0..<C {
            dBeta[c] += Float(sums[c])
            dGamma[c] += Float(sums[C + c])
        }
        guard let dInput else { return }
        var count = Double(rows)
        if let statisticsReducer {
            sums.withUnsafeMutableBufferPointer { statisticsReducer($0) }
            var n = [count]
            n.withUnsafeMutableBufferPointer { statisticsReducer($0) }
            count = n[0]
        }
        // dx = gamma * invStd * (dy - Σdy / M - x̂ * Σdy·x̂ / M)
        var a = [Float](repeating: 0, count: C), meanDy = a, meanDyXhat = a, m = a, s = a
        for c in 0..<C {
            a[c] = Float(Double(gamma[c]) * invStd[c])
            meanDy[c] = Float(sums[c] / count)
            meanDyXhat[c] = Float(sums[C + c] / count)
            m[c] = Float(mean[c])
            s[c] = Float(invStd[c])
        }
        for r in 0..<rows {
            let x = input + r * C, dy = dOutput + r * C, dx = dInput + r * C
            for c in 0..<C {
                let xhat = (x[c] - m[c]) * s[c]
                dx[c] += a[c] * (dy[c] - meanDy[c] - xhat * meanDyXhat[c])
            }
        }
    }
}
