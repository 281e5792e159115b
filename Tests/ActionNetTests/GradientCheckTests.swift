@testable import ActionNet
import TestSupport
import Testing

/// Central-difference checks of every layer's backward pass on tiny random shapes, in the
/// spirit of ggml's test-grad0: loss = Σ output · R for a fixed random R (accumulated in
/// double), compared with the analytic d(loss)/d(input) and d(loss)/d(parameters).
struct LayerHarness {
    let layer: any Layer
    let batch: Int
    var input: [Float]
    var parameters: [Float]
    let weights: [Float]       // R, (B, outputShape)

    init(_ layer: any Layer, batch: Int, input: [Float]? = nil, seed: UInt64 = 1) {
        var random = SeededGenerator(seed: seed)
        self.layer = layer
        self.batch = batch
        let inputCount = batch * layer.inputShape.reduce(1, *)
        self.input = input ?? (0..<inputCount).map { _ in Float(random.nextUnit() * 2 - 1) }
        var parameters = [Float](repeating: 0, count: layer.parameterCount)
        var offset = 0
        for p in layer.parameters {
            parameters.withUnsafeMutableBufferPointer { buffer in
                initialize(buffer.baseAddress! + offset, shape: p.shape, with: p.initializer, random: &random)
            }
            // Move BatchNorm's gamma and beta off their trivial starting values.
            if p.initializer == .ones || p.initializer == .zeros, p.trainable {
                for i in offset ..< offset + p.count { parameters[i] += Float(random.nextUnit() - 0.5) }
            }
            offset += p.count
        }
        self.parameters = parameters
        weights = (0..<(batch * layer.outputShape.reduce(1, *))).map { _ in Float(random.nextUnit() * 2 - 1) }
    }

