@testable import ActionNet
import Foundation
import Testing
import Training

@Suite struct SplitTests {
    func samples(_ ids: [(String, Int)]) -> [SampleInfo] { ids.map { SampleInfo(id: $0.0, classIndex: $0.1) } }

    @Test func theSplitIsStratifiedAndDeterministicForASeed() {
        let data = TinyData.samples(perClass: 10)
        let split = DatasetSplit.make(data.samples, classes: 3, validationFraction: 0.2, seed: 4)
        #expect(split.validation.count == 6 && split.training.count == 24)
        for name in ["bright", "dark", "striped"] {
            #expect(split.validation.filter { $0.hasPrefix(name + "/") }.count == 2)
        }
        #expect(Set(split.training).isDisjoint(with: split.validation))
        #expect(DatasetSplit.make(data.samples, classes: 3, validationFraction: 0.2, seed: 4) == split)
        #expect(DatasetSplit.make(data.samples, classes: 3, validationFraction: 0.2, seed: 5).validation != split.validation)
        let decoded = try? DatasetSplit.decode(json: split.json)
        #expect(decoded == split)
        let none = DatasetSplit.make(data.samples, classes: 3, validationFraction: 0, seed: 4)
        #expect(none.validation.isEmpty && none.training.count == 30)
    }

    @Test func smallClassesKeepATrainingSampleAndGiveOneToValidation() {
        let split = DatasetSplit.make(samples([("a1", 0), ("a2", 0), ("b1", 1), ("c1", 2), ("c2", 2), ("c3", 2)]),
                                      classes: 3, validationFraction: 0.1, seed: 1)
        #expect(split.validation.filter { $0.hasPrefix("a") }.count == 1)
        #expect(split.validation.contains("b1") == false, "a class of one sample trains")
        #expect(split.validation.filter { $0.hasPrefix("c") }.count == 1)
    }

    @Test func groupsStayOnOneSide() {
        // Three recordings per class, each cut into three clips.
        var ids: [(String, Int)] = []
        for (c, name) in ["run", "walk"].enumerated() {
            for g in 0..<3 { for k in 0..<3 { ids.append(("\(name)/take\(g)/clip\(k).mp4", c)) } }
        }
        let data = samples(ids)
        for seed in UInt64(0)..<10 {
            let split = DatasetSplit.make(data, classes: 2, validationFraction: 0.3, groupBy: .folder, seed: seed)
            let validationFolders = Set(split.validation.map { SplitGrouping.folder.group(of: $0) })
            let trainingFolders = Set(split.training.map { SplitGrouping.folder.group(of: $0) })
            #expect(validationFolders.isDisjoint(with: trainingFolders))
            #expect(split.validation.count == 6, "one whole take of each class")
        }
        // By name prefix: v_Run_g01_c01 and v_Run_g01_c02 share the group v_Run_g01.
        let ucf = samples((1...4).flatMap { g in (1...3).map { c in ("v_Run_g0\(g)_c0\(c).avi", 0) } })
        let split = DatasetSplit.make(ucf, classes: 1, validationFraction: 0.25, groupBy: .prefix, seed: 3)
        #expect(split.validation.count == 3)
        #expect(Set(split.validation.map { SplitGrouping.prefix.group(of: $0) }).count == 1)
    }

    @Test func groupNames() {
        #expect(SplitGrouping.folder.group(of: "run/take3/a.mp4") == "run/take3")
        #expect(SplitGrouping.folder.group(of: "a.mp4") == "")
        #expect(SplitGrouping.prefix.group(of: "ucf/v_Run_g01_c02.avi") == "ucf/v_Run_g01")
        #expect(SplitGrouping.prefix.group(of: "jog-007.mp4") == "jog")
        #expect(SplitGrouping.prefix.group(of: "plain.mp4") == "plain")
        #expect(SplitGrouping.none.group(of: "run/a.mp4") == "run/a.mp4")
    }

