import ActionNet
import ClipIO
import Foundation

/// How clips are kept together when the data is split: clips of one group all go to
/// training or all to validation, because a random split of near-duplicate clips (cut
/// from one recording) lets the model be graded on what it has already seen.
public enum SplitGrouping: String, Codable, Sendable, CaseIterable {
    /// Every clip on its own.
    case none
    /// The folder the clip is in (`run/take3/a.mp4` -> `run/take3`).
    case folder
    /// The file name up to its last `_` or `-` (`v_Run_g01_c02.avi` -> `v_Run_g01`,
    /// `jog-007.mp4` -> `jog`), within its folder.
    case prefix

    /// The group of the sample called `id` (a path relative to the project, with `/`).
    public func group(of id: String) -> String {
        switch self {
        case .none:
            return id
        case .folder:
            guard let slash = id.lastIndex(of: "/") else { return "" }
            return String(id[..<slash])
        case .prefix:
            let slash = id.lastIndex(of: "/")
            let folder = slash.map { String(id[...$0]) } ?? ""
            var name = String(slash.map { id[id.index(after: $0)...] } ?? id[...])
            if let dot = name.lastIndex(of: "."), dot != name.startIndex { name = String(name[..<dot]) }
            if let cut = name.lastIndex(where: { $0 == "_" || $0 == "-" }), cut != name.startIndex {
                name = String(name[..<cut])
            }
            return folder + name
        }
    }
}

/// Light random changes to training samples, drawn anew every epoch; validation samples
/// are never changed. All off by default.
public struct Augmentation: Codable, Sendable, Equatable {
    /// Mirror the whole clip left-right with probability 1/2.
    public var horizontalFlip: Bool
    /// Cut a random window of 85-100% of the height and width and scale it back up.
    public var randomCrop: Bool
    /// Shift the clip in time by up to T/8 frames (at least one), repeating the edge frame.
    public var temporalJitter: Bool

    public init(horizontalFlip: Bool = false, randomCrop: Bool = false, temporalJitter: Bool = false) {
        self.horizontalFlip = horizontalFlip
        self.randomCrop = randomCrop
        self.temporalJitter = temporalJitter
    }

    public static let off = Augmentation()
    public var isOff: Bool { self == .off }

    enum CodingKeys: String, CodingKey {
        case horizontalFlip = "horizontal_flip", randomCrop = "random_crop", temporalJitter = "temporal_jitter"
    }
}

/// Lowers the learning rate when the monitored loss stops improving (Keras's
/// ReduceLROnPlateau on `val_loss`, or `loss` without a validation set).
public struct PlateauSchedule: Codable, Sendable, Equatable {
    /// The rate is multiplied by this after `patience` epochs without improvement.
    public var factor: Float
    public var patience: Int
    /// The rate never goes below this.
    public var minimum: Float
    /// A loss counts as better only when it is lower by more than this.
    public var minimumDelta: Double

    public init(factor: Float = 0.5, patience: Int = 3, minimum: Float = 1e-5, minimumDelta: Double = 1e-4) {
        self.factor = factor
        self.patience = patience
        self.minimum = minimum
        self.minimumDelta = minimumDelta
    }

    enum CodingKeys: String, CodingKey {
        case factor, patience, minimum, minimumDelta = "minimum_delta"
    }
}

/// Everything that decides a training run. Stored as the run's `settings_json`, so a
/// stopped run resumes with exactly these values.
public struct TrainingSettings: Codable, Sendable, Equatable {
    /// The preset the values started from, if any ("quick", "seed"); informational.
    public var preset: String?
    /// The model, including the input sampling (frames, height, width, channels).
    public var model: ModelConfig
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    /// Fraction of each class held out for validation (0 for none).
    public var validationFraction: Double
    public var groupBy: SplitGrouping
    /// Shuffle the training samples every epoch.
    public var shuffle: Bool
    /// Seeds the initial weights, the split, the shuffles, dropout and augmentation.
    public var seed: UInt64
    public var augmentation: Augmentation
    /// Stop after this many epochs without a better validation result; nil never stops early.
    public var earlyStoppingPatience: Int?
    public var reduceLearningRate: PlateauSchedule?

