import ActionNet
import ActionStore
import ArgumentParser
import Foundation
import Training

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a project's training runs: name, note, status, accuracy, learning rate, recipe and files.",
        discussion: """
            Newest first. "current" marks the run whose checkpoint is the project's model (what \
            `suggest` and the app's predictions use); "pinned" when the user pinned it.
            """)

    @Argument(help: "The project folder.")
    var dir: String
    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    struct Run: Encodable {
        let id: Int64
        let name: String?
        let note: String?
        let status: String
        let startedAt: String
        let epochs: Int
        let bestValAccuracy: Double?
        let seconds: Double
        let learningRate: Float?
        let preset: String?
        let input: String?
        let head: String?
        let augmentation: [String]?
        /// fp32 or bf16: the number format of the run's matrix products.
        let precision: String?
        /// (T, H, W, C) of the model's input.
        let sampleShape: [Int]?
        let filters: [Int]?
        let trainClips: Int?
        let validationClips: Int?
        let bestCheckpoint: String?
        let lastCheckpoint: String?
        /// The per-epoch CSV, when the run wrote one.
        let metrics: String?
        let current: Bool
        let pinned: Bool

        enum CodingKeys: String, CodingKey {
            case id, name, note, status, epochs, seconds, preset, input, head, augmentation, precision, filters, current, pinned, metrics
            case startedAt = "started_at", bestValAccuracy = "best_val_accuracy", learningRate = "learning_rate"
            case sampleShape = "sample_shape", trainClips = "train_clips", validationClips = "validation_clips"
            case bestCheckpoint = "best_checkpoint", lastCheckpoint = "last_checkpoint"
        }

        /// The recipe in a few words: input, head, augmentations, and bf16 for a run in bf16.
        var recipe: String {
            guard let input, let head else { return "-" }
            return "\(input), \(head), " + ((augmentation ?? []).isEmpty ? "no aug" : (augmentation ?? []).joined(separator: "+"))
                + (precision == Precision.bf16.rawValue ? ", bf16" : "")
        }
    }

    struct Output: Encodable { let runs: [Run] }

    func run() throws {
        try reportingErrors {
            let store = try ProjectStore.open(ProjectLayout(root: URL(fileURLWithPath: dir)))
            // A missing pinned file is reported by the commands that predict, not here.
            let model = try? store.currentModel()
            let formatter = ISO8601DateFormatter()
            let runs = try store.runs().map { record -> Run in
                let settings = try? JSONDecoder().decode(TrainingSettings.self, from: Data(record.settingsJSON.utf8))
                let split = try? DatasetSplit.decode(json: record.splitJSON)
                let csv = RunFiles.directory(runID: record.id, in: store.layout).appendingPathComponent("metrics.csv")
                let isCurrent = model?.runID == record.id
                return Run(id: record.id, name: record.name, note: record.note, status: record.status.rawValue,
                           startedAt: formatter.string(from: record.startedAt), epochs: record.epochs,
                           bestValAccuracy: record.bestValAccuracy, seconds: record.durationSeconds,
                           learningRate: settings?.learningRate, preset: settings?.preset,
                           input: settings?.input.rawValue, head: settings?.head.rawValue,
                           augmentation: settings?.augmentation.enabledNames, precision: settings?.precision.rawValue,
                           sampleShape: settings?.model.inputShape, filters: settings?.model.filters,
                           trainClips: split?.training.count, validationClips: split?.validation.count,
                           bestCheckpoint: record.bestCheckpointPath, lastCheckpoint: record.lastCheckpointPath,
                           metrics: FileManager.default.fileExists(atPath: csv.path) ? RunFiles.recordedPath(csv, in: store.layout) : nil,
                           current: isCurrent, pinned: isCurrent && model?.isPinned == true)
            }
            if json { return try printJSON(Output(runs: runs)) }
            guard !runs.isEmpty else {
                print("no runs yet: train one with `actionlab train \(dir)` or on the app's Train screen")
                return
            }
            let header = ["id", "name", "status", "epochs", "val acc", "lr", "recipe", "input", "started"]
            let rows = runs.map { run -> [String] in
                [String(run.id) + (run.pinned ? "*" : run.current ? "+" : ""), run.name ?? "-", run.status,
                 String(run.epochs), run.bestValAccuracy.map { String(format: "%.3f", $0) } ?? "-",
                 run.learningRate.map { String(format: "%g", $0) } ?? "-", run.recipe,
                 run.sampleShape.map { $0.map(String.init).joined(separator: "x") } ?? "-",
                 String(run.startedAt.prefix(16)).replacingOccurrences(of: "T", with: " ")]
            }
            let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max() ?? 0 }
            func format(_ cells: [String]) -> String {
                cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
            }
            print(format(header))
            for (run, row) in zip(runs, rows) {
                print(format(row))
                if let note = run.note { print("    note: \(note)") }
                if let best = run.bestCheckpoint { print("    best: \(best)") }
                if let last = run.lastCheckpoint, last != run.bestCheckpoint { print("    last: \(last)") }
                if let metrics = run.metrics { print("    metrics: \(metrics)") }
            }
            print("+ the project's current model (its best checkpoint), * pinned")
        }
    }
}