    func output(training: Bool = true) -> [Float] {
        var params = parameters
        var out = [Float](repeating: 0, count: weights.count)
        params.withUnsafeMutableBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                input.withUnsafeBufferPointer { x in
                    layer.forward(output: o.baseAddress!, input: x.baseAddress!, batch: batch,
                                  parameters: p.baseAddress!, training: training)
                }
            }
        }
        return out
    }

    func loss() -> Double {
        zip(output(), weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Analytic gradients: (d input, d parameters).
    func gradients() -> ([Float], [Float]) {
        var params = parameters
        var out = [Float](repeating: 0, count: weights.count)
        var dInput = [Float](repeating: 0, count: input.count)
        var dParams = [Float](repeating: 0, count: parameters.count)
        params.withUnsafeMutableBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                input.withUnsafeBufferPointer { x in
                    layer.forward(output: o.baseAddress!, input: x.baseAddress!, batch: batch,
                                  parameters: p.baseAddress!, training: true)
                    dInput.withUnsafeMutableBufferPointer { dx in
                        dParams.withUnsafeMutableBufferPointer { dp in
                            weights.withUnsafeBufferPointer { r in
                                layer.backward(dInput: dx.baseAddress!, dOutput: r.baseAddress!, input: x.baseAddress!,
                                               output: o.baseAddress!, batch: batch, parameters: p.baseAddress!,
                                               gradients: dp.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        return (dInput, dParams)
    }

    /// The largest disagreement between analytic and central-difference gradients,
    /// relative to the largest analytic gradient (checks only trainable parameters).
    mutating func worstRelativeError(step h: Float = 1e-2) -> Float {
        let (dInput, dParams) = gradients()
        let scale = max(maxMagnitude(dInput), maxMagnitude(dParams), 1e-6)
        var worst: Float = 0
        for i in input.indices {
            let original = input[i]
            input[i] = original + h; let plus = loss()
            input[i] = original - h; let minus = loss()
            input[i] = original
            worst = max(worst, abs(Float((plus - minus) / Double(2 * h)) - dInput[i]) / scale)
        }
        var offset = 0
        for p in layer.parameters {
            defer { offset += p.count }
            guard p.trainable else { continue }
            for i in offset ..< offset + p.count {
                let original = parameters[i]
                parameters[i] = original + h; let plus = loss()
                parameters[i] = original - h; let minus = loss()
                parameters[i] = original
                worst = max(worst, abs(Float((plus - minus) / Double(2 * h)) - dParams[i]) / scale)
            }
        }
        return worst
    }
}

@Suite struct GradientCheckTests {
    @Test(arguments: [(true, 3, 0 as Float), (false, 3, 0), (true, 4, 0.3), (false, 3, 0.3)], ConvLSTM2D.Algorithm.allCases)
    func convLSTM(_ setting: (returnSequences: Bool, timesteps: Int, dropout: Float), algorithm: ConvLSTM2D.Algorithm) {
        let (returnSequences, timesteps, dropout) = setting
        let layer = ConvLSTM2D(name: "convlstm", inputShape: [timesteps, 4, 5, 2], filters: 3,
                               returnSequences: returnSequences, dropout: dropout, recurrentDropout: dropout)
        layer.algorithm = algorithm
        if dropout > 0 {
            var random = SeededGenerator(seed: 9)
            func mask(_ n: Int) -> [Float] { (0..<n).map { _ in random.nextUnit() < Double(dropout) ? 0 : 1 / (1 - dropout) } }
            layer.fixedMasks = (mask(2 * 4 * 5 * 2), mask(2 * 4 * 5 * 3))
        }
        var harness = LayerHarness(layer, batch: 2)
        #expect(harness.worstRelativeError() < 2e-3)
    }

    @Test func convLSTMWithFiveByFiveKernel() {
        let layer = ConvLSTM2D(name: "convlstm", inputShape: [3, 5, 4, 1], filters: 2, kernelSize: 5, returnSequences: true)
        var harness = LayerHarness(layer, batch: 2, seed: 3)
        #expect(harness.worstRelativeError() < 2e-3)
    }

    /// Distinct values at least 0.01 apart, so a small step never changes a window's maximum.
    static func spreadInput(_ count: Int, seed: UInt64) -> [Float] {
        var random = SeededGenerator(seed: seed)
        return Array(0..<count).shuffled(using: &random).map { Float($0) * 0.01 - 1 }
    }

    @Test(arguments: [[2, 5, 7, 3], [3, 4, 3]]) func maxPool(shape: [Int]) {
        let layer = MaxPool(name: "pool", inputShape: shape)
        var harness = LayerHarness(layer, batch: 2, input: Self.spreadInput(2 * shape.reduce(1, *), seed: 4))
        #expect(harness.worstRelativeError(step: 1e-3) < 1e-3)
    }

    /// Windows of 3x3, 7x7 and 9x9 keep their gradient routes as 4-byte masks, 8-byte masks
    /// and first-maximum positions; a global max pool over a 9x10 map is the last case.
    @Test(arguments: [(3, [7, 8, 2]), (7, [2, 9, 7, 2]), (9, [9, 10, 3])]) func largeMaxPoolWindows(size: Int, shape: [Int]) {
        let layer = MaxPool(name: "pool", inputShape: shape, size: size)
        var harness = LayerHarness(layer, batch: 2, input: Self.spreadInput(2 * shape.reduce(1, *), seed: 6))
        #expect(harness.worstRelativeError(step: 1e-3) < 1e-3)
    }

    @Test(arguments: [[3, 4, 2, 3], [5]]) func batchNormalization(shape: [Int]) {
        var harness = LayerHarness(BatchNormalization(name: "bn", inputShape: shape), batch: 3)
        #expect(harness.worstRelativeError() < 2e-3)
    }

    @Test(arguments: [[3, 4, 2], [1, 1, 5], [6, 5, 3]]) func globalAveragePool(shape: [Int]) {
        var harness = LayerHarness(GlobalAveragePool(name: "global_average_pooling", inputShape: shape), batch: 2)
        #expect(harness.worstRelativeError() < 1e-3)
    }

    @Test(arguments: [ClipNormalizationMode.standardize, .scale], [[3, 4, 2, 3], [2, 5, 1]])
    func clipNormalization(mode: ClipNormalizationMode, shape: [Int]) {
        var harness = LayerHarness(ClipNormalization(name: "clip_normalization", inputShape: shape, mode: mode,
                                                     epsilon: 1e-4), batch: 2)
        #expect(harness.worstRelativeError() < 2e-3)
    }

    /// With one step's mask held, dropout is linear in its input: the differences must
    /// find exactly the kept values' 1 / (1 - rate) and the dropped ones' 0.
    @Test(arguments: [0, 0.3, 0.75] as [Float]) func dropout(rate: Float) {
        let layer = Dropout(name: "dropout", inputShape: [4, 3], rate: rate, seed: 11)
        layer.fixedStep = 5
        var harness = LayerHarness(layer, batch: 3)
        #expect(harness.worstRelativeError() < 1e-3)
        let (dInput, _) = harness.gradients()
        let scaled = zip(dInput, harness.weights).map { d, r in d / r }
        #expect(scaled.allSatisfy { abs($0) < 1e-6 || abs($0 - 1 / (1 - rate)) < 1e-5 })
        if rate > 0 { #expect(scaled.contains { abs($0) < 1e-6 }, "some values are dropped") }
    }

    @Test func flatten() {
        var harness = LayerHarness(Flatten(name: "flatten", inputShape: [2, 3, 2]), batch: 2)
        #expect(harness.worstRelativeError() < 1e-3)
    }

    @Test(arguments: [Activation.linear, .relu]) func dense(activation: Activation) {
        var harness = LayerHarness(Dense(name: "dense", inputShape: [7], units: 4, activation: activation), batch: 3)
        #expect(harness.worstRelativeError(step: 1e-3) < 2e-3)
    }

    /// Dense(softmax) with the fused cross-entropy: the loss is the mean cross-entropy.
    @Test func softmaxCrossEntropyThroughDense() {
        let layer = Dense(name: "dense", inputShape: [6], units: 5, activation: .softmax)
        let batch = 3
        var random = SeededGenerator(seed: 5)
        var x = (0..<(batch * 6)).map { _ in Float(random.nextUnit() * 4 - 2) }
        var params = [Float](repeating: 0, count: layer.parameterCount)
        for i in params.indices { params[i] = Float(random.nextUnit() - 0.5) }
        let y: [Float] = [0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0.5, 0, 0.5, 0, 0]
        func run(_ x: [Float], _ params: [Float], gradients: Bool) -> (Float, [Float], [Float]) {
            var params = params, out = [Float](repeating: 0, count: batch * 5)
            var dx = [Float](repeating: 0, count: x.count), dp = [Float](repeating: 0, count: params.count)
            var dLogits = [Float](repeating: 0, count: batch * 5)
            let loss = params.withUnsafeMutableBufferPointer { p in
                out.withUnsafeMutableBufferPointer { o in
                    x.withUnsafeBufferPointer { xp in
                        layer.forward(output: o.baseAddress!, input: xp.baseAddress!, batch: batch, parameters: p.baseAddress!, training: true)
                        let loss = layer.logits.withUnsafeBufferPointer { l in
                            y.withUnsafeBufferPointer { yp in
                                dLogits.withUnsafeMutableBufferPointer { d in
                                    softmaxCrossEntropy(dLogits: d.baseAddress!, logits: l.baseAddress!, targets: yp.baseAddress!, batch: batch, classes: 5)
                                }
                            }
                        }
                        if gradients {
                            dx.withUnsafeMutableBufferPointer { dxp in
                                dp.withUnsafeMutableBufferPointer { dpp in
                                    dLogits.withUnsafeBufferPointer { d in
                                        layer.backward(dInput: dxp.baseAddress!, dOutput: d.baseAddress!, input: xp.baseAddress!,
                                                       output: o.baseAddress!, batch: batch, parameters: p.baseAddress!, gradients: dpp.baseAddress!)
                                    }
                                }
                            }
                        }
                        return loss
                    }
                }
            }
            return (loss, dx, dp)
        }
        let (_, dx, dp) = run(x, params, gradients: true)
        let h: Float = 1e-2
        var worst: Float = 0
        for i in x.indices {
            let o = x[i]
            x[i] = o + h; let plus = run(x, params, gradients: false).0
            x[i] = o - h; let minus = run(x, params, gradients: false).0
            x[i] = o
            worst = max(worst, abs((plus - minus) / (2 * h) - dx[i]))
        }
        for i in params.indices {
            let o = params[i]
            params[i] = o + h; let plus = run(x, params, gradients: false).0
            params[i] = o - h; let minus = run(x, params, gradients: false).0
            params[i] = o
            worst = max(worst, abs((plus - minus) / (2 * h) - dp[i]))
        }
        #expect(worst < 1e-3 * max(maxMagnitude(dx), maxMagnitude(dp)) + 2e-4)
    }

    /// The cross-entropy stays finite and its gradient exact when a probability underflows.
    @Test func crossEntropyIsStableForExtremeLogits() {
        let logits: [Float] = [1000, -1000, 0]
        let y: [Float] = [0, 1, 0]
        var d = [Float](repeating: 0, count: 3)
        let loss = softmaxCrossEntropy(dLogits: &d, logits: logits, targets: y, batch: 1, classes: 3)
        #expect(loss == 2000)
        #expect(d == [1, -1, 0])
    }
}
