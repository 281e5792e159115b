import ActionNet
import Foundation
import Testing
@testable import Training

/// A run whose loss stops being a number fails, keeping what it saved before.
@Suite struct DivergenceTests {
    /// The local step, except that from epoch 2 on the weights diverge: a bias becomes NaN
    /// and so does the loss (as a NaN input value or a huge learning rate would make them).
    static func divergingFromEpoch2(batchesPerEpoch: Int) -> ModelCompute {
        ModelCompute(trainStep: { model, x, y, optimizer in
            let step = try ModelCompute.local.trainStep(model, x, y, &optimizer)
            guard optimizer.iterations > batchesPerEpoch else { return step }
            guard let bias = model.parameter("dense2.bias") else { return step }
            try model.setParameter("dense2.bias", Tensor(shape: bias.shape, data: bias.data.map { _ in .nan }))
            return (.nan, step.probabilities)
        }, predict: ModelCompute.local.predict)
    }

    @Test func aNaNLossFailsTheRunAndKeepsTheLastGoodCheckpoint() throws {
        let project = try TemporaryProject()
        // 18 samples in batches of 4, no validation: 5 batches an epoch.
        var job = TrainingJob(source: .samples(TinyData.samples()), settings: TinyData.settings(epochs: 3, validation: 0),
                              store: project.store, speed: TinyData.speed)
        job.output = project.file("model.safetensors")
        job.compute = Self.divergingFromEpoch2(batchesPerEpoch: 5)
        let log = TinyData.run(job)
        #expect(log.summary == nil, "a run whose loss became NaN does not finish as completed")
        let failure = try #require(log.failure)
        #expect(failure.message.hasPrefix("the training loss became nan at epoch 2, batch 1, so the run stopped without saving its weights"),
                "\(failure.message)")
        // --out holds epoch 1, finite; the run's last checkpoint too, and the message names it.
        let output = try Checkpoint.load(try #require(job.output))
        #expect(output.optimizer?.iterations == 5)
        #expect(output.model.flatParameters.allSatisfy { $0.isFinite })
        let run = try #require(try project.store.runs().first)
        #expect(run.status == .failed && run.epochs == 1)
        let last = RunFiles.resolve(try #require(run.lastCheckpointPath), in: project.store.layout)
        #expect(failure.message.hasSuffix("; the last good checkpoint is \(last.path)"), "\(failure.message)")
        #expect(try Checkpoint.load(last).optimizer?.iterations == 5)
    }

    @Test func epochsAndBatchSizeAreBounded() {
        var settings = TinyData.settings()
        settings.epochs = 3_000_000_000
        #expect(throws: TrainingError("epochs must be from 1 to 100000, got 3000000000")) { try settings.validate() }
        settings = TinyData.settings()
        settings.batchSize = Int.max
        #expect(throws: TrainingError("batch size must be from 1 to 65536, got \(Int.max)")) { try settings.validate() }
    }

    /// Early stopping ends the loop itself, not only the epochs' work.
    @Test func earlyStoppingLeavesTheEpochLoopAtOnce() throws {
        var settings = TinyData.settings(epochs: TrainingSettings.maximumEpochs)
        settings.learningRate = 1e-12
        settings.earlyStoppingPatience = 1
        let log = TinyData.run(TrainingJob(source: .samples(TinyData.samples()), settings: settings, speed: TinyData.speed))
        #expect(log.summary?.status == .earlyStopped)
        #expect(log.summary?.epochsCompleted == 2)
    }
}
