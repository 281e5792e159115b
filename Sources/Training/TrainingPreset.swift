import ActionNet
import ActionStore
import Foundation

/// Named starting points for `TrainingSettings`: every preset of the command line and
/// the app is here.
public enum TrainingPreset: String, CaseIterable, Sendable, Codable {
    /// Small enough to train on two CPU cores in minutes: 24 frames of 48x48 gray seen as
    /// frame differences, ConvLSTM filters 16/8/8, a global max pool, dense 64, dropout 0,
    /// BatchNorm momentum 0.9, augmentation on (flip, crop, temporal jitter), batch 8,
    /// Adam at 2e-3 halved after 4 epochs without a lower validation loss, up to 40
    /// epochs, early stopping after 15 without a better validation accuracy.
    ///
    /// Why these: on sample-data (5 synthetic actions x 10 clips, figures of either
    /// polarity anywhere in the frame) the seed stack's Flatten head on raw frames learns
    /// the 40 training clips by heart and validates near chance; frame differences
    /// remove the background and the polarity, the global max pool the position, and
    /// augmentation lifts accuracy on clips rendered with another seed from about 82% to
    /// over 90%; 24 frames rather than 16 keep spins and jumps apart in both directions.
    /// Measured with the release build on the 2-core build machine shared with other
    /// work (load average 5-7): `actionlab train sample-data` ran 40 epochs in 2 min 30 s
    /// (2-6 s an epoch) to 100% validation accuracy, and its best checkpoint classified
    /// 46 of 50 clips of `actionlab synth --seed 99` (the last one 47); trained on those
    /// instead (4 min 16 s), the best checkpoint classified all 50 sample-data clips.
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
                batchNormMomentum: 0.9, head: .globalMaxPool, input: .frameDifferences)
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

