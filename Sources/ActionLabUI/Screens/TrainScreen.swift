import ActionNet
import ActionStore
import Foundation
import Training

/// Where the Train screen's parts go: the run box and the per-class box on the left,
/// the loss and accuracy charts on the right, the hint line at the bottom.
struct TrainLayout {
    let width: Int
    let height: Int

    var bodyTop: Int { 1 }
    var bodyHeight: Int { max(0, height - 2) }
    var hintRow: Int { height - 1 }
    /// 32 columns inside: room for five classes' confusion counts.
    var leftWidth: Int { 34 }
    static let runLines = 12
    var runBoxHeight: Int { min(bodyHeight, Self.runLines + 2) }
    var classBoxTop: Int { bodyTop + runBoxHeight }
    var classBoxHeight: Int { max(0, bodyHeight - runBoxHeight) }
    var chartColumn: Int { leftWidth }
    var chartWidth: Int { max(0, width - leftWidth) }
    var lossHeight: Int { bodyHeight / 2 }
    var accuracyTop: Int { bodyTop + lossHeight }
    var accuracyHeight: Int { bodyHeight - lossHeight }
}

/// The Train screen: settings and estimate, progress, live charts, per-class results.
enum TrainView {
    static func draw(_ state: AppState, into grid: inout CellGrid) {
        let layout = TrainLayout(width: state.width, height: state.height)
        drawRunBox(state, layout, into: &grid)
        drawClassBox(state, layout, into: &grid)
        let (loss, accuracy) = charts(state.training)
        grid.box(row: layout.bodyTop, column: layout.chartColumn, width: layout.chartWidth, height: layout.lossHeight,
                 title: "Loss")
        loss.draw(into: &grid, row: layout.bodyTop + 1, column: layout.chartColumn + 1,
                  width: layout.chartWidth - 2, height: layout.lossHeight - 2)
        grid.box(row: layout.accuracyTop, column: layout.chartColumn, width: layout.chartWidth,
                 height: layout.accuracyHeight, title: "Accuracy")
        accuracy.draw(into: &grid, row: layout.accuracyTop + 1, column: layout.chartColumn + 1,
                      width: layout.chartWidth - 2, height: layout.accuracyHeight - 2)
        HintLine.draw(state, row: layout.hintRow, into: &grid)
    }

    /// The loss and accuracy charts: training running means per batch, validation per epoch.
    static func charts(_ training: TrainingState) -> (LineChart, LineChart) {
        let epochs = max(1, training.currentEpoch)
        let xRange = 0.0...Double(epochs)
        let ticks = LineChart.epochTicks(upTo: epochs, maximum: 12)
        let loss = [ChartSeries(name: "train", points: training.trainingLoss, color: .role(.accent)),
                    ChartSeries(name: "validation", points: training.validationLoss, color: .role(.warning))]
        let accuracy = [ChartSeries(name: "train", points: training.trainingAccuracy, color: .role(.accent)),
                        ChartSeries(name: "validation", points: training.validationAccuracy, color: .role(.warning))]
        return (LineChart(series: loss, xRange: xRange, yRange: LineChart.fittedRange(loss), xTicks: ticks),
                LineChart(series: accuracy, xRange: xRange, yRange: 0...1, xTicks: ticks, yLabelStyle: .percent))
    }

    // MARK: The run box

    /// One line of the run box: a name in the first eight columns, then a value of at
    /// most `runValueWidth` characters, or a count and a progress bar.
    enum RunBoxLine: Equatable {
        case text(name: String, value: String, style: CellStyle)
        case progress(name: String, count: String, fraction: Double)
    }

    /// Room for a value after the eight columns of names, inside the box's border.
    static var runValueWidth: Int { TrainLayout(width: 0, height: 0).leftWidth - 2 - 8 }

    /// The first of `candidates` (longest wording first) that fits a run-box value.
    static func fitted(_ candidates: String...) -> String {
        candidates.first { $0.displayWidth <= runValueWidth } ?? candidates.last!.truncated(to: runValueWidth)
    }