    @Test func indicesReportSamplesThatAreGone() {
        let data = TinyData.samples(perClass: 2)
        var split = DatasetSplit.make(data.samples, classes: 3, validationFraction: 0.5, seed: 1)
        split.training.append("gone.mp4")
        let (training, validation, missing) = split.indices(in: data)
        #expect(training.count == 3 && validation.count == 3 && missing == ["gone.mp4"])
    }
}

@Suite struct AugmentationTests {
    /// The frames of sample `i` of a batch as [t][y][x] (one channel).
    func frames(_ x: Tensor, _ i: Int) -> [[[Float]]] {
        let (T, H, W) = (x.shape[1], x.shape[2], x.shape[3])
        return (0..<T).map { t in (0..<H).map { y in (0..<W).map { w in x.data[((i * T + t) * H + y) * W + w] } } }
    }

    @Test func offCopiesTheSamplesAsFloats() throws {
        let data = TinyData.samples(perClass: 1)
        let (x, y) = try data.batch([2, 0])
        #expect(x.shape == [2, 3, 8, 8, 1] && y.shape == [2, 3])
        #expect(y.data == [0, 0, 1, 1, 0, 0])
        #expect(x.data.allSatisfy { $0 >= 0 && $0 <= 1 })
        let subset = data.subset([2])
        #expect(try subset.batch([0]).x.data == Array(x.data[0 ..< 192]))
    }

    @Test func flipMirrorsHalfTheSamples() throws {
        let data = TinyData.samples(perClass: 10)
        let plain = try data.batch(Array(0..<30)).x
        var random = SeededGenerator(seed: 1)
        let flipped = try data.batch(Array(0..<30), augmentation: Augmentation(horizontalFlip: .symmetric), random: &random).x
        var mirrored = 0
        for i in 0..<30 {
            let a = frames(plain, i), b = frames(flipped, i)
            if a == b { continue }
            #expect(a.map { $0.map { Array($0.reversed()) } } == b)
            mirrored += 1
        }
        #expect(mirrored > 5 && mirrored < 25)
    }

    @Test func cropAndJitterStayWithinTheClip() throws {
        let data = TinyData.samples(perClass: 4)
        let plain = try data.batch(Array(0..<12)).x
        var random = SeededGenerator(seed: 2)
        let jittered = try data.batch(Array(0..<12), augmentation: Augmentation(temporalJitter: true), random: &random).x
        for i in 0..<12 {
            let original = frames(plain, i)
            #expect(frames(jittered, i).allSatisfy { original.contains($0) }, "every frame is one of the clip's")
        }
        let cropped = try data.batch(Array(0..<12), augmentation: Augmentation(randomCrop: true), random: &random).x
        #expect(cropped.shape == plain.shape)
        #expect(cropped.data != plain.data)
        #expect(zip(cropped.data, plain.data).allSatisfy { c, _ in c >= 0 && c <= 1 })
    }
}

