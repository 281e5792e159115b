import ActionNet
import ActionStore
import Foundation
import TestSupport
import Testing
import Training

/// `suggest`, `review`, `train-curve`, `runs` and `eval --split` through the built binary.
@Suite struct LoopCommandTests {
    /// A synthetic project of 5 classes x 3 clips of 8 frames at 32x32; the clips of
    /// `unlabelled` are left without a label.
    func makeProject(unlabelled: Set<String> = []) throws -> TemporaryProject {
        let project = try TemporaryProject(classes: ProjectConfig.defaultClasses)
        let synth = try ActionLabBinary.run(["synth", project.root.path, "--force", "--per-class", "3", "--frames", "8",
                                             "--size", "32", "--seed", "5"])
        try #require(synth.status == 0, "\(synth.stderr)")
        let all = try String(contentsOf: project.file("labels.csv"), encoding: .utf8).split(separator: "\n")
        let kept = all.filter { line in !unlabelled.contains(where: { line.hasPrefix($0 + ",") }) }
        try (kept.joined(separator: "\n") + "\n").write(to: project.file("some-labels.csv"), atomically: true, encoding: .utf8)
        let imported = try ActionLabBinary.run(["labels", "import", project.root.path, project.file("some-labels.csv").path])
        try #require(imported.status == 0, "\(imported.stderr)")
        return project
    }

    func train(_ project: TemporaryProject, _ extra: [String] = []) throws {
        let train = try ActionLabBinary.run(["train", project.root.path, "--preset", "tiny", "--epochs", "1",
                                             "--validation-split", "0.34", "--seed", "2"] + extra)
        try #require(train.status == 0, "\(train.stderr)")
    }

    func decode<T: Decodable>(_ type: T.Type, _ result: ActionLabBinary.Result) throws -> T {
        try #require(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
    }

    struct SuggestOutput: Decodable {
        struct Clip: Decodable { let path: String; let predicted: String; let probabilities: [String: Float]; let margin: Float }
        let checkpoint: String
        let model: String
        let clips: [Clip]
    }

    @Test func suggestListsEveryUnlabelledClipLeastSureFirstAndKeepsThePredictions() throws {
        let unlabelled: Set = ["run/run-002.mp4", "walk/walk-001.mp4", "jump/jump-000.mp4", "spin/spin-002.mp4"]
        let project = try makeProject(unlabelled: unlabelled)
        let none = try ActionLabBinary.run(["suggest", project.root.path])
        #expect(none.status == 1 && none.stderr.contains("no trained model yet"))

        try train(project)
        let output = try decode(SuggestOutput.self, try ActionLabBinary.run(["suggest", project.root.path, "--json"]))
        #expect(output.checkpoint == ".actionlab/runs/1/best.safetensors")
        #expect(output.model == "run 1")
        #expect(Set(output.clips.map(\.path)) == unlabelled)
        #expect(output.clips.map(\.margin) == output.clips.map(\.margin).sorted())
        for clip in output.clips {
            #expect(Set(clip.probabilities.keys) == Set(ProjectConfig.defaultClasses))
            let sorted = clip.probabilities.values.sorted(by: >)
            #expect(abs(clip.margin - (sorted[0] - sorted[1])) < 1e-5)
            #expect(clip.probabilities[clip.predicted] == sorted[0])
        }
        // Stored under the checkpoint's identity: the app reads the same predictions.
        let model = try #require(try project.store.currentModel())
        let stored = try project.store.predictions(source: model.identity)
        #expect(stored.count == unlabelled.count && stored.values.allSatisfy { !$0.isStale })

        let limited = try decode(SuggestOutput.self, try ActionLabBinary.run(["suggest", project.root.path, "--limit", "2", "--json",
                                                                              "--checkpoint", project.file(".actionlab/runs/1/last.safetensors").path]))
        #expect(limited.clips.count == 2)
        #expect(limited.model == "run 1 (last)")
    }

    struct ReviewOutput: Decodable {
        struct Clip: Decodable {
            let path: String; let label: String; let predicted: String
            let label_probability: Float; let probabilities: [String: Float]
        }
        let folds: Int
        let clips: [Clip]
    }

