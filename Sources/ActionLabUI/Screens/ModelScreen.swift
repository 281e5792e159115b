import ActionNet
import Foundation
import Training

/// The Model screen: the Keras-style summary of the chosen settings (the table
/// `actionlab summary` prints) and, while training, each layer's activation mean and
/// standard deviation and its gradient norm after the last batch.
enum ModelView {
    static let statsHeader = ["act mean", "act std", "grad norm"]
    static let statsColumnWidth = 10

    static func draw(_ state: AppState, into grid: inout CellGrid) {
        let training = state.training
        let settings = training.settings
        let bodyHeight = state.height - 2
        var title = "Model · \(training.run == nil ? training.choice.name : settings.preset ?? "custom")"
        if let batch = training.lastBatch { title += " · layer statistics after epoch \(batch.epoch) batch \(batch.batch)" }
        grid.box(row: 1, column: 0, width: state.width, height: bodyHeight, title: title)
        let inner = state.width - 4
        let top = 2, bottom = bodyHeight   // last usable row
        let summary: ModelSummary
        switch training.summary {
        case .success(let s): summary = s
        case .failure(let error):
            grid.put("These settings make no model: \(error.description)", row: top, column: 2,
                     style: .role(.error), maxWidth: inner)
            HintLine.draw(state, row: state.height - 1, into: &grid)
            return
        }
        var lines = summary.render().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let tableWidth = lines.map(\.displayWidth).max() ?? 0
        let statsByName = Dictionary(training.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let appended = tableWidth + statsWidth <= inner
        if appended {
            // Lines: title, ===, header, ===, one per layer, ===, totals.
            lines[2] = lines[2].padded(to: tableWidth) + statsHeader.map { $0.leftPadded(to: statsColumnWidth) }.joined()
            for (i, row) in summary.rows.enumerated() where lines.indices.contains(4 + i) {
                lines[4 + i] = lines[4 + i].padded(to: tableWidth) + statsText(statsByName[row.name])
            }
            for i in [1, 3, 4 + summary.rows.count] where lines.indices.contains(i) {
                lines[i] += String(repeating: "=", count: statsWidth)
            }
        }
        var row = top
        if !appended && state.modelShowsStatistics {
            // Too narrow to put them beside the table: a table of their own instead.
            let labelWidth = (summary.rows.map(\.label.displayWidth).max() ?? 0) + 4
            let rule = String(repeating: "=", count: labelWidth + statsWidth)
            let header = "Layer (type)".padded(to: labelWidth) + statsHeader.map { $0.leftPadded(to: statsColumnWidth) }.joined()
            var table = ["Layer statistics" + (training.lastBatch == nil ? " (none yet: they come with the first batch)" : ""),
                         rule, header, rule]
            table += summary.rows.map { $0.label.padded(to: labelWidth) + statsText(statsByName[$0.name]) }
            table.append(rule)
            lines = table
        }
        for (i, line) in lines.enumerated() where row < bottom {
            let style: CellStyle = i == 0 ? .role(.accent, bold: true) : i == 2 ? .role(.dim, bold: true)
                : line.hasPrefix("=") ? .role(.border) : .plain
            grid.put(line, row: row, column: 2, style: style, maxWidth: inner)
            row += 1
        }
        row += 1
        if row < bottom {
            let note: String
            if !appended {
                note = state.modelShowsStatistics ? "v shows the summary table again."
                    : "v shows each layer's activation mean/std and gradient norm (or a terminal \(tableWidth + statsWidth + 4) columns wide shows them beside the table)."
            } else if training.layers.isEmpty {
                note = "Per-layer activation mean/std and gradient norm appear here as batches finish (t on the Train screen starts a run)."
            } else {
                note = "Activations: mean and standard deviation of each layer's output over the last batch; gradient norm: L2 norm of its parameters' gradient."
            }
            for line in ClipsView.wrap(note, width: inner) where row < bottom {
                grid.put(line, row: row, column: 2, style: .role(.dim))
                row += 1
            }
        }
        HintLine.draw(state, row: state.height - 1, into: &grid)
    }

    static var statsWidth: Int { statsColumnWidth * statsHeader.count }

    /// True when the layer statistics fit beside the summary table (or there is no
    /// table), so v has nothing to switch.
    static func statisticsFitBesideTable(_ state: AppState) -> Bool {
        guard case .success(let summary) = state.training.summary else { return true }
        let tableWidth = summary.render().split(separator: "\n").map { String($0).displayWidth }.max() ?? 0
        return tableWidth + statsWidth <= state.width - 4
    }

    /// Each statistics column: a separating space, then a value of at most `statsValueWidth`
    /// characters, right-aligned. The space keeps the first column off the summary's Param #.
    static func statsText(_ stats: LayerStatistics?) -> String {
        let values = stats.map { [number($0.activationMean), number($0.activationStd), $0.gradientNorm.map(number) ?? "–"] }
            ?? statsHeader.map { _ in "–" }
        return values.map { " " + $0.leftPadded(to: statsValueWidth) }.joined()
    }

    /// The widest `number` writes: "-999.9999" and "-5.04e-06" are both nine.
    static let statsValueWidth = statsColumnWidth - 1

    /// Four decimals from 0.001 up to 1000, else three significant digits in scientific
    /// notation (a Float's exponent has at most two digits), so it always fits the column.
    static func number(_ value: Float) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : value > 0 ? "inf" : "-inf" }
        let magnitude = abs(value)
        // 999.99995 and above would print as "1000.0000", one character too many.
        if magnitude != 0 && (magnitude < 1e-3 || magnitude >= 999.99995) { return String(format: "%.2e", value) }
        return String(format: "%.4f", value)
    }
}
