import ActionNet
import ActionStore
import ArgumentParser
import Foundation
import Training

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a checkpoint's accuracy, per-class recall and confusion matrix on labelled data.",
        discussion: """
            DIR: the project's labelled, readable clips (the folder is scanned first), sampled as \
            the checkpoint's model expects; project classes are matched to the checkpoint's by name \
            and clips of other classes are skipped. Without --checkpoint, the project's current             model (pinned, else the best checkpoint of the latest finished run). --split validation             (or training) scores only the clips the run that wrote the checkpoint validated (or             trained) on, as its split recorded them. --tensors FILE: x (N, T, H, W, C) and y.
            """)

    enum Split: String, ExpressibleByArgument, CaseIterable {
        case all, training, validation
    }

    @Option(help: "The checkpoint (safetensors) to evaluate (with DIR: default the project's current model).")
    var checkpoint: String?
    @Option(help: "Which labelled clips: all, or the training or validation clips of the checkpoint's run.")
    var split: Split = .all
    @Option(name: .customLong("run"), help: "The run whose split --split uses (default: the run that wrote the checkpoint).")
    var runID: Int64?
    @Argument(help: "The project folder whose labelled clips to evaluate on.")
    var dir: String?
    @Option(help: "A safetensors file with x and y, instead of a project folder.")
    var tensors: String?
    @Option(help: "Samples per forward pass.")
    var batchSize = 8
    @Option(help: "OpenBLAS threads.")
    var threads = 2
    @Option(help: precisionHelp)
    var precision: Precision = .fp32
    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard (dir == nil) != (tensors == nil) else {
            throw ValidationError("give either a project folder DIR or --tensors FILE")
        }
        if tensors != nil && checkpoint == nil { throw ValidationError("--tensors needs --checkpoint") }
        if tensors != nil && (split != .all || runID != nil) {
            throw ValidationError("--split and --run choose clips of a project's run; they do not apply to --tensors")
        }
        try validateBatchSize(batchSize)
        try validateThreads(threads)
    }

    struct Output: Encodable {
        let checkpoint: String
        /// all, training or validation.
        let split: String
        /// The run whose split chose the clips; absent for all clips.
        let run: Int64?
        let samples: Int
        let accuracy: Float
        let loss: Float
        let labels: [String]
        let recall: [Float?]
        /// Rows: true class, columns: predicted class.
        let confusion: [[Int]]
        let skipped: [String]
    }

    func run() throws {
        BLAS.setThreads(threads)
        try reportingErrors {
            try checkPrecision(precision)
            var checkpointURL = checkpoint.map { URL(fileURLWithPath: $0) }
            var store: ProjectStore?
            var splitRun: Int64?
            var only: Set<String>?
            if let dir {
                let opened = try ProjectStore.open(ProjectLayout(root: URL(fileURLWithPath: dir)))
                store = opened
                let model = try chooseModel(opened, checkpoint: checkpoint)
                checkpointURL = model.checkpoint
                if split != .all {
                    guard let runID = runID ?? model.runID else {
                        throw Train.Failure(description: "\(model.checkpoint.path): not written by a run of this project, "
                                            + "so it has no \(split.rawValue) split; give --run ID")
                    }
                    guard let record = try opened.run(id: runID) else { throw RunNotFound(id: runID) }
                    let recorded = try DatasetSplit.decode(json: record.splitJSON)
                    only = Set(split == .validation ? recorded.validation : recorded.training)
                    splitRun = runID
                    if only?.isEmpty == true {
                        throw Train.Failure(description: "run \(runID) has no \(split.rawValue) clips")
                    }
                }
            }
            guard let checkpointURL else { throw ValidationError("give --checkpoint") }
            let checkpoint = checkpointURL.path
            let classifier = try ClipClassifier(checkpoint: checkpointURL)
            try classifier.setPrecision(precision)
            let evaluation: Evaluation
            var skipped: [SkippedSample] = []
            if let tensors {
                let loaded = try Checkpoint.load(checkpointURL)
                let data = try TensorFileRows.open(URL(fileURLWithPath: tensors), expected: loaded.spec.inputShape,
                                                  classes: loaded.spec.classes)
                let set = try SampleSet(tensorFile: data, classNames: classifier.classNames)
                evaluation = try classifier.evaluate(set, batchSize: batchSize)
            } else {
                guard let store else { throw ValidationError("give either a project folder DIR or --tensors FILE") }
                let layout = store.layout
                try scanReportingUnlistedFolders(store)
                (evaluation, skipped) = try classifier.evaluate(project: store, loader: ProjectDataset.cached(layout),
                                                                batchSize: batchSize, only: only)
                if evaluation.confusion.total == 0 {
                    throw Train.Failure(description: "\(layout.root.path): no labelled, readable clips of the checkpoint's classes "
                                        + "(\(classifier.classNames.joined(separator: ", ")))")
                }
            }
            if json {
                let m = evaluation.confusion
                let output = Output(checkpoint: checkpoint, split: split.rawValue, run: splitRun, samples: m.total, accuracy: evaluation.accuracy,
                                    loss: evaluation.loss, labels: evaluation.classNames, recall: evaluation.recall,
                                    confusion: (0..<m.classes).map { t in (0..<m.classes).map { m[t, $0] } },
                                    skipped: skipped.map { "\($0.id): \($0.reason)" })
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(output), as: UTF8.self))
            } else {
                for s in skipped { FileHandle.standardError.write(Data("skipped \(s.id): \(s.reason)\n".utf8)) }
                if let splitRun { print("the \(split.rawValue) clips of run \(splitRun)") }
                print(evaluation.report())
            }
        }
    }
}