    @Test func reviewScoresEveryLabelledClipOutOfFoldMostDoubtfulFirstAndStoresTheScores() throws {
        let project = try makeProject(unlabelled: ["wave/wave-000.mp4"])
        let output = try decode(ReviewOutput.self, try ActionLabBinary.run(["review", project.root.path, "--preset", "tiny",
                                                                            "--folds", "3", "--epochs", "1", "--json"]))
        #expect(output.folds == 3)
        #expect(output.clips.count == 14)
        #expect(!output.clips.contains { $0.path == "wave/wave-000.mp4" })
        #expect(output.clips.map(\.label_probability) == output.clips.map(\.label_probability).sorted())
        for clip in output.clips {
            #expect(clip.probabilities[clip.label] == clip.label_probability)
            #expect(clip.probabilities[clip.predicted] == clip.probabilities.values.max())
            #expect(clip.label == String(clip.path.prefix { $0 != "/" }))
        }
        #expect(try project.store.reviewSources() == [PredictionSource.review(folds: 3)])
        let stored = try project.store.predictions(source: PredictionSource.review(folds: 3))
        #expect(stored.count == 14)
        let first = try #require(try project.store.clip(path: output.clips[0].path))
        #expect(stored[first.id]?.probability(of: output.clips[0].label) == output.clips[0].label_probability)
    }

    struct CurveOutput: Decodable {
        struct Point: Decodable { let fraction: Double; let train_clips: Int; let val_accuracy: Double }
        let points: [Point]
        let verdict: String
    }

    @Test func trainCurveTrainsOnGrowingFractionsAndScoresOnOneValidationSplit() throws {
        let project = try makeProject()
        let output = try decode(CurveOutput.self, try ActionLabBinary.run(["train-curve", project.root.path, "--preset", "tiny",
                                                                           "--epochs", "1", "--fractions", "0.5,1",
                                                                           "--validation-split", "0.34", "--json"]))
        // 15 clips: 5 validate, 10 train; half of them is 5 (one per class).
        #expect(output.points.map(\.fraction) == [0.5, 1])
        #expect(output.points.map(\.train_clips) == [5, 10])
        #expect(output.points.allSatisfy { (0...1).contains($0.val_accuracy) && abs(($0.val_accuracy * 5).rounded() - $0.val_accuracy * 5) < 1e-6 })
        #expect(!output.verdict.isEmpty)
        #expect(try project.store.trainCurveJSON()?.contains("\"train_clips\":10") == true)

        let bad = try ActionLabBinary.run(["train-curve", project.root.path, "--fractions", "0.5,2"])
        #expect(bad.status != 0 && bad.stderr.contains("--fractions"))
    }

    struct RunsOutput: Decodable {
        struct Run: Decodable {
            let id: Int64; let name: String?; let note: String?; let status: String
            let learning_rate: Float?; let preset: String?; let input: String?
            let best_checkpoint: String?; let last_checkpoint: String?; let metrics: String?
            let current: Bool; let pinned: Bool
        }
        let runs: [Run]
    }

    @Test func runsListsNamesNotesRecipesAndFilesAndEvalScoresTheValidationClipsOnly() throws {
        let project = try makeProject()
        try train(project)
        try train(project, ["--lr", "0.005"])
        try project.store.describeRun(id: 1, name: "first try", note: "default rate")
        let output = try decode(RunsOutput.self, try ActionLabBinary.run(["runs", project.root.path, "--json"]))
        #expect(output.runs.map(\.id) == [2, 1])
        #expect(output.runs[1].name == "first try" && output.runs[1].note == "default rate")
        #expect(output.runs[0].learning_rate == 0.005 && output.runs[0].preset == "tiny")
        #expect(output.runs[0].current && !output.runs[1].current && !output.runs[0].pinned)
        #expect(output.runs[1].best_checkpoint == ".actionlab/runs/1/best.safetensors")
        #expect(output.runs[1].metrics == ".actionlab/runs/1/metrics.csv")
        let text = try ActionLabBinary.run(["runs", project.root.path])
        #expect(text.stdout.contains("first try") && text.stdout.contains("note: default rate"))

        struct EvalOutput: Decodable { let samples: Int; let split: String; let run: Int64? }
        let record = try #require(try project.store.run(id: 2))
        let split = try DatasetSplit.decode(json: record.splitJSON)
        let validation = try decode(EvalOutput.self, try ActionLabBinary.run(["eval", project.root.path, "--split", "validation", "--json"]))
        #expect(validation.samples == split.validation.count && validation.samples == 5)
        #expect(validation.run == 2 && validation.split == "validation")
        let training = try decode(EvalOutput.self, try ActionLabBinary.run(["eval", project.root.path, "--split", "training",
                                                                            "--run", "1", "--json"]))
        #expect(training.samples == 10 && training.run == 1)
        let all = try decode(EvalOutput.self, try ActionLabBinary.run(["eval", project.root.path, "--json"]))
        #expect(all.samples == 15 && all.run == nil)
        let outside = project.file("copy.safetensors")
        try FileManager.default.copyItem(at: project.file(".actionlab/runs/2/best.safetensors"), to: outside)
        let noRun = try ActionLabBinary.run(["eval", project.root.path, "--checkpoint", outside.path, "--split", "validation"])
        #expect(noRun.status == 1 && noRun.stderr.contains("not written by a run of this project"))
    }
}

