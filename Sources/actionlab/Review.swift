import ActionNet
import ActionStore
import ArgumentParser
import Foundation
import Training

struct Review: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find labels that are likely wrong: each labelled clip scored by a model that never saw it.",
        discussion: """
            Splits the labelled clips into K folds (stratified by class, keeping --group-by groups \
            whole) and trains K models, each on the clips outside one fold, to score the clips in \
            it. Clips are listed most doubtful first: lowest probability of their own label. The \
            scores are kept in the project database as the predictions of "review (K folds)" for the \
            app's Clips list. Training uses --preset (quick by default, or the project's [sampling]) \
            without a validation split. Ctrl-C stops; nothing is kept then.
            """)

    @Argument(help: "The project folder.")
    var dir: String
    @Option(help: "How many models (and folds).")
    var folds = 5
    @OptionGroup(title: "Training the fold models")
    var training: ModelTrainingOptions
    @Option(help: "List at most this many clips (default: all).")
    var limit: Int?
    @Flag(help: "Print one JSON object instead of lines of text.")
    var json = false

    func validate() throws {
        guard (2...100).contains(folds) else { throw ValidationError("--folds must be from 2 to 100, got \(folds)") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    struct Clip: Encodable {
        let path: String
        let label: String
        let predicted: String
        let labelProbability: Float
        let probabilities: [String: Float]

        enum CodingKeys: String, CodingKey {
            case path, label, predicted, probabilities, labelProbability = "label_probability"
        }
    }

    struct Output: Encodable {
        let folds: Int
        /// The identity the predictions were stored under.
        let source: String
        let clips: [Clip]
    }

    func run() throws {
        BLAS.setThreads(training.threads)
        try reportingErrors {
            let store = try ProjectStore.open(ProjectLayout(root: URL(fileURLWithPath: dir)))
            try scanReportingUnlistedFolders(store)
            let settings = try training.settings(store)
            try settings.validate()
            let progress = StepProgress()
            let set = try loadLabelledClips(store, settings: settings, progress: progress)
            let review = try CrossValidation(set: set, settings: settings, folds: folds,
                                             speed: try ComputeSpeed.measure(for: settings.modelSpec, batchSize: settings.batchSize))
            let interrupt = onInterrupt(progress, "stopping after this batch; nothing will be kept") { review.stop() }
            defer { interrupt.cancel() }
            progress.line("review: \(set.count) labelled clips, \(folds) folds, \(settings.epochs) epochs each")
            let folds = folds
            let probabilities: [[Float]]
            do {
                probabilities = try review.run { fold, event in progress.training(event, "fold \(fold + 1)/\(folds)") }
            } catch let error as TrainingError where error == .stopped {
                progress.line("stopped: nothing was kept")
                throw ExitCode(130)
            }
            let records = Dictionary(try store.clips().map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            let source = PredictionSource.review(folds: folds)
            var stored: [NewPrediction] = []
            var clips: [Clip] = []
            for (sample, p) in zip(set.samples, probabilities) where !p.isEmpty {
                let label = set.classNames[sample.classIndex]
                let top = p.indices.max { p[$0] < p[$1] } ?? 0
                clips.append(Clip(path: sample.id, label: label, predicted: set.classNames[top],
                                  labelProbability: p[sample.classIndex],
                                  probabilities: Dictionary(zip(set.classNames, p), uniquingKeysWith: { a, _ in a })))
                if let record = records[sample.id] {
                    stored.append(NewPrediction(clipID: record.id, clipStamp: FileStamp(size: record.size, modified: record.modified),
                                                probabilities: p))
                }
            }
            try store.deletePredictions(source: source)
            try store.savePredictions(stored, classNames: set.classNames, source: source)
            // Ties keep path order.
            clips = clips.enumerated().sorted { a, b in
                (a.element.labelProbability, a.offset) < (b.element.labelProbability, b.offset)
            }.map(\.element)
            let shown = Array(clips.prefix(limit ?? clips.count))
            if json {
                try printJSON(Output(folds: folds, source: source, clips: shown))
            } else {
                let disagreements = clips.filter { $0.predicted != $0.label }.count
                print("\(clips.count) labelled clips scored by \(folds) models that never saw them; "
                      + "\(disagreements) predicted as another class. Most doubtful first:")
                let width = shown.map(\.path.count).max() ?? 0
                for clip in shown {
                    print(clip.path.padding(toLength: width, withPad: " ", startingAt: 0)
                          + "  label \(clip.label) " + String(format: "%.2f", clip.labelProbability)
                          + (clip.predicted == clip.label ? "" : "  predicted \(clip.predicted) "
                             + String(format: "%.2f", clip.probabilities[clip.predicted] ?? 0)))
                }
            }
        }
    }
}