    /// What the run box says, top to bottom: settings, data and estimate, state, progress,
    /// time, speed and the best epoch so far. Every value fits `runValueWidth`.
    /// `missing`: what the project lacks for a run, said instead of "ready".
    /// `memoryShortfall`: the estimate needs more memory than the machine has (marked).
    static func runBoxLines(_ training: TrainingState, missing: MissingTrainingData? = nil,
                            memoryShortfall: Bool = false) -> [RunBoxLine] {
        let settings = training.settings
        let model = settings.model
        var lines: [RunBoxLine] = []
        func line(_ name: String, _ value: String, style: CellStyle = .plain) {
            lines.append(.text(name: name, value: value, style: style))
        }
        var presetName = training.run == nil ? training.choice.name : settings.preset ?? "custom"
        let isEdited = training.run == nil && training.choice.isEdited
        if isEdited { presetName += ", edited" }
        let canChange = !(training.phase.isActive || training.run != nil)
        let keys = isEdited ? ("  (R: reset)", " (R)") : ("  (c: next)", " (c)")
        line("Preset", canChange ? fitted(presetName + keys.0, presetName + keys.1, presetName) : fitted(presetName),
             style: .role(isEdited ? .warning : .accent, bold: true))
        line("Input", fitted("\(AppView.counted(model.frames, "frame")) \(model.height)x\(model.width)x\(model.channels)",
                             "\(model.frames)x\(model.height)x\(model.width)x\(model.channels)"))
        let filters = model.filters.map(String.init).joined(separator: "/")
        line("Network", fitted("\(filters) · dense \(model.denseUnits)", "\(filters) d\(model.denseUnits)"))
        // The precision only when not the default, so that a float32 run reads as it always did.
        let precision = settings.precision == .fp32 ? "" : " · \(settings.precision.rawValue)"
        line("Train", fitted("\(AppView.counted(settings.epochs, "epoch")) · batch \(settings.batchSize)\(precision)",
                             "\(settings.epochs) ep. · batch \(settings.batchSize)\(precision)",
                             "\(settings.epochs) ep. · b\(settings.batchSize)\(precision)"))
        let augmentations = settings.augmentation.enabledNames
        let augmentText = augmentations.isEmpty ? "none" : augmentations.joined(separator: " + ")
        line("Sees", fitted("\(settings.input.rawValue.replacingOccurrences(of: "_", with: " ")) · \(augmentText)",
                            "\(settings.input.rawValue) · \(augmentText)"))
        func data(_ train: Int, _ validation: Int) -> String {
            fitted("\(train) train · \(validation) validation", "\(train) train · \(validation) val.")
        }
        func estimateText(_ estimate: TrainingEstimate) -> String {
            let perEpoch = Formatting.duration(estimate.secondsPerEpoch), memory = Formatting.bytes(estimate.memoryBytes)
            return fitted("\(perEpoch)/epoch · \(memory)", "\(perEpoch)/ep. · \(memory)")
        }
        if let run = training.run {
            line("Data", data(run.trainingCount, run.validationCount))
            line("Est.", estimateText(run.estimate))
        } else {
            switch training.estimate {
            case .none:
                line("Data", "–")
                line("Est.", "–")
            case .measuring(let request):
                line("Data", data(request.trainingSamples, request.validationSamples))
                line("Est.", "measuring…", style: .role(.dim))
            case .ready(let request, let estimate):
                line("Data", data(request.trainingSamples, request.validationSamples))
                if memoryShortfall {
                    line("Est.", fitted(estimateText(estimate) + " !"), style: .role(.warning, bold: true))
                } else {
                    line("Est.", estimateText(estimate))
                }
            case .failed(let request, _):
                // The reason is too long for a line: the box below spells it out.
                line("Data", data(request.trainingSamples, request.validationSamples))
                line("Est.", "not possible (see below)", style: .role(.error))
            }
        }
        var (stateText, stateStyle) = phaseText(training)
        if training.phase == .idle, training.run == nil, let missing {
            (stateText, stateStyle) = (missing.stateText, .role(.warning, bold: true))
        }
        if training.phase.isActive, let decoding = training.decoding, decoding.done < decoding.total {
            // Clips decode while the first epoch trains.
            let count = "\(decoding.done)/\(decoding.total)"
            line("State", fitted("\(stateText) · decoding \(count) clips", "\(stateText), \(count) decoded",
                                 training.phase == .training ? "▶ decoding \(count)" : stateText), style: stateStyle)
        } else {
            line("State", fitted(stateText), style: stateStyle)
        }

        let batch = training.lastBatch
        let epochsDone = training.lastEpoch?.epoch ?? ((training.run?.firstEpoch ?? 1) - 1)
        let epochNumber = batch?.epoch ?? max(1, epochsDone)
        let epochFraction = batch.map { (Double($0.epoch - 1) + Double($0.batch) / Double(max(1, $0.batches))) / Double(max(1, $0.epochs)) }
            ?? Double(epochsDone) / Double(max(1, settings.epochs))
        lines.append(.progress(name: "Epoch", count: "\(epochNumber)/\(settings.epochs)", fraction: epochFraction))
        if let validation = training.lastValidation {
            lines.append(.progress(name: "Valid.", count: "\(validation.batch)/\(validation.batches)",
                                   fraction: Double(validation.batch) / Double(max(1, validation.batches))))
        } else {
            let batches = batch?.batches ?? training.run?.batchesPerEpoch
            lines.append(.progress(name: "Batch", count: batches.map { "\(batch?.batch ?? 0)/\($0)" } ?? "–",
                                   fraction: Double(batch?.batch ?? 0) / Double(max(1, batches ?? 1))))
        }

        let eta = training.lastValidation?.etaSeconds ?? batch?.etaSeconds
        let etaText = "ETA " + (training.phase.isActive && eta != nil ? Formatting.duration(eta) : "–")
        if let elapsed = batch.map({ Formatting.duration($0.elapsedSeconds) }) {
            line("Time", fitted("\(etaText) · elapsed \(elapsed)", "\(etaText) · ran \(elapsed)"))
        } else {
            line("Time", etaText)
        }
        let lr = "lr \(rate(training.learningRate ?? settings.learningRate))"
        if let samples = batch?.samplesPerSecond {
            line("Speed", fitted(String(format: "%@ · %.0f samples/s", lr, samples), String(format: "%@ · %.0f/s", lr, samples)))
        } else {
            line("Speed", lr)
        }
        if let report = training.lastEpoch, let best = report.bestValidationAccuracy {
            line("Best", fitted(String(format: "val acc %.1f%% (epoch %d)", best * 100, report.bestEpoch),
                                String(format: "val acc %.1f%% (ep. %d)", best * 100, report.bestEpoch)),
                 style: .role(.accent))
        } else if let report = training.lastEpoch {
            line("Last", fitted(String(format: "loss %.4f · acc %.1f%%", report.loss, report.accuracy * 100),
                                String(format: "loss %.3g · acc %.0f%%", report.loss, report.accuracy * 100)))
        } else {
            line("Best", "after the first epoch", style: .role(.dim))
        }
        return lines
    }


