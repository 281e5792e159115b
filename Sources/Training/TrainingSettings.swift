import ActionNet
import ActionStore
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
    /// The sizes of the stack a new run builds, including the input sampling (frames,
    /// height, width, channels); `modelSpec` is the model made of them.
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
    /// Momentum of every BatchNormalization's moving statistics (Keras: 0.99). On small
    /// datasets a run takes few steps, and at 0.99 the moving variance still remembers its
    /// initial 1 after hundreds of them, so inference (and validation) normalises with the
    /// wrong scale; a lower momentum follows the batches closely enough.
    public var batchNormMomentum: Float
    public var head: ModelHead
    /// Dropout rate before the classifier (the last Dense); 0 leaves the layer out.
    public var headDropout: Float
    /// AdamW's decoupled weight decay (0: plain Adam), applied to every trainable
    /// parameter (kernels, biases and BatchNorm's gamma and beta) as Keras's AdamW does.
    public var weightDecay: Float
    public var input: InputTransform
    /// Each clip normalised on its own before the first layer (nil: as it comes).
    public var normalization: ClipNormalizationMode?
    /// The number format of the network's matrix products (`Precision`): a setting of the
    /// run, recorded with it; the weights and checkpoints stay float32 either way.
    public var precision: Precision

    public init(preset: String? = nil, model: ModelConfig, epochs: Int = 30, batchSize: Int = 8,
                learningRate: Float = 1e-3, validationFraction: Double = 0.2, groupBy: SplitGrouping = .none,
                shuffle: Bool = true, seed: UInt64 = 0, augmentation: Augmentation = .off,
                earlyStoppingPatience: Int? = nil, reduceLearningRate: PlateauSchedule? = nil,
                batchNormMomentum: Float = 0.99, head: ModelHead = .flatten, headDropout: Float = 0,
                weightDecay: Float = 0, input: InputTransform = .frames, normalization: ClipNormalizationMode? = nil,
                precision: Precision = .fp32) {
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
        self.batchNormMomentum = batchNormMomentum
        self.head = head
        self.headDropout = headDropout
        self.weightDecay = weightDecay
        self.input = input
        self.normalization = normalization
        self.precision = precision
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        preset = try c.decodeIfPresent(String.self, forKey: .preset)
        model = try c.decode(ModelConfig.self, forKey: .model)
        epochs = try c.decode(Int.self, forKey: .epochs)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        validationFraction = try c.decode(Double.self, forKey: .validationFraction)
        groupBy = try c.decode(SplitGrouping.self, forKey: .groupBy)
        shuffle = try c.decode(Bool.self, forKey: .shuffle)
        seed = try c.decode(UInt64.self, forKey: .seed)
        augmentation = try c.decode(Augmentation.self, forKey: .augmentation)
        earlyStoppingPatience = try c.decodeIfPresent(Int.self, forKey: .earlyStoppingPatience)
        reduceLearningRate = try c.decodeIfPresent(PlateauSchedule.self, forKey: .reduceLearningRate)
        batchNormMomentum = try c.decodeIfPresent(Float.self, forKey: .batchNormMomentum) ?? 0.99
        head = try c.decodeIfPresent(ModelHead.self, forKey: .head) ?? .flatten
        headDropout = try c.decodeIfPresent(Float.self, forKey: .headDropout) ?? 0
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? 0
        input = try c.decodeIfPresent(InputTransform.self, forKey: .input) ?? .frames
        normalization = try c.decodeIfPresent(ClipNormalizationMode.self, forKey: .normalization)
        precision = try c.decodeIfPresent(Precision.self, forKey: .precision) ?? .fp32
    }

    /// The model a new run builds: the stack of `model`'s sizes with `head`,
    /// `batchNormMomentum` and `headDropout`.
    public var modelSpec: ModelSpec {
        var sizes = model
        // `model.channels` is the sampling's (1 gray, 3 RGB); the network takes what the
        // input transform makes of them.
        sizes.channels = input.outputChannels(model.channels)
        return sizes.spec(head: head, batchNormMomentum: batchNormMomentum, headDropout: headDropout,
                          normalization: normalization)
    }

    /// The Keras-style table of `modelSpec`, named after the preset: what
    /// `actionlab summary --preset` prints and the Model screen shows.
    public func modelSummary() throws(ModelError) -> ModelSummary {
        try ModelSummary(spec: modelSpec, name: preset ?? "model")
    }

    /// The frames each clip is sampled to, before the input transform.
    public var sampling: SamplingSettings {
        SamplingSettings(frames: model.frames, height: model.height, width: model.width, channels: model.channels)
    }

    /// Checks every value, naming the first that cannot be used.
    /// The most epochs a run may ask for (a run of a million batches stays countable).
    public static let maximumEpochs = 100_000
    /// The largest batch: far beyond what fits in memory at any useful frame size.
    public static let maximumBatchSize = 65_536

    public func validate() throws(TrainingError) {
        do { try model.validate() } catch { throw TrainingError("model settings: \(error.description)") }
        if let problem = sampling.problem { throw TrainingError("sampling: \(problem)") }
        if !(1...Self.maximumEpochs).contains(epochs) {
            throw TrainingError("epochs must be from 1 to \(Self.maximumEpochs), got \(epochs)")
        }
        if !(1...Self.maximumBatchSize).contains(batchSize) {
            throw TrainingError("batch size must be from 1 to \(Self.maximumBatchSize), got \(batchSize)")
        }
        if !(learningRate > 0 && learningRate.isFinite) {
            throw TrainingError("learning rate must be positive, got \(learningRate)")
        }
        if !(validationFraction >= 0 && validationFraction < 1) {
            throw TrainingError("validation fraction must be in [0, 1), got \(validationFraction)")
        }
        if !(batchNormMomentum >= 0 && batchNormMomentum < 1) {
            throw TrainingError("the BatchNormalization momentum must be in [0, 1), got \(batchNormMomentum)")
        }
        if !(headDropout >= 0 && headDropout < 1) {
            throw TrainingError("the head dropout must be in [0, 1), got \(headDropout)")
        }
        if !(weightDecay >= 0 && weightDecay.isFinite) {
            throw TrainingError("the weight decay must be 0 (plain Adam) or positive, got \(weightDecay)")
        }
        do { try modelSpec.validate() } catch { throw TrainingError("model: \(error.description)") }
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
        case batchNormMomentum = "batch_norm_momentum", head, input, normalization
        case headDropout = "head_dropout", weightDecay = "weight_decay", precision
    }
}

