/// The Keras-style table of a model: each layer's name and type, output shape with the
/// batch as None, and parameter count; then the totals.
public struct ModelSummary: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public let name: String
        public let type: String
        /// One sample's output shape (the table prints the batch axis as None).
        public let outputShape: [Int]
        public let parameters: Int
        public let trainableParameters: Int

        /// "convlstm1 (ConvLSTM2D)"
        public var label: String { "\(name) (\(type))" }
        /// "(None, 60, 192, 192, 64)"
        public var shapeText: String { "(None, " + outputShape.map(String.init).joined(separator: ", ") + ")" }
    }

    /// What the table calls the model: a preset's name, a checkpoint's file name.
    public let name: String
    public let inputShape: [Int]
    public let rows: [Row]

    public var totalParameters: Int { rows.reduce(0) { $0 + $1.parameters } }
    public var trainableParameters: Int { rows.reduce(0) { $0 + $1.trainableParameters } }
    public var nonTrainableParameters: Int { totalParameters - trainableParameters }

    /// The summary of the model `spec` describes, computed from the shapes alone without
    /// allocating any weights. `actionlab summary` and the Model screen both print this.
    public init(spec: ModelSpec, name: String) throws(ModelError) {
        let layers = try ActionModel.buildLayers(spec: spec, seed: 0)
        self.init(name: name, inputShape: spec.inputShape, layers: layers)
    }

    init(name: String, inputShape: [Int], layers: [any Layer]) {
        self.name = name
        self.inputShape = inputShape
        rows = layers.map {
            Row(name: $0.name, type: $0.typeName, outputShape: $0.outputShape,
                parameters: $0.parameterCount, trainableParameters: $0.trainableParameterCount)
        }
    }

    /// The table as text, one line per row, for `actionlab summary` and the Model screen.
    public func render() -> String {
        let headers = ["Layer (type)", "Output Shape", "Param #"]
        let cells = rows.map { [$0.label, $0.shapeText, grouped($0.parameters)] }
        var widths = headers.map(\.count)
        for row in cells { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        widths[0] += 4
        widths[1] += 4
        let total = widths.reduce(0, +)
        func line(_ row: [String]) -> String {
            row[0].padding(toLength: widths[0], withPad: " ", startingAt: 0)
                + row[1].padding(toLength: widths[1], withPad: " ", startingAt: 0)
                + String(repeating: " ", count: widths[2] - row[2].count) + row[2]
        }
        var lines = ["Model: \"\(name)\"  input (None, " + inputShape.map(String.init).joined(separator: ", ") + ")",
                     String(repeating: "=", count: total), line(headers), String(repeating: "=", count: total)]
        lines += cells.map(line)
        lines.append(String(repeating: "=", count: total))
        lines.append("Total params: \(grouped(totalParameters)) (\(bytes(totalParameters)))")
        lines.append("Trainable params: \(grouped(trainableParameters)) (\(bytes(trainableParameters)))")
        lines.append("Non-trainable params: \(grouped(nonTrainableParameters)) (\(bytes(nonTrainableParameters)))")
        return lines.joined(separator: "\n")
    }
}

extension ActionModel {
    /// This model's summary table, calling the model `name`.
    public func summary(name: String) -> ModelSummary { ModelSummary(name: name, inputShape: spec.inputShape, layers: layers) }
}

/// 2649733 -> "2,649,733"
func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
}

/// Float32 storage of `count` values as Keras prints it: "10.11 MB", "896.00 B".
func bytes(_ count: Int) -> String {
    Formatting.bytes(count * 4, decimals: 2)
}

import Foundation
