@testable import ActionNet
import Testing

@Suite struct ActivationPlanTests {
    /// Buffers alive at the same time never share memory, all lie inside the arena, and
    /// the seed stack's plan is smaller than giving every buffer its own memory.
    @Test(arguments: [ModelConfig.seed, Benchmark.Shape.named("tiny")!.config], [false, true])
    func liveBuffersNeverShareMemory(config: ModelConfig, training: Bool) throws {
        let model = try ActionModel(config: config)
        let plan = ActivationPlan(layers: model.layers, batch: 2, training: training)
        let offsets = plan.outputOffsets + plan.gradientOffsets + plan.stateOffsets
        #expect(offsets.count == plan.sizes.count && plan.sizes.count == 3 * model.layers.count)
        for i in offsets.indices {
            #expect(offsets[i] % 16 == 0 && offsets[i] + plan.sizes[i] <= plan.size)
            for j in offsets.indices where j > i && plan.lifetimes[i].overlaps(plan.lifetimes[j]) {
                let a = offsets[i] ..< offsets[i] + plan.sizes[i], b = offsets[j] ..< offsets[j] + plan.sizes[j]
                #expect(!a.overlaps(b), "buffers \(i) and \(j) are alive together and share memory")
            }
        }
        #expect(plan.size < plan.sizes.reduce(0, +))
        // Every layer's output outlives its own forward pass, its gradient is made by the
        // next layer's backward pass before this layer's reads it, and its training state
        // (the ConvLSTMs' only, and only in training) lives from its forward pass to its
        // backward pass.
        let n = model.layers.count
        for (i, layer) in model.layers.enumerated() {
            #expect(plan.lifetimes[i].lowerBound == i && plan.lifetimes[i].upperBound > i)
            #expect(plan.lifetimes[n + i].upperBound == 2 * n - i)
            #expect(plan.lifetimes[2 * n + i] == i ... 2 * n - i)
            #expect((plan.sizes[2 * n + i] > 0) == (training && layer is ConvLSTM2D))
        }
    }

    /// In training, the seed stack's arena (its layers' gates and cells included) is no
    /// larger than what is alive at once at the step's busiest moment (the second
    /// ConvLSTM's backward pass): the later layers' state fits where the first layer's
    /// output and gradient lie, which are dead meanwhile.
    @Test(arguments: [(ModelConfig.seed, 1), (Benchmark.Shape.named("small")!.config, 8),
                      (Benchmark.Shape.named("tiny")!.config, 4)])
    func trainingArenaHoldsOnlyWhatIsAliveAtOnce(config: ModelConfig, batch: Int) throws {
        let model = try ActionModel(config: config)
        let plan = ActivationPlan(layers: model.layers, batch: batch)
        let aligned = plan.sizes.map { ($0 + 15) / 16 * 16 }
        let busiest = (0 ... 2 * model.layers.count).map { t in
            plan.sizes.indices.filter { plan.lifetimes[$0].contains(t) }.reduce(0) { $0 + aligned[$1] }
        }.max()!
        #expect(plan.size <= busiest)
        let inference = ActivationPlan(layers: model.layers, batch: batch, training: false)
        #expect(plan.size < inference.size + plan.sizes.suffix(model.layers.count).reduce(0, +))
    }

    /// A ConvLSTM hands its own large buffers back after its backward pass only when
    /// another ConvLSTM's backward pass still follows in the step; the first ConvLSTM's
    /// is the step's last and keeps them, whatever layers come before it (here clip
    /// normalization), and so does every layer before it.
    @Test(arguments: [nil, ClipNormalizationMode.standardize] as [ClipNormalizationMode?])
    func onlyConvLSTMsWithABackwardPassAfterThemHandBuffersBack(normalization: ClipNormalizationMode?) throws {
        let model = try ActionModel(spec: ModelConfig.seed.spec(normalization: normalization))
        let convLSTMs = model.layers.indices.filter { model.layers[$0] is ConvLSTM2D }
        #expect(convLSTMs.count == 3 && convLSTMs[0] == (normalization == nil ? 0 : 1))
        for i in model.layers.indices {
            #expect(model.handsBackAfterBackward[i] == (i > convLSTMs[0]), "layer \(i)")
        }
    }