@Suite struct EstimateTests {
    @Test func theDataEstimateIsTheBatchesInFlightAndOneSamplesBuffers() throws {
        let set = TinyData.samples()
        let sample = set.sampleShape.reduce(1, *), flow = 3 * 8 * 8 * 2
        for (input, extra) in [(InputTransform.frames, 0), (.framesAndMotion, 2 * flow * 4)] {
            let (x, y) = try set.batch(Array(0..<4), input: input)
            // One batch training, one waiting, one being built; a sample, its augmented copy and its file bytes.
            #expect(TrainingEstimate.batchDataBytes(sampleShape: set.sampleShape, classes: 3, batchSize: 4, input: input)
                    == 3 * (x.data.count + y.data.count) * 4 + 2 * sample * 4 + sample + extra, "\(input)")
        }
        // It takes the batch size and the input, not the number of samples.
        var settings = TrainingPreset.quick.settings(classes: 5)
        let few = TrainingEstimate.batchDataBytes(settings)
        settings.batchSize *= 2
        #expect(TrainingEstimate.batchDataBytes(settings) > few)
        settings.input = .framesAndMotion
        #expect(TrainingEstimate.batchDataBytes(settings) > 2 * few)
    }

    @Test func biggerModelsCostMoreTimeAndMemory() throws {
        let speed = ComputeSpeed(trainingFlopsPerSecond: 1e10, inferenceFlopsPerSecond: 2e10)
        let quick = TrainingPreset.quick.settings(classes: 5).modelSpec
        let seed = TrainingPreset.seed.settings(classes: 5).modelSpec
        let small = try TrainingEstimate(model: quick, batchSize: 8, trainingSamples: 40, validationSamples: 10,
                                         dataBytes: 50 * 16 * 48 * 48, speed: speed)
        let large = try TrainingEstimate(model: seed, batchSize: 8, trainingSamples: 40, validationSamples: 10,
                                         dataBytes: 50 * 60 * 192 * 192, speed: speed)
        #expect(small.secondsPerEpoch > 0 && large.secondsPerEpoch > 100 * small.secondsPerEpoch)
        #expect(large.memoryBytes > 10 * small.memoryBytes)
        #expect(large.modelBytes == 16 * 2_649_733)
        #expect(small.secondsPerEpoch == 5 * small.trainingSecondsPerBatch + 2 * small.validationSecondsPerBatch)
        let measured = try ComputeSpeed.measure(for: TinyData.settings().modelSpec, batchSize: 4)
        #expect(measured.trainingFlopsPerSecond > 0 && measured.inferenceFlopsPerSecond > 0)
    }

    /// The activation memory estimated is the arena the model reserves for a training
    /// step of that batch and the working memory its layers hold beside it: with clip
    /// normalization in front, after a real step; at the seed and small shapes, the arena
    /// as the model lays it out for that batch, and the layers' count.
    @Test func theActivationEstimateIsTheModelsArenaAndWorkingMemory() throws {
        let speed = ComputeSpeed(trainingFlopsPerSecond: 1e10, inferenceFlopsPerSecond: 2e10)
        func estimate(_ spec: ModelSpec, batch: Int) throws -> Int {
            try TrainingEstimate(model: spec, batchSize: batch, trainingSamples: 40, validationSamples: 10,
                                 dataBytes: 0, speed: speed).activationBytes
        }
        var settings = TinyData.settings()
        settings.normalization = .standardize
        let spec = settings.modelSpec
        #expect(spec.layers.first == .clipNormalization(mode: .standardize, epsilon: ClipNormalization.defaultEpsilon))
        let model = try ActionModel(spec: spec, seed: 1)
        var random = SeededGenerator(seed: 2)
        let x = Tensor(shape: [3] + spec.inputShape, data: (0 ..< 3 * spec.inputShape.reduce(1, *)).map { _ in Float(random.nextUnit()) })
        var y = Tensor(shape: [3, spec.classes])
        for b in 0 ..< 3 { y.data[b * spec.classes + b % spec.classes] = 1 }
        _ = try model.computeGradients(x: x, y: y)
        #expect(model.heldWorkingBytes > 0)
        #expect(try estimate(spec, batch: 3) == 4 * model.arenaCount + model.heldWorkingBytes)
        for shape in ["seed", "small"] {
            let shape = Benchmark.Shape.named(shape)!
            let model = try ActionModel(config: shape.config)
            model.reserve(batch: shape.batch, training: true)   // mapped, not touched: no memory taken
            #expect(try estimate(shape.config.spec(), batch: shape.batch)
                    == 4 * model.arenaCount + model.trainingMemory(batch: shape.batch).layerBytes, "\(shape.name)")
        }
    }

    @Test func confusionMatrixCountsAndRecall() {
        var m = ConfusionMatrix(classes: 3)
        for (t, p) in [(0, 0), (0, 1), (1, 1), (1, 1), (2, 0)] { m.add(truth: t, predicted: p) }
        #expect(m.total == 5 && m.correct == 3 && m.accuracy == 0.6)
        #expect(m.recall == [0.5, 1, 0])
        #expect(m[0, 1] == 1 && m.support(1) == 2)
        var empty = ConfusionMatrix(classes: 2)
        empty.add(truth: 0, predicted: 0)
        #expect(empty.recall == [1, nil])
        let text = m.render(classNames: ["run", "walk", "jump"]).split(separator: "\n")
        #expect(text.count == 4 && text[0].contains("predicted") && text[2].hasSuffix("0    2    0"))
    }
}

