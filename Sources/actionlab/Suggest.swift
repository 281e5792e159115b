import ActionNet
import ActionStore
import ArgumentParser
import Foundation
import Training

struct Suggest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the unlabelled clips with the model's guess, the ones it is least sure of first.",
        discussion: """
            The model is --checkpoint, or the project's current model: the pinned checkpoint, else \
            the best checkpoint of the latest finished run. Clips it has not predicted yet are \
            predicted now (kept in the project database, so asking again costs nothing). Order: \
            margin ascending, where margin is the top probability minus the second: labelling \
            those first teaches the model most. Ctrl-C stops; finished predictions are kept.
            """)

    @Argument(help: "The project folder.")
    var dir: String
    @Option(help: "The checkpoint to predict with (default: the project's current model).")
    var checkpoint: String?
    @Option(help: "List at most this many clips (default: all).")
    var limit: Int?
    @Option(help: "Clips per forward pass.")
    var batchSize = 8
    @Option(help: "OpenBLAS threads.")
    var threads = 2
    @Flag(help: "Print one JSON object instead of lines of text.")
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
        try validateBatchSize(batchSize)
        try validateThreads(threads)
    }

    struct Clip: Encodable {
        let path: String
        let predicted: String
        let probabilities: [String: Float]
        let margin: Float
    }

    struct Output: Encodable {
        /// The checkpoint's path as recorded (relative to the project folder when inside it).
        let checkpoint: String
        /// The name shown next to its predictions ("run 3").
        let model: String
        let clips: [Clip]
    }

    func run() throws {
        BLAS.setThreads(threads)
        try reportingErrors {
            let store = try ProjectStore.open(ProjectLayout(root: URL(fileURLWithPath: dir)))
            try scanReportingUnlistedFolders(store)
            let model = try chooseModel(store, checkpoint: checkpoint)
            let unlabelled = try store.clips().filter { $0.isUsable && $0.label == nil }
            try predictMissing(unlabelled, store: store, model: model, batchSize: batchSize)
            let predictions = try store.predictions(source: model.identity)
            let ordered = ClipOrder.mostUncertainFirst(unlabelled.filter { predictions[$0.id]?.isStale == false },
                                                       predictions: predictions)
            let clips = ordered.prefix(limit ?? ordered.count).compactMap { clip -> Clip? in
                guard let p = predictions[clip.id] else { return nil }
                return Clip(path: clip.path, predicted: p.topClass,
                            probabilities: Dictionary(zip(p.classNames, p.probabilities), uniquingKeysWith: { a, _ in a }),
                            margin: p.margin)
            }
            if json {
                try printJSON(Output(checkpoint: model.recordedPath, model: model.name, clips: clips))
            } else {
                print("model: \(model.name) (\(model.recordedPath)); \(clips.count) unlabelled clips, least sure first")
                let width = clips.map(\.path.count).max() ?? 0
                for clip in clips {
                    let probability = clip.probabilities[clip.predicted] ?? 0
                    print(clip.path.padding(toLength: width, withPad: " ", startingAt: 0)
                          + "  " + clip.predicted + String(format: " %.2f  margin %.2f", probability, clip.margin))
                }
            }
        }
    }
}

/// Predicts those of `clips` that have no current prediction from `model`, with a progress
/// bar; Ctrl-C stops after the batch in progress (the finished ones are kept) and exits.
func predictMissing(_ clips: [ClipRecord], store: ProjectStore, model: ProjectModel, batchSize: Int) throws {
    let needed = Set(try store.clipsNeedingPrediction(source: model.identity).map(\.id))
    let todo = clips.filter { needed.contains($0.id) }
    guard !todo.isEmpty else { return }
    let progress = StepProgress()
    let job = PredictionJob(store: store, model: model, clips: todo, loader: ProjectDataset.cached(store.layout),
                            batchSize: batchSize)
    let interrupt = onInterrupt(progress, "stopping after this batch") { job.stop() }
    defer { interrupt.cancel() }
    let final = job.run { event in
        if case .progress(let p) = event { progress.bar("predicting with \(model.name)", done: p.done, total: p.total) }
    }
    progress.clear()
    switch final {
    case .failed(let message):
        throw Train.Failure(description: message)
    case .finished(let summary, let stopped):
        for failure in summary.failures { progress.line("skipped \(failure.id): \(failure.reason)") }
        if stopped {
            progress.line("stopped: \(summary.saved) of \(summary.total) clips predicted and kept; run again to continue")
            throw ExitCode(130)
        }
    case .progress:
        break
    }
}