    static func drawRunBox(_ state: AppState, _ layout: TrainLayout, into grid: inout CellGrid) {
        let training = state.training
        let title = training.run?.runID.map { "Run \($0)" } ?? "New run"
        grid.box(row: layout.bodyTop, column: 0, width: layout.leftWidth, height: layout.runBoxHeight, title: title)
        let inner = layout.leftWidth - 2
        var row = layout.bodyTop + 1
        let bottom = layout.bodyTop + layout.runBoxHeight - 1
        for line in runBoxLines(training, missing: state.missingTrainingData, memoryShortfall: state.memoryShortfall != nil)
        where row < bottom {
            switch line {
            case .text(let name, let value, let style):
                let x = grid.put(name.padded(to: 8), row: row, column: 1, style: .role(.dim))
                grid.put(value, row: row, column: x, style: style, maxWidth: inner - 8)
            case .progress(let name, let count, let fraction):
                let x = grid.put(name.padded(to: 8), row: row, column: 1, style: .role(.dim))
                let barColumn = grid.put(count.padded(to: 8), row: row, column: x)
                ProgressBar.draw(fraction: fraction, row: row, column: barColumn, width: inner + 1 - barColumn, into: &grid)
            }
            row += 1
        }
    }

    static func phaseText(_ training: TrainingState) -> (String, CellStyle) {
        switch training.phase {
        case .idle: return ("ready: t starts a run", .role(.dim))
        case .starting: return ("starting…", .role(.dim))
        case .loading(let p): return ("loading clips \(p.done)/\(p.total)", .plain)
        case .training:
            if training.pauseRequested { return ("pausing after batch…", .role(.warning)) }
            return (training.lastValidation == nil ? "▶ training" : "▶ validating", .role(.accent, bold: true))
        case .paused: return ("‖ paused (p resumes)", .role(.warning, bold: true))
        case .stopping: return ("stopping after batch…", .role(.warning))
        case .finished(let summary):
            let saved = summary.lastCheckpoint == nil ? "" : ", saved"
            return ("\(AppState.endText(summary.status))\(saved)", .role(.accent))
        case .failed: return ("failed (see below)", .role(.error))
        }
    }

