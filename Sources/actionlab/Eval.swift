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
            and clips of other classes are skipped. --tensors FILE: x (N, T, H, W, C) and y.
            """)

    @Option(help: "The checkpoint (safetensors) to evaluate.")
    var checkpoint: String
    @Argument(help: "The project folder whose labelled clips to evaluate on.")
    var dir: String?
    @Option(help: "A safetensors file with x and y, instead of a project folder.")
    var tensors: String?
    @Option(help: "Samples per forward pass.")
    var batchSize = 8
    @Option(help: "OpenBLAS threads.")
    var threads = 2
    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard (dir == nil) != (tensors == nil) else {
            throw ValidationError("give either a project folder DIR or --tensors FILE")
        }
        try validateBatchSize(batchSize)
        try validateThreads(threads)
    }

    struct Output: Encodable {
        let checkpoint: String
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
            let classifier = try ClipClassifier(checkpoint: URL(fileURLWithPath: checkpoint))
            let evaluation: Evaluation
            var skipped: [SkippedSample] = []
            if let tensors {
                let loaded = try Checkpoint.load(URL(fileURLWithPath: checkpoint))
                let data = try TensorDataset.load(URL(fileURLWithPath: tensors), expected: loaded.spec.inputShape,
                                                  classes: loaded.spec.classes)
                let set = try SampleSet(tensors: data, classNames: classifier.classNames)
                evaluation = try classifier.evaluate(set, batchSize: batchSize)
            } else {
                let layout = ProjectLayout(root: URL(fileURLWithPath: dir!))
                let store = try ProjectStore.open(layout)
                try scanReportingUnlistedFolders(store)
                (evaluation, skipped) = try classifier.evaluate(project: store, loader: ProjectDataset.cached(layout),
                                                                batchSize: batchSize)
                if evaluation.confusion.total == 0 {
                    throw Train.Failure(description: "\(layout.root.path): no labelled, readable clips of the checkpoint's classes "
                                        + "(\(classifier.classNames.joined(separator: ", ")))")
                }
            }
            if json {
                let m = evaluation.confusion
                let output = Output(checkpoint: checkpoint, samples: m.total, accuracy: evaluation.accuracy,
                                    loss: evaluation.loss, labels: evaluation.classNames, recall: evaluation.recall,
                                    confusion: (0..<m.classes).map { t in (0..<m.classes).map { m[t, $0] } },
                                    skipped: skipped.map { "\($0.id): \($0.reason)" })
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(output), as: UTF8.self))
            } else {
                for s in skipped { FileHandle.standardError.write(Data("skipped \(s.id): \(s.reason)\n".utf8)) }
                print(evaluation.report())
            }
        }
    }
}
