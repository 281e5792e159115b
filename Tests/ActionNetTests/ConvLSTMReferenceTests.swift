@testable import ActionNet
import TestSupport
import Testing

/// The fast paths (Winograd F(2x2, 3x3), and im2col + one sgemm per timestep) against a
/// naive direct convolution written from the cell equations, in double precision.
@Suite struct ConvLSTMReferenceTests {
    /// x (B, T, H, W, C); kernel (k, k, C, 4F), recurrent (k, k, F, 4F), bias (4F);
    /// masks (B, H, W, C) and (B, H, W, F) or nil. Returns all h as (B, T, H, W, F).
    static func naiveConvLSTM(x: [Float], batch B: Int, T: Int, H: Int, W: Int, C: Int, F: Int, k: Int,
                              kernel: [Float], recurrent: [Float], bias: [Float],
                              inputMask: [Float]?, recurrentMask: [Float]?) -> [Double] {
        let pad = k / 2
        var out = [Double](repeating: 0, count: B * T * H * W * F)
        func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
        for b in 0..<B {
            var h = [Double](repeating: 0, count: H * W * F), c = h
            for t in 0..<T {
                var hNew = h, cNew = c
                for y in 0..<H {
                    for xx in 0..<W {
                        var z = (0..<(4 * F)).map { Double(bias[$0]) }
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let sy = y + ky - pad, sx = xx + kx - pad
                                guard sy >= 0, sy < H, sx >= 0, sx < W else { continue }
                                for ci in 0..<C {
                                    var v = Double(x[(((b * T + t) * H + sy) * W + sx) * C + ci])
                                    if let inputMask { v *= Double(inputMask[((b * H + sy) * W + sx) * C + ci]) }
                                    for g in 0..<(4 * F) { z[g] += v * Double(kernel[((ky * k + kx) * C + ci) * 4 * F + g]) }
                                }
                                for fi in 0..<F {
                                    var v = h[(sy * W + sx) * F + fi]
                                    if let recurrentMask { v *= Double(recurrentMask[((b * H + sy) * W + sx) * F + fi]) }
                                    for g in 0..<(4 * F) { z[g] += v * Double(recurrent[((ky * k + kx) * F + fi) * 4 * F + g]) }
                                }
                            }
                        }
                        for fi in 0..<F {
                            let i = sigmoid(z[fi]), f = sigmoid(z[F + fi]), g = tanh(z[2 * F + fi]), o = sigmoid(z[3 * F + fi])
                            let cell = f * c[(y * W + xx) * F + fi] + i * g
                            cNew[(y * W + xx) * F + fi] = cell
                            hNew[(y * W + xx) * F + fi] = o * tanh(cell)
                        }
                    }
                }
                (h, c) = (hNew, cNew)
                for i in 0..<(H * W * F) { out[((b * T + t) * H * W) * F + i] = h[i] }
            }
        }
        return out
    }

    @Test(arguments: [(3, true, false, .winograd), (3, false, false, .winograd), (3, true, true, .winograd),
                      (3, true, false, .im2col), (3, false, true, .im2col), (5, true, true, .im2col), (1, false, true, .im2col)]
                      as [(Int, Bool, Bool, ConvLSTM2D.Algorithm)])
    func fastPathMatchesDirectConvolution(kernelSize: Int, returnSequences: Bool, dropout: Bool,
                                          algorithm: ConvLSTM2D.Algorithm) {
        let (B, T, H, W, C, F) = (2, 4, 5, 6, 3, 4)
        let layer = ConvLSTM2D(name: "convlstm", inputShape: [T, H, W, C], filters: F, kernelSize: kernelSize,
                               returnSequences: returnSequences, dropout: dropout ? 0.5 : 0, recurrentDropout: dropout ? 0.5 : 0)
        layer.algorithm = algorithm
        #expect(layer.usesWinograd == (algorithm == .winograd))
        var random = SeededGenerator(seed: 21)
        var masks: ([Float], [Float])? = nil
        if dropout {
            func mask(_ n: Int) -> [Float] { (0..<n).map { _ in random.nextUnit() < 0.5 ? 0 : 2 } }
            masks = (mask(B * H * W * C), mask(B * H * W * F))
            layer.fixedMasks = masks
        }
        var harness = LayerHarness(layer, batch: B, seed: 22)
        harness.input = harness.input.map { $0 * 2 }
        let k = kernelSize, G = 4 * F
        let kernel = Array(harness.parameters[0 ..< k * k * C * G])
        let recurrent = Array(harness.parameters[k * k * C * G ..< k * k * (C + F) * G])
        let bias = Array(harness.parameters[k * k * (C + F) * G ..< harness.parameters.count])
        let reference = Self.naiveConvLSTM(x: harness.input, batch: B, T: T, H: H, W: W, C: C, F: F, k: k,
                                           kernel: kernel, recurrent: recurrent, bias: bias,
                                           inputMask: masks?.0, recurrentMask: masks?.1)
        let expected: [Float]
        if returnSequences {
            expected = reference.map(Float.init)
        } else {
            let frame = H * W * F
            var last: [Float] = []
            for b in 0..<B {
                let start = (b * T + T - 1) * frame
                last += reference[start ..< start + frame].map { Float($0) }
            }
            expected = last
        }
        #expect(maxAbsDifference(harness.output(training: true), expected) < 1e-5)
        if !dropout {
            // Inference keeps only two steps of state; it must agree with training mode.
            #expect(maxAbsDifference(harness.output(training: false), expected) < 1e-5)
        }
    }
}