    static func rate(_ value: Float) -> String { String(format: "%g", value) }


    // MARK: Per-class accuracy and the confusion matrix

    static func drawClassBox(_ state: AppState, _ layout: TrainLayout, into grid: inout CellGrid) {
        guard layout.classBoxHeight >= 3 else { return }
        let training = state.training
        // The latest epoch's validation; while a cell is being chosen, the best epoch's,
        // whose clips Enter lists.
        let choosing = training.confusionCell != nil
        let report = choosing ? training.selectableEpoch : training.lastEpoch
        let inner = layout.leftWidth - 2
        let first = layout.classBoxTop + 1, last = layout.classBoxTop + layout.classBoxHeight - 2
        // A failure's reason is longer than a line of the run box: it takes this box.
        var failure: (title: String, text: String)?
        if case .failed(let message) = training.phase {
            failure = ("Run failed", message)
        } else if training.run == nil, case .failed(_, let reason) = training.estimate {
            failure = ("No estimate", "These settings cannot train here: \(reason)")
        }
        if let failure {
            grid.box(row: layout.classBoxTop, column: 0, width: layout.leftWidth, height: layout.classBoxHeight,
                     title: failure.title, titleStyle: .role(.error, bold: true))
            for (i, line) in ClipsView.wrap(failure.text, width: inner - 2).enumerated() where first + i <= last {
                grid.put(line, row: first + i, column: 2, style: .role(.error))
            }
            return
        }
        // Before a run: what stands in its way, in the room the results will take.
        var obstacle: (title: String, text: String)?
        if !training.phase.isActive, training.run == nil {
            if let missing = state.missingTrainingData {
                obstacle = ("Nothing to train on", missing.explanation.prefix(1).uppercased() + missing.explanation.dropFirst() + ".")
            } else if let shortfall = state.memoryShortfall {
                obstacle = ("Not enough memory", "The estimate needs about \(Formatting.bytes(shortfall.needed)) of memory; this machine has "
                            + "\(Formatting.bytes(shortfall.available)). A smaller preset (c) fits better; t asks before it starts.")
            }
        }
        if let obstacle {
            grid.box(row: layout.classBoxTop, column: 0, width: layout.leftWidth, height: layout.classBoxHeight,
                     title: obstacle.title, titleStyle: .role(.warning, bold: true))
            for (i, line) in ClipsView.wrap(obstacle.text, width: inner - 2).enumerated() where first + i <= last {
                grid.put(line, row: first + i, column: 2, style: .role(.warning))
            }
            return
        }
        let title = report.map { choosing && $0.isBest ? "Validation, best epoch \($0.epoch)" : "Validation, epoch \($0.epoch)" }
            ?? "Validation by class"
        grid.box(row: layout.classBoxTop, column: 0, width: layout.leftWidth, height: layout.classBoxHeight, title: title)
        guard let report, let confusion = report.confusion else {
            let text = report == nil ? "Accuracy per class and the confusion matrix appear after each epoch."
                : "No validation set in this run."
            for (i, line) in ClipsView.wrap(text, width: inner - 2).enumerated() where first + i <= last {
                grid.put(line, row: first + i, column: 2, style: .role(.dim))
            }
            return
        }
        let names = training.run?.classNames ?? state.classes.map(\.name)
        var row = drawConfusion(confusion, recall: report.perClassValidationAccuracy, names: names,
                                selected: training.confusionCell, top: first, last: last, column: 1, inner: inner,
                                into: &grid)
        // Rows are true classes, columns predictions; and what "s" has to show for itself.
        if row < last {
            let legend = training.confusionCell == nil ? "rows: true · columns: predicted" : "Enter: the cell's clips"
            grid.put(legend, row: row, column: 2, style: .role(.dim), maxWidth: inner - 1)
            row += 1
        }
        if row <= last, let saved = training.lastCheckpoint {
            grid.put("Checkpoint \(saved.kind.rawValue) · epoch \(saved.epoch)", row: row, column: 2,
                     style: .role(.dim), maxWidth: inner - 1)
        }
    }
}

