import Foundation

/// Settings of a training run on in-memory tensors.
public struct FitOptions: Sendable, Equatable {
    public var epochs: Int
    public var batchSize: Int
    /// Fraction of the samples held out for validation: the last ones, as Keras takes them.
    public var validationSplit: Double
    /// Shuffle the training samples before every epoch.
    public var shuffle: Bool
    public var seed: UInt64

    public init(epochs: Int = 10, batchSize: Int = 8, validationSplit: Double = 0, shuffle: Bool = true, seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.validationSplit = validationSplit
        self.shuffle = shuffle
        self.seed = seed
    }
}

/// Progress of a training run.
public enum FitEvent: Sendable {
    case batch(epoch: Int, batch: Int, batches: Int, loss: Float)
    case epoch(EpochResult)
}

/// The numbers of one epoch: training means weighted by batch size, validation if any.
public struct EpochResult: Sendable, Equatable {
    public let epoch: Int
    public let loss: Float
    public let accuracy: Float
    public let validationLoss: Float?
    public let validationAccuracy: Float?
    public let seconds: Double
}

extension SeedStack {
    /// Trains on `x` (N, T, H, W, C) and one-hot `y` (N, classes) for `options.epochs`
    /// epochs with `optimizer`, reporting every batch and epoch to `progress`.
    @discardableResult
    public func fit(x: Tensor, y: Tensor, options: FitOptions, optimizer: inout Adam,
                    progress: (FitEvent) -> Void = { _ in }) throws(ModelError) -> [EpochResult] {
        try checkInput(x)
        let n = x.shape[0]
        guard y.shape == [n, config.classes] else {
            throw ModelError("targets have shape \(y.shapeDescription); expected (\(n), \(config.classes))")
        }
        guard options.epochs >= 0, options.batchSize >= 1 else { throw ModelError("epochs must be >= 0 and batch size >= 1") }
        guard options.validationSplit >= 0, options.validationSplit < 1 else {
            throw ModelError("validation split must be in [0, 1), got \(options.validationSplit)")
        }
        let trainCount = Int((Double(n) * (1 - options.validationSplit)).rounded(.down))
        guard trainCount > 0 else { throw ModelError("no training samples left after the validation split") }
        let validation = trainCount < n ? (x.samples(trainCount ..< n), y.samples(trainCount ..< n)) : nil
        var random = SeededGenerator(seed: options.seed)
        var results: [EpochResult] = []
        let batches = (trainCount + options.batchSize - 1) / options.batchSize
        for epoch in 1...max(options.epochs, 1) where options.epochs > 0 {
            let started = Date()
            var order = Array(0..<trainCount)
            if options.shuffle { order.shuffle(using: &random) }
            var lossSum = 0.0, correct = 0
            for batch in 0..<batches {
                let indices = Array(order[batch * options.batchSize ..< min((batch + 1) * options.batchSize, trainCount)])
                let xb = x.samples(at: indices), yb = y.samples(at: indices)
                let result = try trainStep(x: xb, y: yb, optimizer: &optimizer)
                lossSum += Double(result.loss) * Double(indices.count)
                result.probabilities.data.withUnsafeBufferPointer { p in
                    yb.data.withUnsafeBufferPointer { t in
                        correct += countCorrect(p.baseAddress!, t.baseAddress!, batch: indices.count, classes: config.classes)
                    }
                }
                progress(.batch(epoch: epoch, batch: batch + 1, batches: batches, loss: result.loss))
            }
            var validationLoss: Float? = nil, validationAccuracy: Float? = nil
            if let (vx, vy) = validation {
                (validationLoss, validationAccuracy) = try evaluate(x: vx, y: vy, batchSize: options.batchSize)
            }
            let result = EpochResult(epoch: epoch, loss: Float(lossSum / Double(trainCount)),
                                     accuracy: Float(correct) / Float(trainCount),
                                     validationLoss: validationLoss, validationAccuracy: validationAccuracy,
                                     seconds: Date().timeIntervalSince(started))
            results.append(result)
            progress(.epoch(result))
        }
        return results
    }
}