    public init(preset: String? = nil, model: ModelConfig, epochs: Int = 30, batchSize: Int = 8,
                learningRate: Float = 1e-3, validationFraction: Double = 0.2, groupBy: SplitGrouping = .none,
                shuffle: Bool = true, seed: UInt64 = 0, augmentation: Augmentation = .off,
                earlyStoppingPatience: Int? = nil, reduceLearningRate: PlateauSchedule? = nil) {
        self.preset = preset
        self.model = model
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.validationFraction = validationFraction
        self.groupBy = groupBy
        self.shuffle = shuffle
        self.seed = seed
        self.augmentation = augmentation
        self.earlyStoppingPatience = earlyStoppingPatience
        self.reduceLearningRate = reduceLearningRate
    }

    /// The frames each clip is sampled to: the model's input.
    public var sampling: SamplingSettings {
        SamplingSettings(frames: model.frames, height: model.height, width: model.width, channels: model.channels)
    }

    /// Checks every value, naming the first that cannot be used.
    public func validate() throws(TrainingError) {
        do { try model.validate() } catch { throw TrainingError("model settings: \(error.description)") }
        if let problem = sampling.problem { throw TrainingError("sampling: \(problem)") }
        if epochs < 1 { throw TrainingError("epochs must be at least 1, got \(epochs)") }
        if batchSize < 1 { throw TrainingError("batch size must be at least 1, got \(batchSize)") }
        if !(learningRate > 0 && learningRate.isFinite) {
            throw TrainingError("learning rate must be positive, got \(learningRate)")
        }
        if !(validationFraction >= 0 && validationFraction < 1) {
            throw TrainingError("validation fraction must be in [0, 1), got \(validationFraction)")
        }
        if let p = earlyStoppingPatience, p < 1 { throw TrainingError("early-stopping patience must be at least 1, got \(p)") }
        if let r = reduceLearningRate {
            if !(r.factor > 0 && r.factor < 1) { throw TrainingError("the plateau factor must be in (0, 1), got \(r.factor)") }
            if r.patience < 1 { throw TrainingError("the plateau patience must be at least 1, got \(r.patience)") }
        }
    }

    enum CodingKeys: String, CodingKey {
        case preset, model, epochs, seed, shuffle, augmentation
        case batchSize = "batch_size", learningRate = "learning_rate"
        case validationFraction = "validation_fraction", groupBy = "group_by"
        case earlyStoppingPatience = "early_stopping_patience", reduceLearningRate = "reduce_lr_on_plateau"
    }
}

/// Named starting points for `TrainingSettings`.
public enum TrainingPreset: String, CaseIterable, Sendable, Codable {
    /// Small enough to train on two CPU cores in minutes: 16 frames of 48x48 gray,
    /// ConvLSTM filters 16/8/8, dense 64, dropout 0, batch 8, Adam at 2e-3, 40 epochs
    /// with early stopping after 10 epochs without a better validation result.
    case quick
    /// The original network: 60 frames of 192x192 gray, filters 64/32/16, dense 256,
    /// dropout 0.1, batch 8, Adam at 1e-3, 30 epochs. About a thousand times the work of
    /// `quick` per sample: hours per epoch on a CPU.
    case seed

    /// The settings of this preset for `classes` classes.
    public func settings(classes: Int) -> TrainingSettings {
        switch self {
        case .quick:
            return TrainingSettings(
                preset: rawValue,
                model: ModelConfig(frames: 16, height: 48, width: 48, channels: 1, filters: [16, 8, 8],
                                   denseUnits: 64, classes: classes, dropout: 0, recurrentDropout: 0),
                epochs: 40, batchSize: 8, learningRate: 2e-3, validationFraction: 0.2,
                earlyStoppingPatience: 10)
        case .seed:
            var model = ModelConfig.seed
            model.classes = classes
            return TrainingSettings(preset: rawValue, model: model, epochs: 30, batchSize: 8, learningRate: 1e-3,
                                    validationFraction: 0.2)
        }
    }
}

/// A training run that cannot start or go on: names the file or setting and the problem.
public struct TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