@Suite struct InputTransformTests {
    @Test func frameDifferencesKeepOnlyWhatMoves() throws {
        let data = TinyData.samples(perClass: 1)
        let plain = try data.batch([0, 2]).x
        let differences = try data.batch([0, 2], input: .frameDifferences).x
        let frame = 64, per = 3 * frame
        for n in 0..<2 {
            #expect(differences.data[n * per ..< n * per + frame].allSatisfy { $0 == 0 })
            for t in 1..<3 {
                for i in 0..<frame {
                    let at = n * per + t * frame + i
                    #expect(differences.data[at] == abs(plain.data[at] - plain.data[at - frame]))
                }
            }
        }
        var x = plain
        InputTransform.frameDifferences.apply(to: &x)
        #expect(x == differences)
        InputTransform.frames.apply(to: &x)
        #expect(x == differences)
    }

    @Test func theCheckpointRemembersTheInputAndEvaluationAppliesIt() throws {
        let project = try TemporaryProject()
        var settings = TinyData.settings(epochs: 1)
        settings.input = .frameDifferences
        let data = TinyData.samples()
        let log = TinyData.run(TrainingJob(source: .samples(data), settings: settings, store: project.store, speed: TinyData.speed))
        let summary = try #require(log.summary)
        let classifier = try ClipClassifier(checkpoint: try #require(summary.lastCheckpoint))
        #expect(classifier.input == .frameDifferences)
        let record = try #require(try project.store.run(id: summary.runID!))
        let split = try DatasetSplit.decode(json: record.splitJSON)
        let validation = data.subset(split.indices(in: data).validation)
        let evaluation = try classifier.evaluate(validation)
        #expect(evaluation.confusion == log.epochs.last?.confusion)
        #expect(evaluation.accuracy == log.epochs.last?.validationAccuracy)
    }
}

@Suite struct ModelHeadTests {
    @Test func theGlobalMaxPoolLeavesOneValuePerFilter() throws {
        for (side, frames) in [(48, 16), (8, 3), (192, 4), (5, 2), (1, 2)] {
            var settings = TinyData.settings()
            (settings.model.height, settings.model.width, settings.model.frames) = (side, side, frames)
            settings.head = .globalMaxPool
            let flatten = try #require(try settings.modelSummary().rows.first { $0.type == "Flatten" })
            #expect(flatten.outputShape == [settings.model.filters.last!], "\(side)")
            settings.head = .globalAveragePool
            let average = try #require(try settings.modelSummary().rows.first { $0.type == "GlobalAveragePooling2D" })
            #expect(average.outputShape == [settings.model.filters.last!], "\(side)")
        }
    }

