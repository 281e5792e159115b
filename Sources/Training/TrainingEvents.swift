import ActionNet
import ActionStore
import Foundation

/// What a `Trainer` reports, in order:
///
///     loading*  started  ( batch+  validation*  epoch  learningRateChanged?  checkpoint* )*  finished
///
/// with `paused`/`resumed` pairs between any two batches, and `failed` ending the run
/// instead of `finished` at any point (also before `started`, when the data cannot be
/// loaded). A project's clips are decoded while the run trains: `loading` and `skipped`
/// come between `started` and the end, from the decoding threads, as clips finish.
/// Every value is `Sendable`; a screen can be drawn from the events alone.
public enum TrainingEvent: Sendable, Equatable {
    /// Clips of the run decoded so far (into the clip cache), of all it uses.
    case loading(LoadingProgress)
    /// A clip of the run did not decode: it is left out of the rest of the run (its batches
    /// are built of the other samples).
    case skipped(SkippedSample)
    /// The data is split and the model built; batches follow.
    case started(RunStart)
    /// A training batch finished.
    case batch(BatchProgress)
    /// A validation batch finished.
    case validation(ValidationProgress)
    /// An epoch finished, validation included.
    case epoch(EpochReport)
    /// Reduce-on-plateau changed the learning rate (after the epoch it reacted to).
    case learningRateChanged(LearningRateChange)
    /// A checkpoint was written (atomically: the previous one stays whole until then).
    case checkpoint(CheckpointSaved)
    /// Training waits between two batches until resumed or stopped.
    case paused(TrainingPosition)
    case resumed(TrainingPosition)
    /// The run ended: completed, early-stopped or stopped by the user; see `status`.
    case finished(RunSummary)
    /// The run could not go on; the message names the file or setting and the problem.
    case failed(TrainingFailure)

    /// True for the last event of a run.
    public var isFinal: Bool {
        switch self {
        case .finished, .failed: true
        default: false
        }
    }
}

public struct LoadingProgress: Sendable, Equatable {
    public var done: Int
    public var total: Int

    public init(done: Int, total: Int) {
        self.done = done
        self.total = total
    }
}

/// A sample left out of the run, with the reason.
public struct SkippedSample: Sendable, Equatable {
    public var id: String
    public var reason: String

    public init(id: String, reason: String) {
        self.id = id
        self.reason = reason
    }
}

/// A run about to train.
public struct RunStart: Sendable, Equatable {
    /// The run's id in the project database; nil when not recorded (tensor files).
    public var runID: Int64?
    /// Where its checkpoints and CSV go: `DIR/.actionlab/runs/<run-id>/`; nil when none.
    public var runDirectory: URL?
    public var settings: TrainingSettings
    /// The model trained: `settings.modelSpec` for a new model, the checkpoint's when
    /// the run starts from one.
    public var model: ModelSpec
    public var classNames: [String]
    /// Samples per class on each side of the split.
    public var trainingPerClass: [Int]
    public var validationPerClass: [Int]
    public var batchesPerEpoch: Int
    public var validationBatches: Int
    /// 1 for a new run; the epoch after the last completed one when resuming.
    public var firstEpoch: Int
    public var parameterCount: Int
    public var trainableParameterCount: Int
    /// The time and memory the run should take, from the model's size.
    public var estimate: TrainingEstimate
    /// Split entries no longer found, and samples left out before the run; clips that do
    /// not decode are found during the run and reported by `skipped` events.
    public var skipped: [SkippedSample]
    /// The checkpoint the weights came from (resume or `--init`), if any.
    public var startedFrom: URL?

    public var trainingCount: Int { trainingPerClass.reduce(0, +) }
    public var validationCount: Int { validationPerClass.reduce(0, +) }
}

/// Where training stands between two batches.
public struct TrainingPosition: Sendable, Equatable {
    /// The epoch in progress, from 1.
    public var epoch: Int
    /// Training batches of that epoch done so far.
    public var batch: Int

    public init(epoch: Int, batch: Int) {
        self.epoch = epoch
        self.batch = batch
    }
}

public struct BatchProgress: Sendable, Equatable {
    /// The epoch (from 1) of `epochs`, the batch (from 1) of `batches`.
    public var epoch: Int
    public var epochs: Int
    public var batch: Int
    public var batches: Int
    /// This batch's mean loss.
    public var loss: Float
    /// Means over the epoch's batches so far, weighted by batch size.
    public var meanLoss: Float
    public var meanAccuracy: Float
    public var learningRate: Float
    /// Mean wall time of this epoch's training batches so far.
    public var secondsPerBatch: Double
    /// Mean wall time of a validation batch in the last epoch, or the estimate before any.
    public var validationSecondsPerBatch: Double
    public var samplesPerSecond: Double
    /// Seconds until the last epoch ends, validation included, at the present pace.
    public var etaSeconds: Double
    /// Seconds since the run started (pauses excluded).
    public var elapsedSeconds: Double
    /// Per layer, after this batch: output mean and std, gradient norm (ActionNet's names).
    public var layers: [LayerStatistics]
}

