import ActionNet
import ActionStore
import Foundation
import TestSupport
import Testing
import Training

/// `actionlab train`, `eval` and `predict` through the built binary.
@Suite struct TrainCommandTests {
    /// A synthetic project of 5 classes x 3 clips of 8 frames at 32x32, labelled.
    func makeProject() throws -> TemporaryProject {
        let project = try TemporaryProject(classes: ProjectConfig.defaultClasses)
        // The folder already holds the project database the test opened.
        let synth = try ActionLabBinary.run(["synth", project.root.path, "--force", "--per-class", "3", "--frames", "8",
                                             "--size", "32", "--seed", "5"])
        try #require(synth.status == 0, "\(synth.stderr)")
        let imported = try ActionLabBinary.run(["labels", "import", project.root.path,
                                                project.file("labels.csv").path])
        try #require(imported.status == 0, "\(imported.stderr)")
        return project
    }

    let tinyModel = ["--frames", "4", "--height", "16", "--width", "16", "--filters", "2,2,2", "--dense", "4"]

    @Test func trainOnAProjectRecordsTheRunAndEvalAndPredictUseItsCheckpoint() throws {
        let project = try makeProject()
        let out = project.file("model.safetensors"), csv = project.file("metrics.csv")
        let train = try ActionLabBinary.run(["train", project.root.path] + tinyModel
                                            + ["--epochs", "2", "--batch-size", "4", "--validation-split", "0.34",
                                               "--augment", "flip,jitter", "--seed", "3", "--out", out.path, "--csv", csv.path])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("run 1: training 10 samples, validating 5"))
        #expect(train.stderr.contains("estimate:"))
        #expect(train.stderr.contains("epoch 2/2 loss"))
        #expect(train.stderr.contains("completed: all 2 epochs ran"))
        #expect(!train.stderr.contains("\u{1B}["), "no progress bar when standard error is not a terminal")

        let runFolder = project.root.appendingPathComponent(".actionlab/runs/1")
        for name in ["last.safetensors", "best.safetensors", "metrics.csv"] {
            #expect(FileManager.default.fileExists(atPath: runFolder.appendingPathComponent(name).path), "\(name)")
        }
        #expect(try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").count == 3)
        let record = try #require(try project.store.run(id: 1))
        #expect(record.status == .completed && record.epochs == 2)
        let settings = try JSONDecoder().decode(TrainingSettings.self, from: Data(record.settingsJSON.utf8))
        #expect(settings.model.inputShape == [4, 16, 16, 1] && settings.augmentation.temporalJitter)
        let trained = try Checkpoint.load(out)
        #expect(trained.labels == ProjectConfig.defaultClasses)