@Suite struct FoldTests {
    @Test func foldsAreStratifiedKeepGroupsWholeAndRepeat() {
        // 3 classes x 10 clips; clips come in pairs cut from one recording (prefix groups).
        let samples = (0..<30).map { i in
            SampleInfo(id: "c\(i % 3)/take\(i / 6)-\(i % 2).mp4", classIndex: i % 3)
        }
        let folds = DatasetSplit.folds(samples, classes: 3, folds: 5, groupBy: .prefix, seed: 7)
        #expect(folds == DatasetSplit.folds(samples, classes: 3, folds: 5, groupBy: .prefix, seed: 7))
        var foldOfGroup: [String: Int] = [:]
        for (sample, fold) in zip(samples, folds) {
            let group = SplitGrouping.prefix.group(of: sample.id)
            #expect(foldOfGroup[group, default: fold] == fold, "group \(group) split across folds")
            foldOfGroup[group] = fold
        }
        for c in 0..<3 {
            let counts = (0..<5).map { f in zip(samples, folds).filter { $0.0.classIndex == c && $0.1 == f }.count }
            #expect(counts.max()! - counts.min()! <= 2, "class \(c): \(counts)")
        }
        let ungrouped = DatasetSplit.folds(samples, classes: 3, folds: 5, seed: 7)
        for c in 0..<3 {
            let counts = (0..<5).map { f in zip(samples, ungrouped).filter { $0.0.classIndex == c && $0.1 == f }.count }
            #expect(counts == [2, 2, 2, 2, 2])
        }
    }

    @Test func learningCurvePartsAreNestedStratifiedAndShareOneValidationSplit() throws {
        let set = TinyData.samples(perClass: 8)
        let curve = try LearningCurve(set: set, settings: TinyData.settings(validation: 0.25), fractions: [1, 0.25, 0.5])
        #expect(curve.fractions == [0.25, 0.5, 1])
        #expect(Set(curve.trainingOrder) == Set(curve.split.training))
        #expect(Set(curve.trainingOrder).isDisjoint(with: curve.split.validation))
        let quarter = curve.trainingCount(0.25)
        #expect(quarter == 5)   // 18 training clips: a quarter rounded up
        let classOf = Dictionary(uniqueKeysWithValues: set.samples.map { ($0.id, $0.classIndex) })
        let firstThree = curve.trainingOrder.prefix(3).compactMap { classOf[$0] }
        #expect(Set(firstThree) == [0, 1, 2])
        #expect(throws: TrainingError.self) {
            try LearningCurve(set: set, settings: TinyData.settings(validation: 0), fractions: [1])
        }
    }

    @Test func theVerdictSaysWhetherMoreLabelsWillLikelyHelp() {
        func points(_ accuracies: [Double]) -> [LearningCurve.Point] {
            accuracies.enumerated().map { LearningCurve.Point(fraction: Double($0 + 1) / 4, trainClips: 10 * ($0 + 1), valAccuracy: $1) }
        }
        #expect(LearningCurve.verdict(points([0.4, 0.5, 0.6, 0.75]), validationClips: 40).contains("will likely help"))
        #expect(LearningCurve.verdict(points([0.6, 0.8, 0.92, 0.925]), validationClips: 40).contains("levelled off"))
        #expect(LearningCurve.verdict(points([0.2, 0.4]), validationClips: 5).contains("too few to tell"))
        #expect(LearningCurve.verdict(points([0.8, 1]), validationClips: 10).contains("already 100%"))
        #expect(LearningCurve.verdict(points([0.8, 0.6]), validationClips: 40).contains("fell"))
    }

    @Test func crossValidationScoresEverySampleWithAModelThatDidNotSeeIt() throws {
        let set = TinyData.samples(perClass: 4)
        let review = try CrossValidation(set: set, settings: TinyData.settings(epochs: 1), folds: 3, speed: TinyData.speed)
        let probabilities = try review.run()
        #expect(probabilities.count == set.count)
        #expect(probabilities.allSatisfy { $0.count == 3 && abs($0.reduce(0, +) - 1) < 1e-4 })
        #expect(Set(review.assignment) == [0, 1, 2])
        #expect(throws: TrainingError.self) { try CrossValidation(set: set, settings: TinyData.settings(), folds: 1) }
    }
}
