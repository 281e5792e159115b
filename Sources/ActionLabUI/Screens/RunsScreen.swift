import ActionNet
import ActionStore
import Foundation
import Training

/// The Runs screen: the recorded runs, the selected run's curves and those of a marked one.
enum RunsView {
    static func draw(_ state: AppState, into grid: inout CellGrid) {
        let layout = state.runsLayout
        drawList(state, layout, into: &grid)
        drawCharts(state, layout, into: &grid)
        if let edit = state.runs.editing {
            let field = edit.field == .name ? "Name" : "Note"
            var x = grid.put(" Run \(edit.runID) \(field.lowercased()): ", row: layout.hintRow, column: 0,
                             style: .role(.accent, bold: true))
            x = grid.put(edit.text.truncatedAtStart(to: max(1, state.width - x - 36)), row: layout.hintRow, column: x,
                         style: .plain)
            x = grid.put("█", row: layout.hintRow, column: x, style: .role(.accent))
            grid.put("  Enter saves · Esc cancels", row: layout.hintRow, column: x, style: .role(.dim))
        } else if let id = state.runs.deleteAsked {
            grid.put(" Delete run \(id) with its checkpoints? y deletes, any other key keeps it", row: layout.hintRow,
                     column: 0, style: .role(.warning, bold: true), maxWidth: state.width)
        } else {
            HintLine.draw(state, row: layout.hintRow, into: &grid)
        }
    }

    static func drawList(_ state: AppState, _ layout: RunsLayout, into grid: inout CellGrid) {
        let runs = state.runs
        grid.box(row: layout.listTop, column: 0, width: state.width, height: layout.listHeight,
                 title: "Runs (\(runs.rows.count))")
        let inner = state.width - 2
        // A narrow list leaves the year out of the start time ("11-28 07:40").
        let startedWidth = inner >= 96 ? 16 : 11
        let nameWidth = inner >= 96 ? 12 : 9
        // The longest status word is "stopped early"; how it ended in full is on the detail line.
        let statusWidth = 13
        let fixed = 2 + nameWidth + 1 + startedWidth + 1 + 7 + 7 + 9 + 7 + 1
        let recipeWidth = max(8, min(36, inner - fixed - statusWidth))
        func columns(_ name: String, _ started: String, _ recipe: String, _ rate: String, _ epochs: String,
                     _ best: String, _ time: String, _ status: String) -> String {
            name.truncated(to: nameWidth).padded(to: nameWidth) + " "
                + started.suffix(cells: startedWidth).padded(to: startedWidth) + " "
                + recipe.truncated(to: recipeWidth).padded(to: recipeWidth) + rate.leftPadded(to: 7)
                + epochs.leftPadded(to: 7) + best.leftPadded(to: 9) + time.leftPadded(to: 7) + " " + status.padded(to: statusWidth)
        }
        grid.put("  " + columns("Run", "Started", "Recipe", "LR", "Epochs", "Best val", "Time", "Ended"),
                 row: layout.listTop + 1, column: 1, style: .role(.dim, bold: true), maxWidth: inner)
        // On the box's bottom border: whether more labels are likely to help, as the
        // latest `actionlab train-curve` judged.
        if let curve = runs.learningCurve {
            let text = " More labels? \(curve.verdict) (train-curve) "
            grid.put(text.truncated(to: max(1, inner - 4)), row: layout.listTop + layout.listHeight - 1, column: 2,
                     style: .role(.accent))
        }
        let first = layout.listTop + 2
        guard !runs.rows.isEmpty else {
            let text = runs.isLoaded ? "No runs yet: t on the Train screen starts one." : "Reading the runs…"
            grid.put(text, row: first, column: 3, style: .role(.dim), maxWidth: inner - 2)
            return
        }
        for line in 0..<layout.listRows {
            let position = runs.scrollTop + line
            guard position < runs.rows.count else { break }
            let run = runs.rows[position]
            let row = first + line
            let selected = position == runs.selection
            let style: CellStyle = selected ? .role(.selection) : .plain
            grid.fill(row: row, column: 1, width: inner, height: 1, with: Cell(" ", style: style))
            let marker = runs.markedID == run.id ? "◆ " : selected ? "▸ " : "  "
            let epochs = run.plannedEpochs.map { "\(run.epochs)/\($0)" } ?? "\(run.epochs)"
            let best = run.bestValidationAccuracy.map { String(format: "%.1f%%", $0 * 100) } ?? "–"
            // ★: the project's model, whose predictions the Clips list shows.
            let name = (run.isCurrentModel ? "★" : "") + run.displayName
            let text = marker + columns(name, run.started, run.recipe.isEmpty ? run.settingsText : run.recipe,
                                        run.learningRate.map(TrainView.rate) ?? "–", epochs, best,
                                        Formatting.duration(run.durationSeconds), statusWord(run.status))
            grid.put(text, row: row, column: 1, style: style, maxWidth: inner)
            if !selected {
                let statusRole: ColorRole = run.status == .failed ? .error : run.status == .running ? .accent : .dim
                grid.restyle(row: row, column: 1 + text.displayWidth - statusWidth, width: statusWidth, style: .role(statusRole))
            }
        }
        // The columns cut long settings and leave out why a run ended, its note and its
        // files: the selected run's in full.
        if let run = runs.selectedRow {
            var detail = "\(run.displayName.prefix(1).uppercased() + run.displayName.dropFirst()): \(run.settingsText)"
            if let rate = run.learningRate { detail += " · lr \(TrainView.rate(rate))" }
            detail += " · \(statusWord(run.status))"
            if let reason = run.statusDetail, run.status != .running { detail += ": " + reason }
            grid.put(" " + detail.truncated(to: inner - 2), row: layout.detailRow, column: 1,
                     style: .role(run.status == .failed ? .error : .dim), maxWidth: inner)
            let note = run.note.map { "Note: " + $0 } ?? "No note (N adds one; n names the run)"
            grid.put(" " + note.truncated(to: inner - 2), row: layout.detailRow + 1, column: 1,
                     style: .role(run.note == nil ? .dim : .text), maxWidth: inner)
            var files = run.checkpointPath.map { "Checkpoint \($0)" } ?? "No checkpoint"
            if let metrics = run.metricsPath { files += " · metrics \(metrics)" }
            if run.isPinned { files += " · pinned" } else if run.isCurrentModel { files += " · the project's model" }
            grid.put(" " + files.truncatedInMiddle(to: inner - 2), row: layout.detailRow + 2, column: 1,
                     style: .role(run.isCurrentModel ? .accent : .dim), maxWidth: inner)
        }
    }