public struct ValidationProgress: Sendable, Equatable {
    public var epoch: Int
    public var epochs: Int
    /// The validation batch (from 1) of `batches`.
    public var batch: Int
    public var batches: Int
    /// Mean wall time of this epoch's validation batches so far.
    public var secondsPerBatch: Double
    public var etaSeconds: Double
}

/// The numbers of one finished epoch.
public struct EpochReport: Sendable, Equatable {
    public var epoch: Int
    public var epochs: Int
    /// Training means over the epoch, weighted by batch size.
    public var loss: Float
    public var accuracy: Float
    /// Nil without a validation set.
    public var validationLoss: Float?
    public var validationAccuracy: Float?
    /// The learning rate the epoch trained with.
    public var learningRate: Float
    public var seconds: Double
    public var trainingSeconds: Double
    public var validationSeconds: Double
    public var samplesPerSecond: Double
    /// Recall of each class on the validation set; nil for a class without validation samples.
    public var perClassValidationAccuracy: [Float?]
    /// Rows: true class, columns: predicted class, over the validation set.
    public var confusion: ConfusionMatrix?
    /// True when this epoch is the best so far (the `best` checkpoint then holds it).
    public var isBest: Bool
    public var bestEpoch: Int
    public var bestValidationAccuracy: Float?
    /// Epochs since the best one (early stopping ends the run when this reaches its patience).
    public var epochsWithoutImprovement: Int
}

public struct LearningRateChange: Sendable, Equatable {
    public var epoch: Int
    public var from: Float
    public var to: Float
}

public struct CheckpointSaved: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The latest weights and optimizer state (every epoch, and on stop): resume from it.
        case last
        /// The best epoch by validation accuracy (lower validation loss breaks ties).
        case best
        /// The copy of `best` asked for with `--out`.
        case output
    }

    public var kind: Kind
    public var url: URL
    /// Epochs completed in the weights written.
    public var epoch: Int
}

/// How a run ended.
public struct RunSummary: Sendable, Equatable {
    public var runID: Int64?
    /// `.completed`, `.earlyStopped` or `.stopped`.
    public var status: RunStatus
    /// The reason in words, e.g. "no better validation accuracy for 10 epochs".
    public var reason: String
    public var epochsCompleted: Int
    public var bestEpoch: Int?
    public var bestValidationAccuracy: Float?
    public var seconds: Double
    public var lastCheckpoint: URL?
    public var bestCheckpoint: URL?
}

public struct TrainingFailure: Sendable, Equatable {
    public var runID: Int64?
    public var message: String
}

/// Counts of (true class, predicted class) pairs.
public struct ConfusionMatrix: Sendable, Equatable {
    public let classes: Int
    /// Row-major (true, predicted).
    public private(set) var counts: [Int]

    public init(classes: Int) {
        self.classes = classes
        counts = [Int](repeating: 0, count: classes * classes)
    }

    public mutating func add(truth: Int, predicted: Int) { counts[truth * classes + predicted] += 1 }

    public subscript(truth: Int, predicted: Int) -> Int { counts[truth * classes + predicted] }

    public var total: Int { counts.reduce(0, +) }
    public var correct: Int { (0..<classes).reduce(0) { $0 + self[$1, $1] } }
    public var accuracy: Float { total == 0 ? 0 : Float(correct) / Float(total) }

    /// Samples of class `truth`.
    public func support(_ truth: Int) -> Int { (0..<classes).reduce(0) { $0 + self[truth, $1] } }

    /// Fraction of each class's samples predicted as that class; nil for a class without samples.
    public var recall: [Float?] {
        (0..<classes).map { c in
            let n = support(c)
            return n == 0 ? nil : Float(self[c, c]) / Float(n)
        }
    }

    /// The matrix as text: a header of predicted class names, one row per true class.
    public func render(classNames: [String]) -> String {
        let names = classNames.map { String($0.prefix(12)) }
        let width = max(names.map(\.count).max() ?? 1, String(counts.max() ?? 0).count, 4)
        func pad(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        var lines = [pad("") + "  " + names.map(pad).joined(separator: " ") + "   <- predicted"]
        for t in 0..<classes {
            lines.append(pad(names[t]) + "  " + (0..<classes).map { pad(String(self[t, $0])) }.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }
}
