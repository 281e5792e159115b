import ActionNet
import ActionStore
import Foundation
import TestSupport
import Testing
import Training

@Suite struct TrainerTests {
    @Test func aTinyRunReportsStartBatchesValidationEpochsCheckpointsAndTheEnd() throws {
        let project = try TemporaryProject()
        let data = TinyData.samples(perClass: 4)   // 12 samples: 9 train, 3 validate
        var job = TrainingJob(source: .samples(data), settings: TinyData.settings(epochs: 2, batchSize: 4),
                              store: project.store, speed: TinyData.speed)
        job.output = project.file("out.safetensors")
        let log = TinyData.run(job)

        // 3 training batches (4+4+1), 1 validation batch; best (and its output copy) when improved.
        let pattern = try Regex("^SBBBVEl(bo)?BBBVEl(bo)?F$")
        #expect(log.letters.wholeMatch(of: pattern) != nil, "\(log.letters)")
        #expect(log.letters.hasPrefix("SBBBVElbo"))   // the first epoch is always the best so far
        let start = try #require(log.start)
        #expect(start.trainingPerClass == [3, 3, 3] && start.validationPerClass == [1, 1, 1])
        #expect(start.batchesPerEpoch == 3 && start.validationBatches == 1 && start.firstEpoch == 1)
        #expect(start.classNames == ["bright", "dark", "striped"])
        #expect(start.estimate.memoryBytes > 0 && start.estimate.secondsPerEpoch > 0)
        let runID = try #require(start.runID)
        #expect(start.runDirectory == RunFiles.directory(runID: runID, in: project.store.layout))

        let batches = log.batches
        #expect(batches.map(\.batch) == [1, 2, 3, 1, 2, 3])
        #expect(batches.allSatisfy { $0.batches == 3 && $0.epochs == 2 && $0.learningRate == 1e-2 })
        #expect(batches.allSatisfy { $0.layers.map(\.name).first == "convlstm1" && $0.layers.count == 12 })
        #expect(batches.allSatisfy { $0.secondsPerBatch > 0 && $0.samplesPerSecond > 0 && $0.etaSeconds >= 0 })
        #expect(batches.last!.etaSeconds <= batches.first!.etaSeconds + 1)

        let epochs = log.epochs
        #expect(epochs.map(\.epoch) == [1, 2])
        for e in epochs {
            let confusion = try #require(e.confusion)
            #expect(confusion.total == 3)
            #expect(e.validationAccuracy == confusion.accuracy)
            #expect(e.perClassValidationAccuracy.count == 3 && e.perClassValidationAccuracy.allSatisfy { $0 != nil })
            #expect(e.loss.isFinite && e.validationLoss!.isFinite)
        }

        let summary = try #require(log.summary)
        #expect(summary.status == .completed && summary.epochsCompleted == 2 && summary.runID == runID)
        let record = try #require(try project.store.run(id: runID))
        #expect(record.status == .completed && record.epochs == 2)
        #expect(record.bestValAccuracy == epochs.compactMap(\.validationAccuracy).max().map(Double.init))
        #expect(record.lastCheckpointPath == ".actionlab/runs/\(runID)/last.safetensors")
        #expect(record.bestCheckpointPath == ".actionlab/runs/\(runID)/best.safetensors")
        let split = try DatasetSplit.decode(json: record.splitJSON)
        #expect(split.training.count == 9 && split.validation.count == 3)
        let settings = try JSONDecoder().decode(TrainingSettings.self, from: Data(record.settingsJSON.utf8))
        #expect(settings == job.settings)
        let metrics = try project.store.metrics(runID: runID)
        #expect(metrics.map(\.epoch) == [1, 2])
        #expect(metrics[1].valAccuracy == epochs[1].validationAccuracy.map(Double.init))

        let csv = try String(contentsOf: start.runDirectory!.appendingPathComponent("metrics.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds")
        #expect(lines.count == 3 && lines[2].hasPrefix("2,"))
        let last = try Checkpoint.load(start.runDirectory!.appendingPathComponent("last.safetensors"))
        #expect(last.labels == ["bright", "dark", "striped"])
        #expect(last.optimizer?.iterations == 6)
        let output = try Checkpoint.load(project.file("out.safetensors"))
        let best = try Checkpoint.load(start.runDirectory!.appendingPathComponent("best.safetensors"))
        #expect(output.model.flatParameters == best.model.flatParameters)
    }

    @Test func theSameSeedGivesTheSameRunAndAnotherSeedAnother() throws {
        func run(seed: UInt64) throws -> (losses: [Float], weights: [Float]) {
            let project = try TemporaryProject()
            var settings = TinyData.settings(epochs: 2, seed: seed)
            settings.augmentation = Augmentation(horizontalFlip: .symmetric, randomCrop: true, temporalJitter: true)
            var job = TrainingJob(source: .samples(TinyData.samples()), settings: settings, speed: TinyData.speed)
            job.output = project.file("out.safetensors")
            let log = TinyData.run(job)
            #expect(log.summary?.status == .completed)
            return (log.batches.map(\.loss) + log.epochs.compactMap(\.validationLoss),
                    try Checkpoint.load(project.file("out.safetensors")).model.flatParameters)
        }
        let first = try run(seed: 7), again = try run(seed: 7), other = try run(seed: 8)
        #expect(first.losses == again.losses && first.weights == again.weights)
        #expect(first.losses != other.losses && first.weights != other.weights)
    }

    /// Training and validation batches count down one ETA: at the last epoch's last
    /// training batch only its validation is left, and after its last validation batch
    /// nothing; an earlier epoch's last validation batch leaves whole epochs.
    @Test func theETACountsDownToTheEndOfTheRun() throws {
        let log = TinyData.run(TrainingJob(source: .samples(TinyData.samples()), settings: TinyData.settings(epochs: 2),
                                           speed: TinyData.speed))
        let start = try #require(log.start)
        let lastBatch = try #require(log.batches.last)
        #expect(lastBatch.epoch == 2 && lastBatch.batch == start.batchesPerEpoch)
        #expect(lastBatch.etaSeconds == Double(start.validationBatches) * lastBatch.validationSecondsPerBatch)
        let validations = log.events.compactMap { if case .validation(let v) = $0 { v } else { nil } }
        #expect(validations.count == 2 * start.validationBatches)
        #expect(validations.last?.etaSeconds == 0)
        let endOfFirst = try #require(validations.first { $0.epoch == 1 && $0.batch == $0.batches })
        #expect(endOfFirst.etaSeconds > 0)
    }

    @Test func pauseHoldsTheBatchesResumeContinuesAndStopSavesTheLastCheckpoint() throws {
        let project = try TemporaryProject()
        // No validation set, so that every epoch saves a best checkpoint and the events
        // are the same whatever the losses.
        let job = TrainingJob(source: .samples(TinyData.samples()),
                              settings: TinyData.settings(epochs: 10_000, batchSize: 2, validation: 0),
                              store: project.store, speed: TinyData.speed)
        let log = TrainingLog()
        let trainer = Trainer(job: job) { log.post($0) }
        let batchesAtResume = NSLock()
        nonisolated(unsafe) var batchesWhenResumed: Int?
        // Requests made from the event handler reach the trainer before its next batch,
        // so where it pauses and stops is certain. The handler runs on the trainer's
        // queue before the event is stored: at `resumed`, the log holds every batch
        // that ran before the trainer went on.
        log.onEvent = { event in
            switch event {
            case .batch(let b):
                if b.epoch == 2 && b.batch == 3 { trainer.pause() }
                if b.epoch == 3 && b.batch == 2 { trainer.stop() }
            case .resumed:
                let count = log.batches.count
                batchesAtResume.withLock { batchesWhenResumed = count }
            default: break
            }
        }
        trainer.start()
        let paused = try #require(log.waitFor { if case .paused = $0 { true } else { false } })
        #expect(trainer.isPaused)
        #expect(paused == .paused(TrainingPosition(epoch: 2, batch: 3)))
        let held = log.batches.count
        #expect(held == 9 + 3)
        trainer.resume()
        let final = trainer.wait()
        guard case .finished(let summary)? = final else {
            Issue.record("expected finished, got \(String(describing: final))")
            return
        }
        #expect(batchesAtResume.withLock { batchesWhenResumed } == held, "no batch may run while paused")
        // 18 training samples in batches of 2: 9 batches per epoch; paused after the
        // third of epoch 2, stopped after the second of epoch 3.
        #expect(log.letters == "S" + "BBBBBBBBBElb" + "BBBPUBBBBBBElb" + "BB" + "lF", "\(log.letters)")
        #expect(log.events.contains(.resumed(TrainingPosition(epoch: 2, batch: 3))))
        #expect(summary.status == .stopped && summary.epochsCompleted == 2)
        #expect(summary.reason == "stopped at epoch 3, batch 2 of 9")
        let record = try #require(try project.store.run(id: summary.runID!))
        #expect(record.status == .stopped && record.epochs == 2 && record.statusDetail == summary.reason)
        let last = try Checkpoint.load(summary.lastCheckpoint!)
        #expect(last.optimizer?.iterations == 2 * 9 + 2, "the stopped epoch's steps are kept")
        #expect(try project.store.metrics(runID: summary.runID!).count == 2)
    }

    @Test func aStoppedRunResumesFromItsLastCheckpoint() throws {
        let project = try TemporaryProject()
        let data = TinyData.samples()
        let job = TrainingJob(source: .samples(data), settings: TinyData.settings(epochs: 4), store: project.store,
                              speed: TinyData.speed)
        let log = TrainingLog()
        let trainer = Trainer(job: job) { log.post($0) }
        log.onEvent = { event in
            if case .batch(let b) = event, b.epoch == 3, b.batch == 1 { trainer.stop() }
        }
        trainer.start()
        trainer.wait()
        let stopped = try #require(log.summary)
        #expect(stopped.status == .stopped && stopped.epochsCompleted == 2)
        let runID = try #require(stopped.runID)

        var resumed = try TrainingJob.resuming(runID: runID, store: project.store, source: .samples(data))
        resumed.speed = TinyData.speed
        let second = TinyData.run(resumed)
        let start = try #require(second.start)
        #expect(start.firstEpoch == 3 && start.runID == runID)
        #expect(start.startedFrom == stopped.lastCheckpoint)
        #expect(second.epochs.map(\.epoch) == [3, 4])
        #expect(second.summary?.status == .completed && second.summary?.epochsCompleted == 4)
        #expect(try project.store.metrics(runID: runID).map(\.epoch) == [1, 2, 3, 4])
        #expect(try project.store.runs().count == 1)
        let csv = try String(contentsOf: start.runDirectory!.appendingPathComponent("metrics.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").map { $0.prefix(2) } == ["ep", "1,", "2,", "3,", "4,"])
        let record = try #require(try project.store.run(id: runID))
        #expect(record.status == .completed && record.epochs == 4)
    }

    @Test func aTrainerRunsOnce() {
        let log = TrainingLog()
        let trainer = Trainer(job: TrainingJob(source: .samples(TinyData.samples()), settings: TinyData.settings(epochs: 1),
                                               speed: TinyData.speed)) { log.post($0) }
        #expect(trainer.wait() == nil, "nothing to wait for before the start")
        trainer.start()
        trainer.start()
        #expect(trainer.wait()?.isFinal == true)
        trainer.start()
        #expect(log.letters.filter { $0 == "S" }.count == 1 && log.letters.filter { $0 == "F" }.count == 1)
    }

    @Test func earlyStoppingEndsARunThatNoLongerImproves() throws {
        var settings = TinyData.settings(epochs: 20)
        settings.learningRate = 1e-12   // nothing changes, so nothing improves after epoch 1
        settings.earlyStoppingPatience = 2
        let log = TinyData.run(TrainingJob(source: .samples(TinyData.samples()), settings: settings, speed: TinyData.speed))
        let summary = try #require(log.summary)
        #expect(summary.status == .earlyStopped)
        #expect(summary.epochsCompleted == 3 && summary.bestEpoch == 1)
        #expect(summary.reason.contains("2 epochs"))
        #expect(log.epochs.last?.epochsWithoutImprovement == 2)
    }

    @Test func reduceOnPlateauLowersTheLearningRate() throws {
        var settings = TinyData.settings(epochs: 3)
        settings.learningRate = 1e-12
        settings.reduceLearningRate = PlateauSchedule(factor: 0.5, patience: 1, minimum: 1e-13)
        let log = TinyData.run(TrainingJob(source: .samples(TinyData.samples()), settings: settings, speed: TinyData.speed))
        let changes = log.events.compactMap { if case .learningRateChanged(let c) = $0 { c } else { nil } }
        #expect(changes.map(\.epoch) == [2, 3])
        #expect(changes.first.map { $0.from == 1e-12 && $0.to == 5e-13 } == true)
        #expect(log.epochs.map(\.learningRate) == [1e-12, 1e-12, 5e-13])
        #expect(log.batches.last?.learningRate == 5e-13)
    }

    @Test func withoutValidationEveryEpochIsTheBestAndTheOutputFollowsIt() throws {
        let project = try TemporaryProject()
        var job = TrainingJob(source: .samples(TinyData.samples()), settings: TinyData.settings(epochs: 2, validation: 0),
                              speed: TinyData.speed)
        job.output = project.file("model.safetensors")
        job.csv = project.file("metrics.csv")
        let log = TinyData.run(job)
        #expect(log.letters.wholeMatch(of: try Regex("^S(B+Eo){2}F$")) != nil, "\(log.letters)")
        #expect(log.epochs.allSatisfy { $0.confusion == nil && $0.validationAccuracy == nil })
        #expect(log.summary?.bestCheckpoint == job.output)
        let csv = try String(contentsOf: job.csv!, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(csv.count == 4 && csv[3] == "")
        let columns = csv[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(columns.count == 7 && columns[3] == "" && columns[4] == "" && columns[5] == "0.01")
        #expect(try Checkpoint.load(job.output!).optimizer?.iterations == 2 * 5)
    }

    @Test func badJobsFailWithAClearMessage() throws {
        // The data's frames do not fit the model.
        var settings = TinyData.settings()
        settings.model.height = 9
        let wrongShape = TinyData.run(TrainingJob(source: .samples(TinyData.samples()), settings: settings, speed: TinyData.speed))
        #expect(wrongShape.letters == "X")
        #expect(wrongShape.failure?.message.contains("(3, 8, 8, 1)") == true)

        var zeroEpochs = TinyData.settings()
        zeroEpochs.epochs = 0
        let noEpochs = TinyData.run(TrainingJob(source: .samples(TinyData.samples()), settings: zeroEpochs, speed: TinyData.speed))
        #expect(noEpochs.failure?.message.contains("epochs") == true)

        // An init checkpoint for another model.
        let project = try TemporaryProject()
        let other = try ActionModel(config: ModelConfig(frames: 3, height: 9, width: 8, channels: 1, filters: [3],
                                                        denseUnits: 4, classes: 3))
        let url = project.file("other.safetensors")
        try Checkpoint.save(other, to: url)
        var job = TrainingJob(source: .samples(TinyData.samples()), settings: TinyData.settings(), store: project.store,
                              speed: TinyData.speed)
        job.initialCheckpoint = url
        let mismatch = TinyData.run(job)
        #expect(mismatch.failure?.message.contains(url.path) == true)
        #expect(try project.store.runs().isEmpty, "a job refused before training records no run")

        // A project without labelled clips.
        let empty = try TemporaryProject()
        let noClips = TinyData.run(TrainingJob(source: .project(empty.store, loader: ProjectDataset.decodeEveryTime),
                                               settings: TinyData.settings(), speed: TinyData.speed))
        #expect(noClips.failure?.message.contains("no labelled") == true)
        #expect(try empty.store.runs().isEmpty)
    }
}

@Suite struct TrainerKerasParityTests {
    /// The trainer on a Keras fixture: its weights, batch = N, no shuffle, dropout 0 and
    /// 3 epochs are Keras's 3 Adam steps.
    @Test(arguments: [Fixtures.kerasGray, Fixtures.kerasRGB]) func threeEpochsOfOneBatchAreKerasThreeSteps(url: URL) throws {
        let checkpoint = try Checkpoint.load(url)
        let data = try TensorDataset.load(url, expected: checkpoint.spec.inputShape, classes: checkpoint.spec.classes)
        var settings = TrainingSettings(model: ModelConfig.seed, epochs: 3, batchSize: data.count, learningRate: 1e-3,
                                        validationFraction: 0, shuffle: false)
        try settings.adoptInput(of: checkpoint)
        (settings.model.dropout, settings.model.recurrentDropout) = (0, 0)
        let project = try TemporaryProject()
        var job = TrainingJob(source: .samples(try SampleSet(tensors: data)), settings: settings, speed: TinyData.speed)
        job.initialCheckpoint = url
        job.output = project.file("trained.safetensors")
        let log = TinyData.run(job)
        #expect(log.summary?.status == .completed, "\(String(describing: log.failure))")
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(isClose(log.epochs.map(\.loss), try file.tensor("train.step_losses").data, rtol: 1e-5, atol: 0))
        let trained = try Checkpoint.load(job.output!)
        for entry in trained.model.parameterLayout {
            let error = maxAbsDifference(trained.model.parameter(entry.name)!.data, try file.tensor("step3.\(entry.name)").data)
            #expect(error <= 1e-4, "\(entry.name): \(error)")
        }
    }
}
