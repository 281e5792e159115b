import ActionNet
import Foundation

/// How long a run's epochs should take and how much memory it needs, known before it
/// starts: the model's floating-point work per sample times a measured speed.
public struct TrainingEstimate: Sendable, Equatable {
    public var trainingSecondsPerBatch: Double
    public var validationSecondsPerBatch: Double
    /// Training and validation of one epoch.
    public var secondsPerEpoch: Double
    /// Weights, their gradients and Adam's two moments.
    public var modelBytes: Int
    /// What a training step of one batch takes besides the model's parameters
    /// (`ActionModel.trainingMemory`): the activation arena the model reserves (layer
    /// outputs, their gradients and the ConvLSTMs' gates and cell states, sharing memory
    /// where their lifetimes allow) and the layers' own working buffers outside it (the
    /// ConvLSTMs' one-step gradients, bordered inputs, tile scratch, partial gradients
    /// and dropout masks, the packed copies of constant product operands, MaxPool's
    /// routes). The batch's input is counted in `dataBytes`.
    public var activationBytes: Int
    /// The samples held in memory (none when they are read on demand) and the batches
    /// being read (`batchDataBytes`).
    public var dataBytes: Int
    /// Floating-point operations of one training step per sample (forward and backward).
    public var trainingFlopsPerSample: Double

    public var memoryBytes: Int { modelBytes + activationBytes + dataBytes }

    /// The estimate for `model` trained in batches of `batchSize` on `trainingSamples`
    /// with `validationSamples` validated each epoch, the samples taking `dataBytes`,
    /// the products in `precision`, on `setup` (this process's threads and kernels unless
    /// told).
    public init(model: ModelSpec, batchSize: Int, trainingSamples: Int,
                validationSamples: Int, dataBytes: Int, speed: ComputeSpeed,
                precision: Precision = .fp32, setup: ComputeSetup = .current) throws(ModelError) {
        let work = try ModelWork(model)
        let batch = max(1, batchSize)
        trainingFlopsPerSample = 3 * work.forwardFlops
        trainingSecondsPerBatch = Double(batch) * trainingFlopsPerSample / speed.trainingFlopsPerSecond
        validationSecondsPerBatch = Double(batch) * work.forwardFlops / speed.inferenceFlopsPerSecond
        let batches = (trainingSamples + batch - 1) / batch
        let validationBatches = (validationSamples + batch - 1) / batch
        secondsPerEpoch = Double(batches) * trainingSecondsPerBatch + Double(validationBatches) * validationSecondsPerBatch
        modelBytes = 4 * 4 * work.parameters
        activationBytes = try ActionModel.trainingMemory(spec: model, batch: batch, precision: precision, setup: setup).bytes
        self.dataBytes = dataBytes
    }
}

extension TrainingEstimate {
    /// Bytes of the samples of a run whose samples are read as batches need them (a
    /// project's clips, a tensor file): the batches in flight as the model's Float32 input
    /// with their labels (one training, `BatchPrefetcher.defaultAhead` built and waiting,
    /// one being built), and the building thread's buffers for one sample: its values and
    /// an augmented copy, the bytes read from the file, and, when the input uses motion,
    /// its optical flow and the flow's augmented copy. It does not grow with the samples.
    public static func batchDataBytes(sampleShape: [Int], classes: Int, batchSize: Int, input: InputTransform) -> Int {
        let sample = sampleShape.reduce(1, *)
        let inputFloats = input.outputShape(sampleShape).reduce(1, *)
        let batches = (BatchPrefetcher.defaultAhead + 2) * max(1, batchSize) * (inputFloats + classes) * 4
        let flow = input.usesMotion ? 2 * sampleShape.prefix(3).reduce(1, *) * 2 * 4 : 0
        return batches + 2 * sample * 4 + sample + flow
    }

