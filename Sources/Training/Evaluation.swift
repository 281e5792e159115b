import ActionNet
import ActionStore
import ClipIO
import Foundation

/// A trained model's results on labelled samples: the trainer's validation and
/// `actionlab eval` both count them here, a batch at a time.
public struct Evaluation: Sendable, Equatable {
    public var classNames: [String]
    public var confusion: ConfusionMatrix
    /// Summed categorical cross-entropy of every sample added.
    private var lossSum = 0.0

    /// Mean categorical cross-entropy (probabilities clipped to [1e-7, 1 - 1e-7], as
    /// Keras clips them); 0 before any sample.
    public var loss: Float { confusion.total == 0 ? 0 : Float(lossSum / Double(confusion.total)) }
    public var accuracy: Float { confusion.accuracy }
    /// Per class, the fraction of its samples predicted right; nil without samples.
    public var recall: [Float?] { confusion.recall }

    /// No samples yet.
    public init(classNames: [String]) {
        self.classNames = classNames
        confusion = ConfusionMatrix(classes: classNames.count)
    }

    /// Runs `model` in inference mode over every sample of `set` (transformed by `input`),
    /// `batchSize` at a time, the next batch read while the model runs on this one. A
    /// sample that cannot be read any more (its cache entry or tensor file changed) throws.
    public init(model: ActionModel, set: SampleSet, input: InputTransform = .frames, batchSize: Int = 8) throws {
        self.init(classNames: set.classNames)
        let batch = max(1, batchSize)
        let starts = Array(stride(from: 0, to: set.count, by: batch))
        let batches = try set.prefetchedBatches(starts.map { Array($0 ..< min($0 + batch, set.count)) }, input: input)
        for start in starts {
            guard let (x, _) = try batches.next() else { throw TrainingError("the batches ended before sample \(start + 1)") }
            add(try model.predict(x, batchSize: batch), truths: (start ..< min(start + batch, set.count)).map { set.samples[$0].classIndex })
        }
    }

    /// Counts the rows of `probabilities` (B, classes) against their true classes.
    public mutating func add(_ probabilities: Tensor, truths: [Int]) {
        let classes = probabilities.shape[1]
        for (row, truth) in truths.enumerated() {
            let p = probabilities.data[row * classes ..< (row + 1) * classes]
            confusion.add(truth: truth, predicted: Self.topClass(p))
            lossSum -= log(Double(min(max(p[p.startIndex + truth], 1e-7), 1 - 1e-7)))
        }
    }

    /// The index of the largest probability (the first of equals).
    static func topClass(_ p: ArraySlice<Float>) -> Int {
        var best = p.startIndex
        for i in p.indices where p[i] > p[best] { best = i }
        return best - p.startIndex
    }

    /// Rows of `probabilities` (B, classes) whose top class is the truth.
    static func countCorrect(_ probabilities: Tensor, _ truths: [Int]) -> Int {
        let classes = probabilities.shape[1]
        return truths.enumerated().reduce(0) { count, item in
            count + (topClass(probabilities.data[item.offset * classes ..< (item.offset + 1) * classes]) == item.element ? 1 : 0)
        }
    }

    /// Accuracy, per-class recall and the confusion matrix as lines of text.
    public func report() -> String {
        var lines = [String(format: "accuracy %.4f (%d of %d), loss %.4f", accuracy, confusion.correct, confusion.total, loss)]
        lines.append("per-class recall:")
        let width = classNames.map(\.count).max() ?? 0
        for (c, name) in classNames.enumerated() {
            let padded = name + String(repeating: " ", count: width - name.count)
            let value = recall[c].map { String(format: "%.4f", $0) } ?? "  -   "
            lines.append("  \(padded)  \(value)  (\(confusion[c, c]) of \(confusion.support(c)))")
        }
        lines.append("confusion matrix (rows: true class):")
        lines += confusion.render(classNames: classNames).split(separator: "\n").map { "  " + $0 }
        return lines.joined(separator: "\n")
    }
}

/// A checkpoint ready to classify clips, each sampled as the checkpoint's model expects.
public final class ClipClassifier: @unchecked Sendable {
    // The model is used by one thread at a time: every call holds `lock`.
    private let lock = NSLock()
    public let checkpoint: URL
    /// The checkpoint's model.
    public let spec: ModelSpec
    public let classNames: [String]
    /// What the model was trained to see (from the checkpoint's metadata).
    public let input: InputTransform
    private let model: ActionModel

    public init(checkpoint url: URL) throws(TensorFileError) {
        let loaded = try Checkpoint.load(url)
        checkpoint = url
        spec = loaded.spec
        classNames = loaded.labels ?? (0..<loaded.spec.classes).map { "class\($0)" }
        model = loaded.model
        input = try Self.inputTransform(of: url)
        guard let channels = input.samplingChannels(forModelChannels: spec.channels) else {
            throw TensorFileError(url, "a model of \(spec.channels) input channels cannot take the input '\(input.rawValue)'")
        }
        samplingChannels = channels
        try Self.checkSampleSize(of: loaded)
    }

    /// Computes the model's matrix products in `precision` (see `Precision`).
    public func setPrecision(_ precision: Precision) throws(ModelError) {
        lock.lock()
        defer { lock.unlock() }
        try model.setPrecision(precision)
    }

