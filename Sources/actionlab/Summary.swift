import ActionNet
import ArgumentParser
import Foundation
import Training

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model's layers, output shapes and parameter counts (Keras style).",
        discussion: """
            The model of a training preset (--preset, the model the app's Model screen shows for \
            it), of a checkpoint (--checkpoint), or the seed stack at the sizes given (the default). \
            The size options change the preset's model too; a checkpoint's model is printed as stored.
            """)

    @Option(help: "A preset's model: \(TrainingPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: TrainingPreset?
    @Option(help: "A checkpoint's model.")
    var checkpoint: String?

    @Option(help: "Frames per clip (T).")
    var frames: Int?
    @Option(help: "Frame height (H).")
    var height: Int?
    @Option(help: "Frame width (W).")
    var width: Int?
    @Option(help: "Channels (C): 1 gray, 3 RGB.")
    var channels: Int?
    @Option(help: "Filters of each ConvLSTM2D layer, comma-separated.")
    var filters: String?
    @Option(help: "Units of the hidden Dense layer.")
    var dense: Int?
    @Option(help: "Number of classes (default 5).")
    var classes: Int?

    func validate() throws {
        let sized = [frames, height, width, channels, dense, classes].contains { $0 != nil } || filters != nil
        if checkpoint != nil && (preset != nil || sized) {
            throw ValidationError("--checkpoint prints the stored model: give no --preset or size options with it")
        }
    }

    func run() throws {
        if let checkpoint {
            try reportingErrors {
                let url = URL(fileURLWithPath: checkpoint)
                let loaded = try Checkpoint.load(url)
                print(try ModelSummary(spec: loaded.spec, name: url.deletingPathExtension().lastPathComponent).render())
            }
            return
        }
        var settings = (preset ?? .seed).settings(classes: classes ?? ModelConfig.seed.classes)
        if let frames { settings.model.frames = frames }
        if let height { settings.model.height = height }
        if let width { settings.model.width = width }
        if let channels { settings.model.channels = channels }
        if let filters { settings.model.filters = try parseFilters(filters) }
        if let dense { settings.model.denseUnits = dense }
        do { print(try settings.modelSummary().render()) }
        catch { throw ValidationError(error.description) }
    }
}

extension TrainingPreset: ExpressibleByArgument {}

/// "64,32,16" -> [64, 32, 16]
func parseFilters(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
        throw ValidationError("--filters must be comma-separated integers such as 64,32,16, got '\(text)'")
    }
    return parts.compactMap { $0 }
}