    static func statusWord(_ status: RunStatus) -> String {
        switch status {
        case .running: "running"
        case .completed: "completed"
        case .earlyStopped: "stopped early"
        case .stopped: "stopped"
        case .failed: "failed"
        case .interrupted: "interrupted"
        }
    }

    static func drawCharts(_ state: AppState, _ layout: RunsLayout, into grid: inout CellGrid) {
        guard layout.chartsHeight >= 6 else { return }
        let runs = state.runs
        let selected = runs.selectedRow
        let marked = runs.markedID.flatMap { id in runs.rows.first { $0.id == id } }
        var pairs: [(RunRow, [EpochMetrics], CellColor, CellColor)] = []
        if let selected { pairs.append((selected, runs.metrics[selected.id] ?? [], .role(.accent), .role(.warning))) }
        if let marked, marked.id != selected?.id {
            pairs.append((marked, runs.metrics[marked.id] ?? [], .classColor(1), .classColor(4)))
        }
        var loss: [ChartSeries] = [], accuracy: [ChartSeries] = []
        for (run, metrics, trainColor, validationColor) in pairs {
            let name = "\(run.id)"
            loss.append(ChartSeries(name: "\(name) train", points: metrics.map { ChartPoint(x: Double($0.epoch), y: $0.loss) },
                                    color: trainColor))
            loss.append(ChartSeries(name: "\(name) val", points: metrics.compactMap { m in m.valLoss.map { ChartPoint(x: Double(m.epoch), y: $0) } },
                                    color: validationColor))
            accuracy.append(ChartSeries(name: "\(name) train", points: metrics.map { ChartPoint(x: Double($0.epoch), y: $0.accuracy) },
                                        color: trainColor))
            accuracy.append(ChartSeries(name: "\(name) val", points: metrics.compactMap { m in m.valAccuracy.map { ChartPoint(x: Double(m.epoch), y: $0) } },
                                        color: validationColor))
        }
        let lastEpoch = max(1, pairs.map { $0.1.last?.epoch ?? 0 }.max() ?? 1)
        // Epoch 1 is the first point: the axis starts at 0 so it is not on the frame.
        let ticks = LineChart.epochTicks(upTo: lastEpoch, maximum: 10)
        let lossChart = LineChart(series: loss, xRange: 0...Double(lastEpoch), yRange: LineChart.fittedRange(loss), xTicks: ticks)
        let accuracyChart = LineChart(series: accuracy, xRange: 0...Double(lastEpoch), yRange: 0...1, xTicks: ticks,
                                      yLabelStyle: .percent)
        // Once x has asked for the selected run's confusion matrix, its box takes the
        // right side and the charts share the rest.
        let showsConfusion = selected.map { state.validations[$0.id] != nil } ?? false
        let chartsWidth = state.width - (showsConfusion ? RunsLayout.confusionWidth : 0)
        let leftWidth = chartsWidth / 2
        var suffix = selected.map { " · run \($0.id)" } ?? ""
        if let marked, marked.id != selected?.id { suffix += " vs \(marked.id)" }
        grid.box(row: layout.chartsTop, column: 0, width: leftWidth, height: layout.chartsHeight, title: "Loss" + suffix)
        lossChart.draw(into: &grid, row: layout.chartsTop + 1, column: 1, width: leftWidth - 2, height: layout.chartsHeight - 2)
        grid.box(row: layout.chartsTop, column: leftWidth, width: chartsWidth - leftWidth, height: layout.chartsHeight,
                 title: "Accuracy" + suffix)
        accuracyChart.draw(into: &grid, row: layout.chartsTop + 1, column: leftWidth + 1,
                           width: chartsWidth - leftWidth - 2, height: layout.chartsHeight - 2)
        if showsConfusion { drawConfusion(state, layout, column: chartsWidth, into: &grid) }
    }