@Suite struct ConvLSTMThreadingTests {
    /// The work split over 1, 2 or 3 threads, in tiles or not, gives the same outputs and
    /// gradients; and the two algorithms agree with each other.
    @Test(arguments: [true, false], ConvLSTM2D.Algorithm.allCases)
    func splittingOverThreadsChangesNothing(returnSequences: Bool, algorithm: ConvLSTM2D.Algorithm) {
        func run(_ threads: Int, tileRows: Int = 1024, algorithm: ConvLSTM2D.Algorithm = algorithm) -> ([Float], [Float], [Float]) {
            let layer = ConvLSTM2D(name: "convlstm", inputShape: [3, 9, 16, 2], filters: 4, returnSequences: returnSequences)
            layer.algorithm = algorithm
            layer.threads = threads
            layer.tileRows = tileRows
            let harness = LayerHarness(layer, batch: 2, seed: 8)
            let (dx, dp) = harness.gradients()
            return (harness.output(), dx, dp)
        }
        let one = run(1)
        let otherAlgorithm: ConvLSTM2D.Algorithm = algorithm == .winograd ? .im2col : .winograd
        for other in [run(2), run(3), run(3, tileRows: 20), run(1, algorithm: otherAlgorithm)] {
            #expect(maxAbsDifference(one.0, other.0) < 1e-6)
            #expect(maxAbsDifference(one.1, other.1) < 1e-5)
            #expect(maxAbsDifference(one.2, other.2) < 1e-4 * max(1, maxMagnitude(one.2)))
        }
    }
}

@Suite struct ConvLSTMAlgorithmTests {
    /// Frames of one row or column, even and odd sizes, several samples over 2 threads:
    /// Winograd's tiles (and the tiles hanging over an odd edge) give what im2col gives.
    @Test(arguments: [(1, 1), (1, 7), (3, 1), (2, 2), (7, 3), (6, 9)])
    func winogradAgreesWithIm2colOnEveryFrameSize(height: Int, width: Int) {
        func run(_ algorithm: ConvLSTM2D.Algorithm) -> ([Float], [Float], [Float]) {
            let layer = ConvLSTM2D(name: "convlstm", inputShape: [3, height, width, 2], filters: 3, returnSequences: true)
            layer.algorithm = algorithm
            layer.threads = 2
            let harness = LayerHarness(layer, batch: 3, seed: 5)
            let (dx, dp) = harness.gradients()
            return (harness.output(), dx, dp)
        }
        let (winograd, im2col) = (run(.winograd), run(.im2col))
        #expect(maxAbsDifference(winograd.0, im2col.0) < 1e-6)
        #expect(maxAbsDifference(winograd.1, im2col.1) < 1e-5)
        #expect(maxAbsDifference(winograd.2, im2col.2) < 1e-5 * max(1, maxMagnitude(im2col.2)))
    }
}