    /// Refuses a checkpoint whose input (T, H, W, C) is more than memory allows, before a
    /// clip is sampled for it: the same check as a project's [sampling] and `probe`'s flags.
    public static func checkSampleSize(of loaded: LoadedCheckpoint) throws(TensorFileError) {
        let c = loaded.spec
        if let problem = SamplingSettings.sizeProblem(frames: c.frames, height: c.height, width: c.width, channels: c.channels) {
            throw TensorFileError(loaded.url, "the model's input: \(problem)")
        }
    }

    /// Channels of the sampled clips (1 gray, 3 RGB), before the input transform.
    private let samplingChannels: Int

    /// The input transform a checkpoint names (`frames` when it names none).
    public static func inputTransform(of url: URL) throws(TensorFileError) -> InputTransform {
        guard let name = try SafeTensorsFile(contentsOf: url).metadata[InputTransform.metadataKey] else { return .frames }
        guard let transform = InputTransform(rawValue: name) else {
            throw TensorFileError(url, "__metadata__.\(InputTransform.metadataKey) names an unknown input '\(name)'")
        }
        return transform
    }

    /// The model's input (1, T, H, W, C') for a sampled clip.
    public func input(for frames: ClipFrames) -> Tensor {
        var x = Tensor(shape: [1] + frames.shape, data: frames.floats())
        input.apply(to: &x)
        return x
    }

    /// The sampling the model's input needs.
    public var sampling: SamplingSettings {
        SamplingSettings(frames: spec.frames, height: spec.height, width: spec.width, channels: samplingChannels)
    }

    /// Class probabilities of one sampled clip.
    public func classify(_ frames: ClipFrames) throws(ModelError) -> Prediction {
        guard frames.settings == sampling else {
            throw ModelError("the clip was sampled as \(frames.shape) but the model takes \(sampling)")
        }
        let x = input(for: frames)
        lock.lock()
        defer { lock.unlock() }
        let probabilities = try model.predict(x)
        return Prediction(classNames: classNames, probabilities: probabilities.data)
    }

    /// Decodes `url` (with `loader`, straight from the file by default) and classifies it.
    public func classify(clip url: URL, loader: ClipFrameLoader = ProjectDataset.decodeEveryTime) throws -> Prediction {
        try classify(try loader(url, sampling))
    }

    /// Class probabilities (N, classes) of the rows of a tensor file (before the input
    /// transform), read from it a batch at a time, the next batch while the model runs on
    /// this one, so memory does not grow with the file. The same values as `predict` of
    /// the whole x.
    public func predict(rows: TensorFileRows, batchSize: Int = 8) throws -> Tensor {
        let set = SampleSet(classNames: classNames, samples: (0..<rows.count).map { SampleInfo(id: "#\($0)", classIndex: 0) },
                            source: TensorRowSource(rows: rows))
        let batch = max(1, batchSize)
        let starts = Array(stride(from: 0, to: rows.count, by: batch))
        let batches = try set.prefetchedBatches(starts.map { Array($0 ..< min($0 + batch, rows.count)) }, input: input)
        var probabilities: [Float] = []
        probabilities.reserveCapacity(rows.count * spec.classes)
        lock.lock()
        defer { lock.unlock() }
        for start in starts {
            guard let (x, _) = try batches.next() else { throw TrainingError("the batches ended before sample \(start + 1)") }
            probabilities += try model.predict(x, batchSize: batch).data
        }
        return Tensor(shape: [rows.count, spec.classes], data: probabilities)
    }

    /// Evaluates the model on the samples of `set`.
    public func evaluate(_ set: SampleSet, batchSize: Int = 8) throws -> Evaluation {
        lock.lock()
        defer { lock.unlock() }
        return try Evaluation(model: model, set: set, input: input, batchSize: batchSize)
    }

    /// Class probabilities (N, classes) of samples x (N, T, H, W, C), before the input transform.
    public func predict(_ x: Tensor, batchSize: Int = 8) throws(ModelError) -> Tensor {
        var transformed = x
        input.apply(to: &transformed)
        lock.lock()
        defer { lock.unlock() }
        return try model.predict(transformed, batchSize: batchSize)
    }

    /// Evaluates the model on a project's labelled clips (those of `only`'s paths, when
    /// given), matching the project's class names to the checkpoint's; clips of other
    /// classes are skipped.
    public func evaluate(project store: ProjectStore, loader: @escaping ClipFrameLoader, batchSize: Int = 8,
                         only: Set<String>? = nil) throws -> (evaluation: Evaluation, skipped: [SkippedSample]) {
        let loaded = try ProjectDataset.load(store: store, sampling: sampling, loader: loader, classNames: classNames,
                                             only: only)
        let evaluation = try lock.withLock { () throws -> Evaluation in
            try Evaluation(model: model, set: loaded.set, input: input, batchSize: batchSize)
        }
        return (evaluation, loaded.skipped.map { SkippedSample(id: $0.path, reason: $0.reason) })
    }
}

/// A model's answer for one clip.
public struct Prediction: Sendable, Equatable {
    public var classNames: [String]
    public var probabilities: [Float]

    public init(classNames: [String], probabilities: [Float]) {
        self.classNames = classNames
        self.probabilities = probabilities
    }

    public var topIndex: Int { probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0 }
    public var topLabel: String { classNames[topIndex] }
    public var topProbability: Float { probabilities[topIndex] }
}