extension TrainView {
    /// Draws "class  acc   run wal jum ...", then a row per true class with its recall and
    /// counts per predicted class, from row `top` to at most `last`; the selected cell is
    /// marked "▸". Returns the row after the matrix.
    static func drawConfusion(_ confusion: ConfusionMatrix, recall: [Float?], names: [String], selected: ConfusionCell?,
                              top: Int, last: Int, column: Int, inner: Int, into grid: inout CellGrid) -> Int {
        let end = column + inner
        var x = grid.put("class".padded(to: 7) + " acc ", row: top, column: column, style: .role(.dim, bold: true))
        for c in 0..<confusion.classes {
            x = grid.put(" " + (names.indices.contains(c) ? names[c].prefix(cells: 3) : "\(c + 1)").leftPadded(to: 3),
                         row: top, column: x, style: CellStyle(.classColor(c), bold: true), maxWidth: max(0, end - x))
        }
        for t in 0..<confusion.classes {
            let row = top + 1 + t
            guard row <= last else { break }
            let name = names.indices.contains(t) ? names[t] : "class \(t + 1)"
            var x = grid.put(name.padded(to: 7), row: row, column: column, style: CellStyle(.classColor(t), bold: true),
                             maxWidth: 7)
            let classRecall = recall.indices.contains(t) ? recall[t] : nil
            x = grid.put(" " + (classRecall.map { String(format: "%3.0f%%", $0 * 100) } ?? "   –"), row: row, column: x)
            for p in 0..<confusion.classes {
                let count = confusion[t, p]
                let isSelected = selected == ConfusionCell(truth: t, predicted: p)
                let style: CellStyle = isSelected ? CellStyle(.role(.selection), bold: true)
                    : count == 0 ? .role(.dim) : p == t ? .role(.accent, bold: true) : .role(.warning)
                x = grid.put((isSelected ? "▸" : " ") + String(count).leftPadded(to: 3), row: row, column: x, style: style,
                             maxWidth: max(0, end - x))
            }
        }
        return top + 1 + confusion.classes
    }
}

/// A bar of eighth blocks: "█████▍    ".
enum ProgressBar {
    static func draw(fraction: Double, row: Int, column: Int, width: Int, into grid: inout CellGrid) {
        guard width > 0 else { return }
        let eighths = Int((min(max(fraction.isFinite ? fraction : 0, 0), 1) * Double(width * 8)).rounded())
        let partials: [Character] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        for i in 0..<width {
            let filled = min(8, max(0, eighths - i * 8))
            let character: Character = filled == 8 ? "█" : filled == 0 ? "░" : partials[filled]
            grid[row, column + i] = Cell(character, style: filled == 0 ? .role(.dim) : .role(.accent))
        }
    }
}

/// The bottom line of every screen: the status message when there is one (cut at the
/// front, since messages end with what matters: the problem after the file name), else
/// the hints of the screen's keymap and then those of every screen. A narrow terminal
/// leaves out the screen's last hints first: "? help" and "q quit" always show.
enum HintLine {
    static func draw(_ state: AppState, row: Int, into grid: inout CellGrid) {
        if let message = state.message {
            let role: ColorRole = message.kind == .info ? .accent : message.kind == .warning ? .warning : .error
            let text = message.text.truncatedAtStart(to: grid.width - 2)
            grid.put(" " + text, row: row, column: 0, style: .role(role), maxWidth: grid.width)
            return
        }
        var x = 1
        for hint in hints(state, width: grid.width - 1) {
            x = grid.put(hint.keys, row: row, column: x, style: .role(.key, bold: true))
            x = grid.put(" \(hint.text)  ", row: row, column: x, style: .role(.dim))
        }
    }

    /// The hints that fit in `width` cells: the screen's, in keymap order while they fit,
    /// then those of every screen.
    static func hints(_ state: AppState, width: Int) -> [(keys: String, text: String)] {
        func shown(_ bindings: [KeyBinding]) -> [(keys: String, text: String)] {
            bindings.compactMap { binding in binding.hint.flatMap { hint in hint.text(state).map { (hint.keys, $0) } } }
        }
        func cells(_ hint: (keys: String, text: String)) -> Int { hint.keys.displayWidth + 1 + hint.text.displayWidth + 2 }
        let everywhere = shown(Keymap.everywhere)
        var room = width - everywhere.map(cells).reduce(0, +)
        var screen: [(keys: String, text: String)] = []
        for hint in shown(Keymap.bindings(for: state.screen)) {
            guard cells(hint) <= room else { break }
            room -= cells(hint)
            screen.append(hint)
        }
        return screen + everywhere
    }
}
