@testable import ActionNet
import Testing

/// What a training step takes besides the arena (`Layer.trainingWorkingBytes`, which the
/// memory estimate adds to it) is what the layers then hold.
@Suite struct WorkingMemoryTests {
    /// Both ways of computing the convolutions, 3x3 by Winograd and 5x5 by im2col, each
    /// once the model's first layer (whose backward pass computes no input gradient) and
    /// once the one that returns its last step only; MaxPool, BatchNorm, a Dropout layer
    /// and two Dense layers; with or without dropout (the ConvLSTMs' masks and the Dropout
    /// layer's).
    static func spec(winogradFirst: Bool, dropout: Float) -> ModelSpec {
        let kernels = winogradFirst ? [3, 5] : [5, 3]
        return ModelSpec(inputShape: [3, 9, 7, 2], layers: [
            .convLSTM2D(filters: 4, kernelSize: kernels[0], returnSequences: true, dropout: dropout, recurrentDropout: dropout),
            .maxPool(size: 2),
            .batchNormalization(momentum: 0.9, epsilon: 1e-3),
            .convLSTM2D(filters: 3, kernelSize: kernels[1], returnSequences: false, dropout: dropout, recurrentDropout: dropout),
            .flatten,
            .dropout(rate: dropout),
            .dense(units: 6, activation: .relu),
            .dense(units: 3, activation: .softmax),
        ])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var winogradFirst: Bool, dropout: Float, precision: Precision = .fp32
        /// The ConvLSTMs' thread count; nil for `BLAS.threads`, as a model from a spec has.
        var threads: Int? = nil
        var testDescription: String {
            "\(winogradFirst ? "Winograd" : "im2col") first, dropout \(dropout), \(precision), threads \(threads.map(String.init) ?? "default")"
        }
    }

    /// After real training steps every layer holds exactly the working memory counted for
    /// it, and no more after an inference pass in their arena (as `bench` makes one); the
    /// model's count from its spec alone (what the estimate shows) is the arena and those
    /// bytes.
    @Test(arguments: [
        Case(winogradFirst: true, dropout: 0), Case(winogradFirst: true, dropout: 0.2),
        Case(winogradFirst: false, dropout: 0), Case(winogradFirst: false, dropout: 0.2),
        Case(winogradFirst: true, dropout: 0.2, threads: 3), Case(winogradFirst: false, dropout: 0, threads: 3),
        Case(winogradFirst: true, dropout: 0.2, precision: .bf16), Case(winogradFirst: false, dropout: 0.2, precision: .bf16),
    ])
    func layersHoldWhatTheTrainingStepIsCountedToTake(_ c: Case) throws {
        guard (try? c.precision.checkSupported(by: .current)) != nil else { return }   // bf16 on a CPU without it
        let spec = Self.spec(winogradFirst: c.winogradFirst, dropout: c.dropout)
        let model = try ActionModel(spec: spec, seed: 1)
        try model.setPrecision(c.precision)
        for case let layer as ConvLSTM2D in model.layers {
            #expect(layer.algorithm == (layer.kernelSize == 3 ? .winograd : .im2col))
            layer.threads = c.threads
        }
        let batch = 3
        var random = SeededGenerator(seed: 2)
        let x = Tensor(shape: [batch] + spec.inputShape,
                       data: (0 ..< batch * spec.inputShape.reduce(1, *)).map { _ in Float(random.nextUnit()) - 0.5 })
        var y = Tensor(shape: [batch, 3])
        for b in 0 ..< batch { y.data[b * 3 + b % 3] = 1 }
        var adam = Adam()
        #expect(model.heldWorkingBytes == 0)
        for _ in 0 ..< 2 { try model.trainStep(x: x, y: y, optimizer: &adam) }
        for (i, layer) in model.layers.enumerated() {
            #expect(layer.heldWorkingBytes == layer.trainingWorkingBytes(batch: batch, inputGradient: i > 0), "\(layer.name)")
        }
        // Inference in the training arena takes no more (the ConvLSTMs drop their masks).
        let held = model.layers.map(\.heldWorkingBytes)
        _ = try model.predict(x, batchSize: batch)
        for (layer, before) in zip(model.layers, held) {
            #expect(layer.heldWorkingBytes <= before, "\(layer.name)")
        }
        let counted = model.trainingMemory(batch: batch)
        #expect(held.reduce(0, +) == counted.layerBytes)
        #expect(4 * model.arenaCount == counted.arenaBytes)
        let convLSTMs = model.layers.compactMap { $0 as? ConvLSTM2D }
        // Buffers beside the arena's (the gates and cells lent from it count nothing here),
        // and the packed constants wherever products pack them.
        #expect(convLSTMs.allSatisfy { $0.heldWorkingBytes > 0 && $0.gates!.ownBytes == 0 && $0.cells!.ownBytes == 0 })
        let packs = MatrixProduct.ownFloat32Kernel || c.precision == .bf16
        #expect(convLSTMs.allSatisfy { ($0.matmul.mostPackedBytes > 0) == packs })
        if c.threads == nil {
            #expect(try ActionModel.trainingMemory(spec: spec, batch: batch, precision: c.precision) == counted)
        }
    }

    /// The count follows the settings the passes follow: more parts (threads) give more
    /// partial gradients and scratch; masks only with dropout; bf16's packed copies are
    /// half of float32's where float32 products pack.
    @Test func theCountFollowsThreadsDropoutAndPrecision() throws {
        func layerBytes(dropout: Float, threads: Int, precision: Precision = .fp32) throws -> Int {
            let model = try ActionModel(spec: Self.spec(winogradFirst: true, dropout: dropout))
            for case let layer as ConvLSTM2D in model.layers { layer.threads = threads }
            for case let layer as any MatrixProductLayer in model.layers { layer.matmul.precision = precision }
            return model.trainingMemory(batch: 3).layerBytes
        }
        #expect(try layerBytes(dropout: 0, threads: 2) > layerBytes(dropout: 0, threads: 1))
        #expect(try layerBytes(dropout: 0.2, threads: 1) > layerBytes(dropout: 0, threads: 1))
        if MatrixProduct.ownFloat32Kernel {
            #expect(try layerBytes(dropout: 0, threads: 1, precision: .bf16) < layerBytes(dropout: 0, threads: 1))
        }
    }
}
