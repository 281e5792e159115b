@testable import ActionNet
import Foundation
import Testing

/// What per-clip normalisation does to a sample, beyond its gradients (GradientCheckTests).
struct ClipNormalizationTests {
    /// One sample (T=2, H=2, W=3, C=2) through the layer at inference.
    static func normalized(_ input: [Float], mode: ClipNormalizationMode, batch: Int = 1) -> [Float] {
        let layer = ClipNormalization(name: "clip_normalization", inputShape: [2, 2, 3, 2], mode: mode, epsilon: 1e-6)
        var output = [Float](repeating: 0, count: input.count)
        var none = [Float]()
        none.withUnsafeMutableBufferPointer { p in
            output.withUnsafeMutableBufferPointer { o in
                input.withUnsafeBufferPointer { x in
                    layer.forward(output: o.baseAddress!, input: x.baseAddress!, batch: batch,
                                  parameters: p.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!, training: false)
                }
            }
        }
        return output
    }

    static let clip: [Float] = (0..<24).map { i in i % 2 == 0 ? Float(i) * 0.03 + 0.1 : -Float(i % 5) * 0.2 }

    @Test func standardizeGivesEveryChannelMeanZeroAndDeviationOne() {
        let y = Self.normalized(Self.clip, mode: .standardize)
        for c in 0..<2 {
            let values = stride(from: c, to: 24, by: 2).map { Double(y[$0]) }
            let mean = values.reduce(0, +) / 12
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 12
            #expect(abs(mean) < 1e-5)
            #expect(abs(variance - 1) < 1e-3)
        }
    }

    @Test func aDarkerLowContrastCopyOfAClipLooksTheSameAfterStandardizing() {
        let dim = Self.clip.map { $0 * 0.3 + 0.05 }
        let a = Self.normalized(Self.clip, mode: .standardize), b = Self.normalized(dim, mode: .standardize)
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-3 })
    }

    /// Motion at half the speed is the same motion: `scale` keeps each vector's sign and
    /// the ratio between x and y, and takes away only the overall size.
    @Test func scaleKeepsDirectionAndTakesAwaySpeed() {
        let flow: [Float] = (0..<24).map { i in i % 2 == 0 ? 2.0 : -0.5 }   // moving right and a little up
        let slow = flow.map { $0 * 0.5 }
        let y = Self.normalized(flow, mode: .scale), ySlow = Self.normalized(slow, mode: .scale)
        #expect(zip(y, ySlow).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(zip(y, flow).allSatisfy { ($0 > 0) == ($1 > 0) })
        #expect(abs(y[0] / y[1] - (-4)) < 1e-4)
        let rms = (y.map { Double($0 * $0) }.reduce(0, +) / 24).squareRoot()
        #expect(abs(rms - 1) < 1e-4)
    }

    @Test func eachSampleOfABatchIsNormalizedOnItsOwn() {
        let other = Self.clip.map { $0 * 10 - 3 }
        let together = Self.normalized(Self.clip + other, mode: .standardize, batch: 2)
        #expect(Array(together[..<24]) == Self.normalized(Self.clip, mode: .standardize))
        #expect(Array(together[24...]) == Self.normalized(other, mode: .standardize))
    }

    @Test func theModelStoresItAndTheSummaryNamesIt() throws {
        var config = ModelConfig(frames: 4, height: 8, width: 8, channels: 2, filters: [2], denseUnits: 4, classes: 3)
        config.dropout = 0
        let spec = config.spec(head: .globalAveragePool, normalization: .scale)
        #expect(spec.layers.first == .clipNormalization(mode: .scale, epsilon: ClipNormalization.defaultEpsilon))
        let decoded = try JSONDecoder().decode(ModelSpec.self, from: JSONEncoder().encode(spec))
        #expect(decoded == spec)
        let summary = try ModelSummary(spec: spec, name: "model")
        #expect(summary.rows.first?.label == "clip_normalization (RMSNormalization)")
        #expect(summary.rows.first?.outputShape == [4, 8, 8, 2])
        #expect(summary.rows.first?.parameters == 0)
        let model = try ActionModel(spec: spec, seed: 1)
        #expect(model.spec == spec)
    }
}