    /// The selected run's best checkpoint on its validation clips, once x has asked for it.
    static func drawConfusion(_ state: AppState, _ layout: RunsLayout, column: Int, into grid: inout CellGrid) {
        let width = RunsLayout.confusionWidth
        let top = layout.chartsTop, last = layout.chartsTop + layout.chartsHeight - 2
        let inner = width - 2
        guard let run = state.runs.selectedRow else {
            grid.box(row: top, column: column, width: width, height: layout.chartsHeight, title: "Validation")
            return
        }
        let status = state.validations[run.id]
        var title = "Validation"
        if case .ready(let validation) = status { title += validation.bestEpoch.map { ", best epoch \($0)" } ?? ", best" }
        grid.box(row: top, column: column, width: width, height: layout.chartsHeight, title: title)
        func text(_ words: String, _ role: ColorRole) {
            for (i, line) in ClipsView.wrap(words, width: inner - 2).enumerated() where top + 1 + i <= last {
                grid.put(line, row: top + 1 + i, column: column + 2, style: .role(role))
            }
        }
        switch status {
        case nil:
            break
        case .pending?:
            text("Classifying the run's validation clips with its best checkpoint…", .dim)
        case .failed(let reason)?:
            text(reason, .error)
        case .ready(let validation)?:
            let matrix = validation.confusion(classes: state.classes.count)
            var row = TrainView.drawConfusion(matrix, recall: matrix.recall, names: state.classes.map(\.name),
                                              selected: state.runs.confusionCell, top: top + 1, last: last,
                                              column: column + 1, inner: inner, into: &grid)
            if row <= last {
                let legend = state.runs.confusionCell == nil ? "rows: true · columns: predicted" : "Enter: the cell's clips"
                grid.put(legend, row: row, column: column + 2, style: .role(.dim), maxWidth: inner - 1)
                row += 1
            }
            if row <= last, validation.skipped > 0 {
                grid.put("\(validation.skipped) skipped (no label or file)", row: row, column: column + 2,
                         style: .role(.dim), maxWidth: inner - 1)
            }
        }
    }
}