    /// The arena's size follows from the spec alone (`trainingMemory`, what the training
    /// estimate shows) and is the arena the model reserves for a training step.
    @Test(arguments: [(ModelConfig.seed.spec(), 1), (Benchmark.Shape.named("small")!.config.spec(), 8),
                      (Benchmark.Shape.named("small")!.config.spec(normalization: .standardize), 8)])
    func theArenaFollowsFromTheSpec(spec: ModelSpec, batch: Int) throws {
        let model = try ActionModel(spec: spec)
        model.reserve(batch: batch, training: true)   // mapped, not touched: no memory taken
        #expect(try ActionModel.trainingMemory(spec: spec, batch: batch).arenaBytes == 4 * model.arenaCount)
    }

    @Test func placementIsFirstFitAmongOverlappingLifetimes() {
        // a and b live together, c lives after both: c reuses a's place.
        let offsets = ActivationPlan.place(sizes: [100, 50, 100], lifetimes: [0...1, 1...2, 3...4])
        #expect(offsets == [0, 112, 0])
    }

    /// The arena and the layers' state in it are reused from step to step and shared with
    /// other buffers in between: a step on reused memory, even memory overwritten with NaN,
    /// gives exactly the gradients of a fresh model, and so do steps after an inference
    /// pass and after the arena was laid out again for a larger inference batch; with
    /// either way of computing the convolutions.
    @Test(arguments: ConvLSTM2D.Algorithm.allCases)
    func reusedMemoryGivesTheResultsOfFreshMemory(algorithm: ConvLSTM2D.Algorithm) throws {
        // No BatchNorm (its moving statistics would make inference depend on the steps
        // before) and no dropout (random masks): every pass is a function of the weights.
        let spec = ModelSpec(inputShape: [3, 6, 5, 2], layers: [
            .convLSTM2D(filters: 4, kernelSize: 3, returnSequences: true, dropout: 0, recurrentDropout: 0),
            .maxPool(size: 2),
            .convLSTM2D(filters: 3, kernelSize: 3, returnSequences: false, dropout: 0, recurrentDropout: 0),
            .flatten,
            .dense(units: 3, activation: .softmax),
        ])
        var random = SeededGenerator(seed: 5)
        func batch(_ n: Int) -> Tensor {
            Tensor(shape: [n] + spec.inputShape, data: (0 ..< n * 3 * 6 * 5 * 2).map { _ in Float(random.nextUnit()) - 0.5 })
        }
        let x = batch(2), wide = batch(5)
        var y = Tensor(shape: [2, 3])
        (y.data[0], y.data[5]) = (1, 1)
        func makeModel() throws -> ActionModel {
            let model = try ActionModel(spec: spec, seed: 3)
            for case let layer as ConvLSTM2D in model.layers { layer.algorithm = algorithm }
            return model
        }
        func gradients(_ model: ActionModel) throws -> [Float] {
            let loss = try model.computeGradients(x: x, y: y).loss
            return model.withGradients { Array($0) } + [loss]
        }
        let fresh = try gradients(try makeModel())
        let freshPredictions = try [3, 5].map { try makeModel().predict(wide, batchSize: $0) }

        let model = try makeModel()
        #expect(try model.predict(wide, batchSize: 3) == freshPredictions[0])   // an arena without training state
        #expect(try gradients(model) == fresh)                               // laid out again, with it
        model.overwriteArena(with: .nan)
        #expect(try gradients(model) == fresh)
        #expect(try model.predict(wide, batchSize: 3) == freshPredictions[0])   // inference in the training arena
        model.overwriteArena(with: .nan)
        #expect(try model.predict(wide, batchSize: 3) == freshPredictions[0])
        #expect(try gradients(model) == fresh)
        #expect(try model.predict(wide, batchSize: 5) == freshPredictions[1])   // larger: without training state again
        model.overwriteArena(with: .nan)
        #expect(try gradients(model) == fresh)
        #expect(try gradients(model) == fresh)
    }
}
