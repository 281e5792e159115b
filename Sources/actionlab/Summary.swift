import ActionNet
import ArgumentParser

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the seed stack's layers, output shapes and parameter counts (Keras style).")

    @Option(help: "Frames per clip (T).")
    var frames = ModelConfig.seed.frames
    @Option(help: "Frame height (H).")
    var height = ModelConfig.seed.height
    @Option(help: "Frame width (W).")
    var width = ModelConfig.seed.width
    @Option(help: "Channels (C): 1 gray, 3 RGB.")
    var channels = ModelConfig.seed.channels
    @Option(help: "Filters of each ConvLSTM2D layer, comma-separated.")
    var filters = ModelConfig.seed.filters.map(String.init).joined(separator: ",")
    @Option(help: "Units of the hidden Dense layer.")
    var dense = ModelConfig.seed.denseUnits
    @Option(help: "Number of classes.")
    var classes = ModelConfig.seed.classes

    func run() throws {
        let config = ModelConfig(frames: frames, height: height, width: width, channels: channels,
                                 filters: try parseFilters(filters), denseUnits: dense, classes: classes)
        do { print(try ModelSummary(config: config).render()) }
        catch { throw ValidationError(error.description) }
    }
}

/// "64,32,16" -> [64, 32, 16]
func parseFilters(_ text: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
        throw ValidationError("--filters must be comma-separated integers such as 64,32,16, got '\(text)'")
    }
    return parts.map { $0! }
}

import Foundation
