import ActionNet
import ActionStore
import Foundation

/// Named starting points for `TrainingSettings`: every preset of the command line and
/// the app is here.
public enum TrainingPreset: String, CaseIterable, Sendable, Codable {
    /// The recipe for a user's own few dozen clips, trained on two CPU cores in minutes:
    /// 24 frames of 48x48 gray seen as optical flow (which way everything moved),
    /// ConvLSTM filters 16/8/8, a global max pool, dense 64, dropout 0, BatchNorm momentum
    /// 0.9, the label-safe augmentations (crop, time shift; mirrors only when the project
    /// declares what they do to its labels), batch 8, Adam at 2e-3 halved after 4 epochs
    /// without a lower validation loss, up to 40 epochs, early stopping after 15 without a
    /// better validation accuracy.
    ///
    /// Why these (measured in docs/recipes.md): flow carries motion with its direction,
    /// which frame differences throw away, and it does not depend on what the scene looks
    /// like, so a model trained on some footage holds on footage it never saw (camera
    /// pans, tilts and zooms over real video: 90% on an unseen source where frame
    /// differences scored 43%); the global max pool removes where in the frame things
    /// happen; the tiny dense layer leaves little to overfit on a few dozen clips.
    case quick
    /// The original network: 60 frames of 192x192 gray, filters 64/32/16, dense 256,
    /// dropout 0.1, batch 8, Adam at 1e-3, 30 epochs. About a thousand times the work of
    /// `quick` per sample: hours per epoch on a CPU.
    case seed
    /// A network small enough that an epoch on sample-data takes a fraction of a second:
    /// 4 frames of 24x24 gray, filters 4/4/4, dense 16, 2 epochs. For trying the screens
    /// out and for tests; it does not learn much.
    case tiny
    /// What `actionlab train --tensors` does without a preset (the original command's
    /// defaults): the seed stack, dropout 0.1, 10 epochs, batch 8, Adam at 1e-3, no
    /// validation set. The command then takes the frame sizes from the tensor file.
    case tensors

    /// When to pick this preset, in one line (the command's help, the Train screen and the
    /// README's preset table show it).
    public var whenToPick: String {
        switch self {
        case .quick: "your own clips, a few dozen per class: learns motion and its direction in minutes on a CPU"
        case .seed: "the original network at full size (60 frames of 192x192): hours per epoch on a CPU"
        case .tiny: "trying the screens out: an epoch in a fraction of a second, learns little"
        case .tensors: "numpy arrays from --tensors: the seed stack at the arrays' sizes, as the original notebook trained it"
        }
    }

    /// The recipe in a few words: input, head and augmentations ("motion, global_average_pool,
    /// crop + shift"), for the README's preset table and the Train screen.
    public var recipe: String {
        let settings = settings(classes: 5)
        let augmentations = settings.augmentation.enabledNames
        let normalization = settings.normalization.map { "\($0.rawValue)d per clip, " } ?? ""
        return "\(settings.input.rawValue), \(normalization)\(settings.head.rawValue), "
            + (augmentations.isEmpty ? "no augmentation" : augmentations.joined(separator: " + "))
    }

    /// The settings of this preset for `classes` classes.
    public func settings(classes: Int) -> TrainingSettings {
        switch self {
        case .quick:
            return TrainingSettings(
                preset: rawValue,
                model: ModelConfig(frames: 24, height: 48, width: 48, channels: 1, filters: [16, 8, 8],
                                   denseUnits: 64, classes: classes, dropout: 0, recurrentDropout: 0),
                epochs: 40, batchSize: 8, learningRate: 2e-3, validationFraction: 0.2,
                augmentation: Augmentation(randomCrop: true, temporalJitter: true),
                earlyStoppingPatience: 15, reduceLearningRate: PlateauSchedule(factor: 0.5, patience: 4, minimum: 1e-4),
                batchNormMomentum: 0.9, head: .globalAveragePool, input: .motion)
        case .seed:
            var model = ModelConfig.seed
            model.classes = classes
            return TrainingSettings(preset: rawValue, model: model, epochs: 30, batchSize: 8, learningRate: 1e-3,
                                    validationFraction: 0.2)
        case .tiny:
            return TrainingSettings(preset: rawValue,
                                    model: ModelConfig(frames: 4, height: 24, width: 24, channels: 1, filters: [4, 4, 4],
                                                       denseUnits: 16, classes: classes, dropout: 0, recurrentDropout: 0),
                                    epochs: 2, batchSize: 8, learningRate: 2e-3, validationFraction: 0.2)
        case .tensors:
            var model = ModelConfig.seed
            model.classes = classes
            return TrainingSettings(preset: rawValue, model: model, epochs: 10, batchSize: 8, learningRate: 1e-3,
                                    validationFraction: 0)
        }
    }

    /// The settings of a project's own preset: quick's network and training on the
    /// frames its actionlab.toml `[sampling]` asks for.
    public static func project(classes: Int, sampling: ProjectConfig.Sampling) -> TrainingSettings {
        var settings = TrainingPreset.quick.settings(classes: classes)
        settings.preset = "project"
        settings.sample(as: sampling)
        return settings
    }
}

extension TrainingSettings {
    /// Samples clips as a project's `[sampling]` says: the model's input becomes those
    /// frames, heights, widths and channels.
    public mutating func sample(as sampling: ProjectConfig.Sampling) {
        (model.frames, model.height, model.width, model.channels)
            = (sampling.frames, sampling.height, sampling.width, sampling.channels)
    }

    /// Continues from `checkpoint`: its model is the one trained (`Trainer` builds it from
    /// the file), so these settings take its input sampling, classes and input transform,
    /// which the data must match.
    public mutating func adoptInput(of checkpoint: LoadedCheckpoint) throws(TensorFileError) {
        let shape = checkpoint.spec.inputShape
        input = try ClipClassifier.inputTransform(of: checkpoint.url)
        guard let channels = input.samplingChannels(forModelChannels: shape[3]) else {
            throw TensorFileError(checkpoint.url, "a model of \(shape[3]) input channels cannot take the input '\(input.rawValue)'")
        }
        (model.frames, model.height, model.width, model.channels) = (shape[0], shape[1], shape[2], channels)
        model.classes = checkpoint.spec.classes
    }
}