    @Test func aTinyRunWithTheQuickPresetsChoices() throws {
        var settings = TinyData.settings(epochs: 2)
        let quick = TrainingPreset.quick.settings(classes: 3)
        (settings.head, settings.input, settings.augmentation, settings.batchNormMomentum)
            = (quick.head, quick.input, quick.augmentation, quick.batchNormMomentum)
        settings.reduceLearningRate = quick.reduceLearningRate
        let project = try TemporaryProject()
        let log = TinyData.run(TrainingJob(source: .samples(TinyData.samples()), settings: settings, store: project.store,
                                           speed: TinyData.speed))
        let summary = try #require(log.summary, "\(String(describing: log.failure))")
        #expect(summary.status == .completed)
        let classifier = try ClipClassifier(checkpoint: try #require(summary.bestCheckpoint))
        #expect(classifier.input == quick.input)
        #expect(try project.store.run(id: summary.runID!)?.settingsJSON.contains("\(quick.head.rawValue)") == true)

        // Continuing from the checkpoint takes its input sampling, classes and input
        // transform; the model trained is the checkpoint's, whatever head the settings name.
        let loaded = try Checkpoint.load(summary.bestCheckpoint!)
        var adopted = TrainingPreset.seed.settings(classes: 3)
        try adopted.adoptInput(of: loaded)
        #expect(adopted.input == quick.input && adopted.model.inputShape == settings.model.inputShape)
        #expect(adopted.head == .flatten && loaded.spec == settings.modelSpec)
        adopted.epochs = 1
        var job = TrainingJob(source: .samples(TinyData.samples()), settings: adopted, speed: TinyData.speed)
        job.initialCheckpoint = summary.bestCheckpoint
        let continued = TinyData.run(job)
        #expect(continued.summary?.status == .completed, "\(String(describing: continued.failure))")
        #expect(continued.start?.model.withoutDropout == settings.modelSpec.withoutDropout)
    }
}

/// The settings of the small-data options, as actionlab.toml's `[training]` and the
/// command line set them.
@Suite struct RegularisationSettingsTests {
    @Test func headDropoutAndWeightDecayAreChecked() throws {
        var settings = TrainingPreset.quick.settings(classes: 3)
        #expect(settings.headDropout == 0 && settings.weightDecay == 0, "off unless asked for")
        #expect(!settings.modelSpec.layers.contains { if case .dropout = $0 { true } else { false } })
        for (dropout, decay, problem) in [(1 as Float, 0 as Float, "head dropout"), (-0.1, 0, "head dropout"),
                                           (.nan, 0, "head dropout"), (0, -1e-4, "weight decay"),
                                           (0, .infinity, "weight decay")] {
            (settings.headDropout, settings.weightDecay) = (dropout, decay)
            #expect(throws: TrainingError.self) { try settings.validate() }
            do { try settings.validate() } catch { #expect(error.description.contains(problem), "\(error)") }
        }
        (settings.headDropout, settings.weightDecay, settings.head) = (0.4, 1e-4, .globalAveragePool)
        try settings.validate()
        #expect(settings.modelSpec.layers.suffix(4) == [.globalAveragePool, .dense(units: 64, activation: .relu),
                                                         .dropout(rate: 0.4), .dense(units: 3, activation: .softmax)])
    }

    /// A run's settings_json round-trips the new fields; one stored before they existed
    /// reads as no head dropout and plain Adam.
    @Test func storedSettingsKeepTheirMeaning() throws {
        var settings = TrainingPreset.quick.settings(classes: 3)
        (settings.headDropout, settings.weightDecay, settings.head) = (0.3, 2e-4, .globalAveragePool)
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        #expect(json.contains("\"head\":\"global_average_pool\"") && json.contains("\"head_dropout\":0.3"))
        #expect(try JSONDecoder().decode(TrainingSettings.self, from: Data(json.utf8)) == settings)
        var old = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
        (old["head_dropout"], old["weight_decay"]) = (nil, nil)
        let decoded = try JSONDecoder().decode(TrainingSettings.self, from: try JSONSerialization.data(withJSONObject: old))
        #expect(decoded.headDropout == 0 && decoded.weightDecay == 0)
    }

    /// With weight decay the trainer's optimizer is AdamW: the same seed with and without
    /// decay starts alike and ends apart, and the checkpoint trains on as AdamW.
    @Test func theTrainerUsesTheWeightDecay() throws {
        func run(decay: Float) throws -> [Float] {
            var settings = TinyData.settings(epochs: 1)
            settings.weightDecay = decay
            let project = try TemporaryProject()
            defer { withExtendedLifetime(project) {} }  // the folder holds the checkpoint read below
            return try Checkpoint.load(TinyData.checkpoint(after: settings, in: project)).model.flatParameters
        }
        let plain = try run(decay: 0)
        #expect(try run(decay: 0) == plain)
        #expect(try run(decay: 0.05) != plain)
    }
}
