import ActionNet
import ActionStore
import ArgumentParser
import Foundation
import Training

struct TrainCurve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-curve",
        abstract: "Would more labels help? Validation accuracy after training on growing parts of the labelled clips.",
        discussion: """
            Makes one split as `train` does (--preset's validation fraction, --group-by, --seed), \
            then trains one model per fraction on that part of the training clips (nested and \
            stratified: each part holds the smaller ones) and scores each on the same validation \
            clips. Prints the points, a chart on a terminal, and whether more labels are likely to \
            help. The result is kept in the project database for the app. Ctrl-C stops; nothing is \
            kept then.
            """)

    @Argument(help: "The project folder.")
    var dir: String
    @Option(help: "Fractions of the training clips, comma-separated, each above 0 and at most 1.")
    var fractions = "0.25,0.5,0.75,1"
    @Option(help: "Fraction of each class held out for validation (default: the preset's).")
    var validationSplit: Double?
    @OptionGroup(title: "Training the models")
    var training: ModelTrainingOptions
    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func parsedFractions() throws -> [Double] {
        let parts = fractions.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 && $0 <= 1 }
        guard !parts.isEmpty, values.count == parts.count else {
            throw ValidationError("--fractions must be numbers above 0 and at most 1, comma-separated; got '\(fractions)'")
        }
        return values
    }

    func validate() throws {
        _ = try parsedFractions()
        if let validationSplit, !(validationSplit > 0 && validationSplit < 1) {
            throw ValidationError("--validation-split must be above 0 and below 1, got \(validationSplit)")
        }
    }

    func run() throws {
        BLAS.setThreads(training.threads)
        try reportingErrors {
            let store = try ProjectStore.open(ProjectLayout(root: URL(fileURLWithPath: dir)))
            try scanReportingUnlistedFolders(store)
            var settings = try training.settings(store)
            if let validationSplit { settings.validationFraction = validationSplit }
            try settings.validate()
            let progress = StepProgress()
            let set = try loadLabelledClips(store, settings: settings, progress: progress)
            let curve = try LearningCurve(set: set, settings: settings, fractions: try parsedFractions(),
                                          speed: try ComputeSpeed.measure(for: settings.modelSpec, batchSize: settings.batchSize))
            let interrupt = onInterrupt(progress, "stopping after this batch; nothing will be kept") { curve.stop() }
            defer { interrupt.cancel() }
            progress.line("train-curve: \(curve.split.training.count) training clips, \(curve.split.validation.count) validation clips, "
                          + "\(curve.fractions.count) models of \(settings.epochs) epochs")
            let fractions = curve.fractions
            let points: [LearningCurve.Point]
            do {
                points = try curve.run { index, event in
                    progress.training(event, String(format: "%.0f%% (%d clips)", fractions[index] * 100,
                                                    curve.trainingCount(fractions[index])))
                }
            } catch let error as TrainingError where error == .stopped {
                progress.line("stopped: nothing was kept")
                throw ExitCode(130)
            }
            let output = LearningCurve.Result(points: points, validationClips: curve.split.validation.count,
                                              preset: settings.preset)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try store.saveTrainCurve(json: String(decoding: try encoder.encode(output), as: UTF8.self))
            if json {
                try printJSON(output)
                return
            }
            print("fraction  train clips  val accuracy")
            for p in points {
                print(String(format: "%7.0f%%  %11d  %11.1f%%", p.fraction * 100, p.trainClips, p.valAccuracy * 100))
            }
            if isatty(STDOUT_FILENO) == 1 {
                print("")
                for line in brailleChart(points.map { (Double($0.trainClips), $0.valAccuracy) },
                                         xRange: 0...Double(max(points.last?.trainClips ?? 1, 1))) {
                    print(line)
                }
                print("      0" + String(repeating: " ", count: 33) + "\(points.last?.trainClips ?? 0) training clips")
            }
            print(output.verdict)
        }
    }
}