        let eval = try ActionLabBinary.run(["eval", "--checkpoint", out.path, project.root.path])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("accuracy") && eval.stdout.contains("per-class recall"))
        #expect(eval.stdout.contains("confusion matrix") && eval.stdout.contains("(15 of 15)") == false)
        struct EvalOutput: Decodable { let samples: Int; let accuracy: Float; let labels: [String]; let confusion: [[Int]] }
        let evalJSON = try ActionLabBinary.run(["eval", "--checkpoint", out.path, project.root.path, "--json"])
        let parsed = try JSONDecoder().decode(EvalOutput.self, from: Data(evalJSON.stdout.utf8))
        #expect(parsed.samples == 15 && parsed.confusion.flatMap { $0 }.reduce(0, +) == 15)
        #expect(parsed.confusion.map { $0.reduce(0, +) } == [3, 3, 3, 3, 3])

        let clips = ["run/run-000.mp4", "wave/wave-002.mp4"].map { project.file($0).path }
        struct PredictOutput: Decodable {
            struct Item: Decodable { let clip: String; let label: String; let probabilities: [Float] }
            let labels: [String]
            let predictions: [Item]
        }
        let predict = try ActionLabBinary.run(["predict", "--checkpoint", out.path, "--json"] + clips)
        #expect(predict.status == 0, "\(predict.stderr)")
        let predictions = try JSONDecoder().decode(PredictOutput.self, from: Data(predict.stdout.utf8))
        #expect(predictions.predictions.map(\.clip) == clips)
        #expect(predictions.predictions.allSatisfy { abs($0.probabilities.reduce(0, +) - 1) < 1e-4 })
        let text = try ActionLabBinary.run(["predict", "--checkpoint", out.path] + clips)
        #expect(text.stdout.split(separator: "\n").count == 2 && text.stdout.hasPrefix(clips[0] + "\t"))

        // The finished run continues for one more epoch from its last checkpoint.
        let resumed = try ActionLabBinary.run(["train", project.root.path, "--resume", "1", "--epochs", "3"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming at epoch 3") && resumed.stderr.contains("epoch 3/3"))
        #expect(try project.store.metrics(runID: 1).map(\.epoch) == [1, 2, 3])
    }

    @Test func evalOnTensorsAndBadInput() throws {
        let url = Fixtures.kerasGray
        let eval = try ActionLabBinary.run(["eval", "--checkpoint", url.path, "--tensors", url.path])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.hasPrefix("accuracy "))
        // predict reads the file's rows a batch at a time: the same probabilities as the whole x at once.
        struct TensorPredictions: Decodable {
            struct Item: Decodable { let sample: Int; let probabilities: [Float] }
            let predictions: [Item]
        }
        let classifier = try ClipClassifier(checkpoint: url)
        let x = try TensorDataset.load(url, expected: classifier.spec.inputShape, requireLabels: false).x
        for batchSize in ["1", "3"] {
            let predict = try ActionLabBinary.run(["predict", "--checkpoint", url.path, "--tensors", url.path, "--json",
                                                   "--batch-size", batchSize])
            #expect(predict.status == 0, "\(predict.stderr)")
            let items = try JSONDecoder().decode(TensorPredictions.self, from: Data(predict.stdout.utf8)).predictions
            let before = try classifier.predict(x, batchSize: Int(batchSize)!)
            #expect(items.map(\.sample) == Array(0..<x.shape[0]))
            #expect(items.flatMap(\.probabilities) == before.data)
        }

        let project = try TemporaryProject()
        let missing = project.file("missing.safetensors")
        let bad = try ActionLabBinary.run(["eval", "--checkpoint", missing.path, "--tensors", url.path])
        #expect(bad.status == 1 && bad.stderr.contains(missing.path) && bad.stderr.split(separator: "\n").count == 1)
        let neither = try ActionLabBinary.run(["train", "--epochs", "1"])
        #expect(neither.status != 0 && neither.stderr.contains("--tensors"))
        let empty = try ActionLabBinary.run(["train", project.root.path] + tinyModel + ["--epochs", "1"])
        #expect(empty.status == 1 && empty.stderr.contains("no labelled, readable clips"))
        let badClip = try ActionLabBinary.run(["predict", "--checkpoint", url.path, project.file("nope.mp4").path])
        #expect(badClip.status == 1 && badClip.stderr.contains("nope.mp4"))
    }

    /// SIGKILL while `train` writes a checkpoint: the file being replaced stays whole and
    /// loads, because a checkpoint is written to a temporary file and renamed.
    @Test func aCheckpointSaveKilledMidwayLeavesThePreviousOneLoadable() throws {
        let folder = try TemporaryProject()
        // A model whose checkpoint is ~35 MB (a 400,000-unit Dense layer), so most of the
        // run's time goes into writing checkpoints.
        let data = folder.file("data.safetensors")
        try SafeTensors.write([(name: "x", tensor: Tensor(shape: [4, 2, 4, 4, 1], data: (0..<128).map { Float($0 % 7) / 7 })),
                               (name: "y", tensor: Tensor(shape: [4], data: [0, 1, 0, 1]))], to: data)
        let out = folder.file("model.safetensors")
        var killedDuringASave = false
        for _ in 0..<5 where !killedDuringASave {
            try? FileManager.default.removeItem(at: out)
            let process = Process()
            process.executableURL = ActionLabBinary.url
            process.arguments = ["train", "--tensors", data.path, "--filters", "1", "--dense", "400000", "--epochs", "100000",
                                 "--batch-size", "4", "--out", out.path, "--threads", "1"]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            let watch = try FolderWatch(folder.root)
            try process.run()
            // Kill the moment a save starts its temporary file while a checkpoint is in
            // place (renamed there by an earlier save).
            let deadline = Date().addingTimeInterval(120)
            var temporary: String? = nil, checkpointInPlace = false
            while temporary == nil, let name = watch.nextName(before: deadline) {
                if name == out.lastPathComponent {
                    checkpointInPlace = true
                } else if checkpointInPlace && name.hasPrefix(".model.safetensors.") && name.hasSuffix(".tmp") {
                    kill(process.processIdentifier, SIGKILL)
                    temporary = name
                }
            }
            if temporary == nil && process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let loaded = try Checkpoint.load(out)
            #expect(Int(try SafeTensorsFile(contentsOf: out).metadata["epoch"] ?? "") ?? 0 >= 1)
            #expect(loaded.optimizer != nil)
            if let temporary {
                let path = folder.root.appendingPathComponent(temporary).path
                // Still there: the process died before renaming it into place.
                killedDuringASave = FileManager.default.fileExists(atPath: path)
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        #expect(killedDuringASave, "no attempt stopped the process inside a checkpoint save")
    }
}

/// `actionlab summary` prints the model a preset or a checkpoint describes, with the
/// same table the Model screen shows.
@Suite struct SummaryCommandTests {
    @Test(arguments: TrainingPreset.allCases) func aPresetsTableIsTheModelScreens(preset: TrainingPreset) throws {
        let result = try ActionLabBinary.run(["summary", "--preset", preset.rawValue])
        #expect(result.status == 0, "\(result.stderr)")
        let table = try preset.settings(classes: 5).modelSummary().render()
        #expect(result.stdout == table + "\n")
        #expect(result.stdout.hasPrefix("Model: \"\(preset.rawValue)\""))
    }

    @Test func theQuickPresetIsItsOwnModel() throws {
        let result = try ActionLabBinary.run(["summary", "--preset", "quick"])
        // Two input channels: the optical flow's dx and dy.
        for piece in ["input (None, 24, 48, 48, 2)", "(None, 24, 48, 48, 16)", "(GlobalAveragePooling2D)    (None, 8)",
                      "Total params: 23,045"] {
            #expect(result.stdout.contains(piece), "\(piece)")
        }
        let wider = try ActionLabBinary.run(["summary", "--preset", "quick", "--dense", "32", "--classes", "3"])
        let lines = wider.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("dense1 (Dense) ") && $0.contains(" (None, 32) ") })
        #expect(lines.contains { $0.hasPrefix("dense2 (Dense) ") && $0.contains(" (None, 3) ") })
    }

    @Test func aCheckpointsTableIsItsStoredModel() throws {
        let project = try TemporaryProject()
        var settings = TrainingPreset.tiny.settings(classes: 4)
        (settings.head, settings.headDropout) = (.globalAveragePool, 0.25)
        let url = project.file("mine.safetensors")
        try Checkpoint.save(try ActionModel(spec: settings.modelSpec), to: url)
        let result = try ActionLabBinary.run(["summary", "--checkpoint", url.path])
        #expect(result.status == 0, "\(result.stderr)")
        let table = try ModelSummary(spec: settings.modelSpec, name: "mine").render()
        #expect(result.stdout == table + "\n")
        #expect(result.stdout.contains("global_average_pooling (GlobalAveragePooling2D)"))
        #expect(result.stdout.contains("dropout (Dropout)"))

        let mixed = try ActionLabBinary.run(["summary", "--checkpoint", url.path, "--preset", "quick"])
        #expect(mixed.status != 0 && mixed.stderr.contains("--checkpoint"))
        let missing = try ActionLabBinary.run(["summary", "--checkpoint", project.file("none.safetensors").path])
        #expect(missing.status != 0 && missing.stderr.contains("none.safetensors"))
    }
}

@Suite struct TrainFlagTests {
    /// --init trains the checkpoint's model, so flags that shape a new model are refused
    /// rather than silently ignored.
    @Test func modelFlagsWithInitAreRefused() throws {
        let project = try TemporaryProject()
        for flags in [["--head", "global-average-pool"], ["--head-dropout", "0.2"], ["--filters", "4,4"], ["--dense", "8"]] {
            let result = try ActionLabBinary.run(["train", "--tensors", project.file("x.safetensors").path,
                                                  "--init", project.file("c.safetensors").path] + flags)
            #expect(result.status != 0 && result.stderr.contains("with --init the checkpoint's model is trained"), "\(flags)")
        }
    }
}
