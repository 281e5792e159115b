import ActionStore
import Foundation
@testable import ActionLabUI
@testable import ActionNet
@testable import Training

/// A recorded run of the tiny preset on five classes, as the trainer reports it:
/// loading, start, two epochs of five batches with validation, checkpoints, and the
/// first three batches of the third epoch. Timings are fixed so the screens are too.
enum RecordedRun {
    static let settings: TrainingSettings = {
        var settings = TrainingPreset.tiny.settings(classes: 5)
        settings.epochs = 4
        return settings
    }()
    static let batches = 5
    /// Two threads and float32 products that pack their constants, whatever the machine,
    /// so that the estimate on the screens is fixed too.
    static let setup = ComputeSetup(threads: 2, ownFloat32Kernel: true)
    static let validationBatches = 2

    static var start: RunStart {
        let estimate = try! TrainingEstimate(model: settings.modelSpec, batchSize: settings.batchSize, trainingSamples: 40,
                                             validationSamples: 10, dataBytes: TrainingEstimate.batchDataBytes(settings),
                                             speed: ComputeSpeed(trainingFlopsPerSecond: 2e9, inferenceFlopsPerSecond: 4e9),
                                             setup: RecordedRun.setup)
        return RunStart(runID: 3, runDirectory: URL(fileURLWithPath: "/project/.actionlab/runs/3"), settings: settings,
                        model: settings.modelSpec, classNames: Sample.classNames, trainingPerClass: [8, 8, 8, 8, 8], validationPerClass: [2, 2, 2, 2, 2],
                        batchesPerEpoch: batches, validationBatches: validationBatches, firstEpoch: 1,
                        parameterCount: 2_000, trainableParameterCount: 1_976, estimate: estimate, skipped: [],
                        startedFrom: nil)
    }

    static let layerNames = ["convlstm1", "maxpool1", "batchnorm1", "convlstm2", "maxpool2", "batchnorm2",
                             "convlstm3", "maxpool3", "batchnorm3", "flatten", "dense1", "dense2"]

    static func layers(step: Int) -> [LayerStatistics] {
        layerNames.enumerated().map { i, name in
            let hasWeights = !(name.hasPrefix("maxpool") || name == "flatten")
            return LayerStatistics(name: name, activationMean: Float(i) * 0.01 + Float(step) * 0.001,
                                   activationStd: 0.5 - Float(i) * 0.02,
                                   gradientNorm: hasWeights ? 0.1 / Float(step + 1) + Float(i) * 0.001 : nil)
        }
    }

    /// Mean loss falls from 1.6 towards 0.9; accuracy rises from 20% towards 60%.
    static func batch(epoch: Int, batch: Int) -> BatchProgress {
        let step = (epoch - 1) * batches + batch
        let loss = Float(1.6 - 0.05 * Double(step))
        return BatchProgress(epoch: epoch, epochs: settings.epochs, batch: batch, batches: batches,
                             loss: loss, meanLoss: loss + 0.02, meanAccuracy: Float(0.2 + 0.03 * Double(step)),
                             learningRate: settings.learningRate, secondsPerBatch: 0.05, validationSecondsPerBatch: 0.02,
                             samplesPerSecond: 160, etaSeconds: Double(4 * batches - step) * 0.05 + Double(4 - epoch + 1) * 0.04,
                             elapsedSeconds: Double(step) * 0.05, layers: layers(step: step))
    }

    static func epoch(_ epoch: Int) -> EpochReport {
        var confusion = ConfusionMatrix(classes: 5)
        for truth in 0..<5 {
            confusion.add(truth: truth, predicted: truth)
            confusion.add(truth: truth, predicted: epoch == 1 ? (truth + 1) % 5 : truth)
        }
        let accuracy: Float = epoch == 1 ? 0.5 : 1
        return EpochReport(epoch: epoch, epochs: settings.epochs, loss: Float(1.6 - 0.25 * Double(epoch)),
                           accuracy: Float(0.2 + 0.15 * Double(epoch)), validationLoss: Float(1.5 - 0.3 * Double(epoch)),
                           validationAccuracy: accuracy, learningRate: settings.learningRate, seconds: 0.3,
                           trainingSeconds: 0.25, validationSeconds: 0.05, samplesPerSecond: 160,
                           perClassValidationAccuracy: confusion.recall, confusion: confusion, isBest: true,
                           bestEpoch: epoch, bestValidationAccuracy: accuracy, epochsWithoutImprovement: 0)
    }

    /// Every event up to and including the third batch of epoch 3 (of 4).
    static var events: [TrainingEvent] {
        var events: [TrainingEvent] = [.loading(LoadingProgress(done: 25, total: 50)),
                                       .loading(LoadingProgress(done: 50, total: 50)), .started(start)]
        for e in 1...2 {
            for b in 1...batches { events.append(.batch(batch(epoch: e, batch: b))) }
            for v in 1...validationBatches {
                events.append(.validation(ValidationProgress(epoch: e, epochs: settings.epochs, batch: v,
                                                             batches: validationBatches, secondsPerBatch: 0.02,
                                                             etaSeconds: 0.3)))
            }
            events.append(.epoch(epoch(e)))
            events.append(.checkpoint(CheckpointSaved(kind: .last, url: URL(fileURLWithPath: "/project/.actionlab/runs/3/last.safetensors"), epoch: e)))
        }
        for b in 1...3 { events.append(.batch(batch(epoch: 3, batch: b))) }
        return events
    }
}