/// A training run that cannot start or go on: names the file or setting and the problem.
public struct TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension TrainingSettings {
    /// These settings with the choices of a project's `[training]` section; `file` names
    /// actionlab.toml in errors.
    public func applying(_ choices: TrainingChoices, file: String) throws(TrainingError) -> TrainingSettings {
        var settings = self
        if let name = choices.input {
            guard let input = InputTransform(rawValue: name) else {
                throw TrainingError("\(file): [training] input '\(name)' is not one of "
                                    + InputTransform.allCases.map(\.rawValue).joined(separator: ", "))
            }
            settings.input = input
        }
        if let name = choices.head {
            guard let head = ModelHead(rawValue: name) else {
                throw TrainingError("\(file): [training] head '\(name)' is not one of "
                                    + ModelHead.allCases.map(\.rawValue).joined(separator: ", "))
            }
            settings.head = head
        }
        if let name = choices.normalize {
            guard name == "none" || ClipNormalizationMode(rawValue: name) != nil else {
                throw TrainingError("\(file): [training] normalize '\(name)' is not one of none, "
                                    + ClipNormalizationMode.allCases.map(\.rawValue).joined(separator: ", "))
            }
            settings.normalization = ClipNormalizationMode(rawValue: name)
        }
        if let rate = choices.headDropout { settings.headDropout = Float(rate) }
        if let decay = choices.weightDecay { settings.weightDecay = Float(decay) }
        if let crop = choices.crop { settings.augmentation.randomCrop = crop }
        if let shift = choices.shift { settings.augmentation.temporalJitter = shift }
        if let speed = choices.speed { settings.augmentation.speedJitter = speed }
        if let light = choices.light { settings.augmentation.brightnessContrast = light }
        if let name = choices.precision {
            guard let precision = Precision(rawValue: name) else {
                throw TrainingError("\(file): [training] precision '\(name)' is not one of "
                                    + Precision.allCases.map(\.rawValue).joined(separator: ", "))
            }
            settings.precision = precision
        }
        func swaps(_ symmetry: TrainingChoices.Symmetry) -> ClassSwaps? {
            switch symmetry {
            case .never: nil
            case .swaps(let pairs): ClassSwaps(pairs)
            }
        }
        if let mirror = choices.horizontalFlip { settings.augmentation.horizontalFlip = swaps(mirror) }
        if let mirror = choices.verticalFlip { settings.augmentation.verticalFlip = swaps(mirror) }
        if let reversal = choices.timeReversal { settings.augmentation.timeReversal = swaps(reversal) }
        return settings
    }
}