    /// `batchDataBytes` of clips sampled and trained with `settings`.
    public static func batchDataBytes(_ settings: TrainingSettings) -> Int {
        let s = settings.sampling
        return batchDataBytes(sampleShape: [s.frames, s.height, s.width, s.channels], classes: settings.model.classes,
                              batchSize: settings.batchSize, input: settings.input)
    }
}

/// Floating-point operations per second of training and inference steps on this
/// machine, measured on a small model (each step's arithmetic is mostly one sgemm per
/// ConvLSTM timestep, so the rate carries over to larger frames of the same filters).
public struct ComputeSpeed: Sendable, Equatable {
    public var trainingFlopsPerSecond: Double
    public var inferenceFlopsPerSecond: Double

    public init(trainingFlopsPerSecond: Double, inferenceFlopsPerSecond: Double) {
        self.trainingFlopsPerSecond = trainingFlopsPerSecond
        self.inferenceFlopsPerSecond = inferenceFlopsPerSecond
    }

    /// Times a training step and an inference pass of `model`'s layers at no more than
    /// 4 frames of 32x32 and a batch of at most 4 (a fraction of a second for the seed
    /// stack's filters), with the products in `precision`.
    public static func measure(for model: ModelSpec, batchSize: Int,
                               precision: Precision = .fp32) throws(ModelError) -> ComputeSpeed {
        var small = model
        if model.inputShape.count == 4 {
            small.inputShape = [min(model.frames, 4), min(model.height, 32), min(model.width, 32), model.channels]
        }
        let batch = max(1, min(batchSize, 4))
        let net = try ActionModel(spec: small, seed: 1)
        try net.setPrecision(precision)
        var random = SeededGenerator(seed: 2)
        let x = Tensor(shape: [batch] + small.inputShape,
                       data: (0..<(batch * small.inputShape.reduce(1, *))).map { _ in Float(random.nextUnit()) })
        var y = Tensor(shape: [batch, small.classes])
        for b in 0..<batch { y.data[b * small.classes + b % small.classes] = 1 }
        var adam = Adam()
        func fastest(_ repeats: Int, _ body: () throws(ModelError) -> Void) throws(ModelError) -> Double {
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return max(best, 1e-6)
        }
        _ = try net.trainStep(x: x, y: y, optimizer: &adam)   // allocates the buffers
        let train = try fastest(2) { () throws(ModelError) in _ = try net.trainStep(x: x, y: y, optimizer: &adam) }
        let infer = try fastest(2) { () throws(ModelError) in _ = try net.predict(x, batchSize: batch) }
        let work = try ModelWork(small)
        return ComputeSpeed(trainingFlopsPerSecond: 3 * work.forwardFlops * Double(batch) / train,
                            inferenceFlopsPerSecond: work.forwardFlops * Double(batch) / infer)
    }
}

/// The arithmetic of one sample through a model, counted from its layer shapes.
struct ModelWork {
    var forwardFlops = 0.0
    var parameters = 0

    init(_ model: ModelSpec) throws(ModelError) {
        let summary = try ModelSummary(spec: model, name: "")
        var input = model.inputShape
        for (row, spec) in zip(summary.rows, model.layers) {
            parameters += row.parameters
            switch spec {
            case let .convLSTM2D(filters, kernelSize, _, _, _):
                let (t, h, w, c) = (input[0], input[1], input[2], input[3])
                let columns = kernelSize * kernelSize * (c + filters)
                let pixels = h * w
                forwardFlops += Double(t * pixels) * 2 * Double(columns) * Double(4 * filters)
                    + Double(t * pixels * filters) * 12
            case let .dense(units, _):
                forwardFlops += 2 * Double(input.reduce(1, *)) * Double(units)
            case .maxPool, .batchNormalization, .flatten, .globalAveragePool, .dropout, .clipNormalization:
                forwardFlops += 4 * Double(input.reduce(1, *))
            }
            input = row.outputShape
        }
    }
}