@Suite struct LayerSemanticsTests {
    @Test func maxPoolSamePaddingPoolsTheOddEdgeAlone() {
        // (H, W, C) = (3, 3, 1) -> (2, 2, 1): the last row and column pool fewer values.
        let layer = MaxPool(name: "pool", inputShape: [3, 3, 1])
        #expect(layer.outputShape == [2, 2, 1])
        let harness = LayerHarness(layer, batch: 1, input: [1, 5, 2,
                                                            3, 4, -7,
                                                            -8, 9, -6])
        #expect(harness.output() == [5, 2, 9, -6])
        #expect(MaxPool(name: "p", inputShape: [60, 5, 7, 2]).outputShape == [60, 3, 4, 2])
    }

    @Test func batchNormInferenceUsesMovingStatisticsAndTrainingMovesThem() {
        let layer = BatchNormalization(name: "bn", inputShape: [2])
        // gamma, beta, moving_mean, moving_variance for 2 channels
        var params: [Float] = [2, 3, 0.5, -1, 1, 0.5, 4, 9]
        var out = [Float](repeating: 0, count: 4)
        let x: [Float] = [1, 2, 3, 6]
        params.withUnsafeMutableBufferPointer { p in
            layer.forward(output: &out, input: x, batch: 2, parameters: p.baseAddress!, training: false)
        }
        let expected: [Float] = [2 * (1 - 1) / (4 + 1e-3).squareRoot() + 0.5,
                                 3 * (2 - 0.5) / (9 + 1e-3).squareRoot() - 1,
                                 2 * (3 - 1) / (4 + 1e-3).squareRoot() + 0.5,
                                 3 * (6 - 0.5) / (9 + 1e-3).squareRoot() - 1]
        #expect(maxAbsDifference(out, expected) < 1e-6)
        params.withUnsafeMutableBufferPointer { p in
            layer.forward(output: &out, input: x, batch: 2, parameters: p.baseAddress!, training: true)
        }
        // Batch mean (2, 4), biased variance (1, 4).
        #expect(maxAbsDifference(Array(params[4...]), [0.99 * 1 + 0.01 * 2, 0.99 * 0.5 + 0.01 * 4,
                                                       0.99 * 4 + 0.01 * 1, 0.99 * 9 + 0.01 * 4]) < 1e-6)
        #expect(maxAbsDifference(out, [2 * -1 / (1 + 1e-3).squareRoot() + 0.5, 3 * -2 / (4 + 1e-3).squareRoot() - 1,
                                       2 * 1 / (1 + 1e-3).squareRoot() + 0.5, 3 * 2 / (4 + 1e-3).squareRoot() - 1]) < 1e-6)
    }

    /// Two replicas holding the same shard see the same statistics as one: the reducer
    /// doubles every sum (and the count), so outputs and input gradients are unchanged.
    @Test func batchNormReducerSumsStatisticsAcrossReplicas() {
        let plain = BatchNormalization(name: "bn", inputShape: [3, 2])
        let synced = BatchNormalization(name: "bn", inputShape: [3, 2])
        synced.statisticsReducer = { sums in for i in sums.indices { sums[i] *= 2 } }
        let a = LayerHarness(plain, batch: 2), b = LayerHarness(synced, batch: 2)
        #expect(maxAbsDifference(a.output(), b.output()) < 1e-6)
        #expect(maxAbsDifference(a.gradients().0, b.gradients().0) < 1e-6)
    }

    @Test func orthogonalInitializerGivesOrthonormalColumns() {
        var random = SeededGenerator(seed: 3)
        var values = [Float](repeating: 0, count: 3 * 3 * 4 * 16)
        values.withUnsafeMutableBufferPointer { initialize($0.baseAddress!, shape: [3, 3, 4, 16], with: .orthogonal, random: &random) }
        // (36, 16): Q^T Q = I
        for i in 0..<16 {
            for j in 0..<16 {
                var dot: Float = 0
                for r in 0..<36 { dot += values[r * 16 + i] * values[r * 16 + j] }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-5)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
