@testable import ActionNet
import TestSupport
import Testing

/// The small-data options: the global average pool head, dropout before the classifier,
/// and AdamW's decoupled weight decay.
@Suite struct RegularisationTests {
    @Test func globalAveragePoolIsTheMeanOfEachChannel() {
        let layer = GlobalAveragePool(name: "global_average_pooling", inputShape: [2, 2, 2])
        #expect(layer.outputShape == [2])
        // (H, W, C): channel 0 holds 1, 2, 3, 4 and channel 1 holds -4, 0, 8, 4.
        let harness = LayerHarness(layer, batch: 1, input: [1, -4, 2, 0, 3, 8, 4, 4])
        #expect(harness.output() == [2.5, 2])
    }

    @Test func dropoutScalesWhatItKeepsAndIsTheIdentityAtInference() {
        let layer = Dropout(name: "dropout", inputShape: [4000], rate: 0.25, seed: 3)
        let input = [Float](repeating: 2, count: 4000)
        let harness = LayerHarness(layer, batch: 1, input: input)
        #expect(harness.output(training: false) == input)
        let trained = harness.output(training: true)
        #expect(trained.allSatisfy { $0 == 0 || abs($0 - 2 / 0.75) < 1e-6 })
        let dropped = Double(trained.filter { $0 == 0 }.count) / 4000
        #expect(abs(dropped - 0.25) < 0.03, "\(dropped)")
        #expect(layer.step == 1, "inference passes draw no mask")
    }

    /// The mask of step s follows from the seed and s: a second layer with the same seed
    /// drops the same values step by step, and consecutive steps drop different ones.
    @Test func dropoutMasksAreSeededPerStep() {
        func masks(seed: UInt64) -> [[Float]] {
            let layer = Dropout(name: "dropout", inputShape: [64], rate: 0.5, seed: seed)
            let harness = LayerHarness(layer, batch: 2, input: [Float](repeating: 1, count: 128))
            return (0..<3).map { _ in harness.output(training: true) }
        }
        let first = masks(seed: 7)
        #expect(first == masks(seed: 7))
        #expect(first[0] != first[1] && first[1] != first[2])
        #expect(first != masks(seed: 8))

        // Data-parallel replicas of one seed draw their own masks; replica 0 keeps the layer's.
        func replicaMask(_ replica: Int) -> [Float] {
            let layer = Dropout(name: "dropout", inputShape: [64], rate: 0.5, seed: 7)
            layer.separateDropoutStream(forReplica: replica)
            return LayerHarness(layer, batch: 2, input: [Float](repeating: 1, count: 128)).output(training: true)
        }
        #expect(replicaMask(0) == first[0])
        #expect(replicaMask(1) != first[0] && replicaMask(1) != replicaMask(2))
    }

    /// One AdamW step by hand: decay every trainable value by lr * wd * w, then Adam's
    /// first step (m = (1 - b1) g, v = (1 - b2) g^2, alpha = lr sqrt(1 - b2) / (1 - b1)).
    /// Biases and BatchNorm's gamma and beta decay too, as Keras's AdamW decays every
    /// trainable variable unless excluded; the moving statistics are not trainable and stay.
    @Test func adamWDecaysEveryTrainableParameterBeforeTheAdamStep() throws {
        let config = ModelConfig(frames: 2, height: 4, width: 4, channels: 1, filters: [2], denseUnits: 3, classes: 2)
        let model = try ActionModel(spec: config.spec(head: .globalAveragePool), seed: 4)
        var random = SeededGenerator(seed: 2)
        let x = Tensor(shape: [3, 2, 4, 4, 1], data: (0..<96).map { _ in Float(random.nextUnit()) })
        let y = Tensor(shape: [3, 2], data: [1, 0, 0, 1, 1, 0])
        _ = try model.computeGradients(x: x, y: y)
        let before = model.flatParameters
        let gradients = model.withGradients { Array($0) }
        let (lr, wd): (Float, Float) = (0.01, 0.1)
        var adamW = Adam(learningRate: lr, weightDecay: wd)
        model.applyGradients(optimizer: &adamW)
        let after = model.flatParameters
        let alpha = Float(Double(lr) * (1 - 0.999).squareRoot() / (1 - 0.9))
        for entry in model.parameterLayout {
            for i in entry.range {
                guard entry.trainable else {
                    #expect(after[i] == before[i], "\(entry.name) is not trainable")
                    continue
                }
                let g = gradients[i], m = (1 - 0.9) * g, v = (1 - 0.999) * g * g
                let expected = (before[i] - before[i] * lr * wd) - m * alpha / (v.squareRoot() + 1e-7)
                #expect(abs(after[i] - expected) <= 1e-6 * max(1, abs(expected)), "\(entry.name)[\(i - entry.offset)]")
            }
        }
    }

    @Test func zeroWeightDecayIsPlainAdam() throws {
        let config = ModelConfig(frames: 2, height: 4, width: 4, channels: 1, filters: [2], denseUnits: 3, classes: 2)
        func step(_ optimizer: Adam) throws -> [Float] {
            let model = try ActionModel(config: config, seed: 4)
            var optimizer = optimizer
            let x = Tensor(shape: [2, 2, 4, 4, 1], data: (0..<64).map { Float($0 % 7) / 7 })
            _ = try model.trainStep(x: x, y: Tensor(shape: [2, 2], data: [1, 0, 0, 1]), optimizer: &optimizer)
            return model.flatParameters
        }
        #expect(try step(Adam(learningRate: 0.01)) == step(Adam(learningRate: 0.01, weightDecay: 0)))
        #expect(try step(Adam(learningRate: 0.01)) != step(Adam(learningRate: 0.01, weightDecay: 0.5)))
    }

    /// The heads build from the sizes alone and train end to end: the model's own step
    /// lowers the loss with the global average pool and dropout before the classifier.
    @Test(arguments: ModelHead.allCases) func everyHeadTrains(head: ModelHead) throws {
        let config = ModelConfig(frames: 2, height: 6, width: 6, channels: 1, filters: [3, 3], denseUnits: 8, classes: 2,
                                 dropout: 0, recurrentDropout: 0)
        let model = try ActionModel(spec: config.spec(head: head, batchNormMomentum: 0.5, headDropout: 0.2), seed: 1)
        var random = SeededGenerator(seed: 6)
        var x = [Float](), y = [Float]()
        for i in 0..<8 {
            let bright = i % 2 == 0
            x += (0..<72).map { _ in Float(random.nextUnit()) * 0.5 + (bright ? 0.5 : 0) }
            y += bright ? [1, 0] : [0, 1]
        }
        let xs = Tensor(shape: [8, 2, 6, 6, 1], data: x), ys = Tensor(shape: [8, 2], data: y)
        var adam = Adam(learningRate: 0.02, weightDecay: 1e-3)
        let first = try model.trainStep(x: xs, y: ys, optimizer: &adam).loss
        var last = first
        for _ in 0..<30 { last = try model.trainStep(x: xs, y: ys, optimizer: &adam).loss }
        #expect(last < first, "\(head): \(first) -> \(last)")
    }
}
