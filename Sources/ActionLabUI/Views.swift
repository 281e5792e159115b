import ActionNet
import ActionStore
import Foundation

/// The views: pure functions from the app state to a grid of cells.
public enum AppView {
    /// Draws the whole screen for `state`.
    public static func render(_ state: AppState) -> CellGrid {
        var grid = CellGrid(width: state.width, height: state.height)
        if state.isTooSmall {
            drawTooSmall(state, into: &grid)
            return grid
        }
        drawTitleBar(state, into: &grid)
        switch state.screen {
        case .clips: ClipsView.draw(state, into: &grid)
        case .train: TrainView.draw(state, into: &grid)
        case .model: ModelView.draw(state, into: &grid)
        case .runs: RunsView.draw(state, into: &grid)
        }
        if state.showingHelp { HelpView.draw(state, into: &grid) }
        return grid
    }

    static func drawTooSmall(_ state: AppState, into grid: inout CellGrid) {
        let minimum = AppState.minimumSize
        let lines = [
            "ActionLab needs a terminal of at least \(minimum.width)x\(minimum.height).",
            "This one is \(state.width)x\(state.height): please make it larger.",
            "",
            "q quits",
        ]
        let top = max(0, (state.height - lines.count) / 2)
        for (i, line) in lines.enumerated() {
            let column = max(0, (state.width - line.displayWidth) / 2)
            grid.put(line, row: top + i, column: column, style: i == 0 ? .role(.warning, bold: true) : .plain)
        }
    }

    static func drawTitleBar(_ state: AppState, into grid: inout CellGrid) {
        let header = CellStyle.role(.header)
        grid.fill(row: 0, column: 0, width: grid.width, height: 1, with: Cell(" ", style: header))
        var x = grid.put(" ActionLab ", row: 0, column: 0, style: CellStyle(.role(.header), bold: true))
        for (index, screen) in Screen.allCases.enumerated() {
            let tab = " F\(index + 1) \(screen.rawValue) "
            let style = screen == state.screen
                ? CellStyle(.role(.header), bold: true, reverse: true) : header
            x = grid.put(tab, row: 0, column: x + 1, style: style)
        }
        // The longest of these that fits: a run in progress matters most, then the help
        // key, the theme least.
        let progress = runProgress(state.training)
        var candidates = ["\(state.projectName) · theme \(state.theme.name) · ? help ",
                          "\(state.projectName) · ? help ", "? help "]
        if let progress {
            candidates = candidates.map { progress.full + " · " + $0 } + [progress.full + " ", progress.short + " "]
        }
        let right = candidates.first { x + 2 + $0.displayWidth <= grid.width } ?? candidates.last!
        let rightColumn = max(x + 2, grid.width - right.displayWidth)
        grid.put(right, row: 0, column: rightColumn, style: header)
        if let progress {
            let width = right.hasPrefix(progress.full) ? progress.full.displayWidth : progress.short.displayWidth
            grid.restyle(row: 0, column: rightColumn, width: width, style: CellStyle(.role(.header), bold: true))
        }
    }

    /// The run in progress for the title bar, seen from every screen: "▶ epoch 3/40 ·
    /// val acc 61.2%" and a shorter "▶ 3/40 61%"; nil when no run is in progress.
    static func runProgress(_ training: TrainingState) -> (full: String, short: String)? {
        let symbol = training.phase == .paused ? "‖" : training.phase == .stopping ? "■" : "▶"
        switch training.phase {
        case .idle, .finished, .failed:
            return nil
        case .starting:
            return ("\(symbol) starting a run", "\(symbol) starting")
        case .loading(let progress):
            return ("\(symbol) loading clips \(progress.done)/\(progress.total)", "\(symbol) loading")
        case .training, .paused, .stopping:
            let epochs = training.settings.epochs
            let epoch = training.lastBatch?.epoch ?? max(1, training.currentEpoch)
            var full = "\(symbol) epoch \(epoch)/\(epochs)", short = "\(symbol) \(epoch)/\(epochs)"
            if let accuracy = training.lastEpoch?.validationAccuracy {
                full += String(format: " · val acc %.1f%%", accuracy * 100)
                short += String(format: " %.0f%%", accuracy * 100)
            } else if let accuracy = training.lastBatch?.meanAccuracy {
                full += String(format: " · acc %.1f%%", accuracy * 100)
                short += String(format: " %.0f%%", accuracy * 100)
            }
            return (full, short)
        }
    }

    /// "1 epoch", "2 epochs": `count` and the noun that agrees with it.
    static func counted(_ count: Int, _ singular: String, plural: String? = nil) -> String {
        "\(count) " + (count == 1 ? singular : plural ?? singular + "s")
    }

}

/// The Clips screen: list, preview, class bar, status line and hints.
enum ClipsView {
    static func draw(_ state: AppState, into grid: inout CellGrid) {
        let layout = state.layout
        drawList(state, layout, into: &grid)
        drawPreview(state, layout, into: &grid)
        drawClassBar(state, layout, into: &grid)
        drawStatusLine(state, layout, into: &grid)
        drawHintLine(state, layout, into: &grid)
    }

    static func className(_ state: AppState, _ index: Int) -> String {
        state.classes.indices.contains(index) ? state.classes[index].name : "class \(index + 1)"
    }

    // MARK: List

    static func drawList(_ state: AppState, _ layout: ClipsLayout, into grid: inout CellGrid) {
        let clips = state.clips
        var title = "Clips \(clips.visible.isEmpty ? 0 : clips.selection + 1)/\(clips.visible.count)"
        if clips.options.isFiltering { title += " of \(clips.clips.count)" }
        if let model = clips.suggestions.modelName { title += " · model \(model)" }
        grid.box(row: layout.bodyTop, column: 0, width: layout.listWidth, height: layout.bodyHeight, title: title)
        // The filters and the order on the bottom border, where the eye looks for them
        // after the last row.
        let options = clips.options.description(classNames: state.classes.map(\.name))
        if !options.isEmpty, layout.listWidth > 6 {
            grid.put(" " + options.joined(separator: " · ").truncated(to: layout.listWidth - 6) + " ",
                     row: layout.bodyTop + layout.bodyHeight - 1, column: 2, style: .role(.accent, bold: true),
                     maxWidth: layout.listWidth - 4)
        }

        let inner = layout.listInnerWidth
        let labelWidth = min(12, max(10, state.classes.map(\.name.displayWidth).max() ?? 0))
        // With predictions the Length column makes room for them (the preview shows the length).
        let showsPredictions = !clips.suggestions.byClip.isEmpty
        let predictionWidth = showsPredictions ? predictionColumnWidth : 0
        let durationWidth = showsPredictions ? 0 : 6
        let nameWidth = max(4, inner - 2 - (showsPredictions ? 0 : 1 + durationWidth) - 2 - labelWidth
                               - (showsPredictions ? 2 + predictionWidth : 0))
        var headerText = "  " + "Clip".padded(to: nameWidth)
        if !showsPredictions { headerText += " " + "Length".leftPadded(to: durationWidth) }
        headerText += "  " + "Label".padded(to: labelWidth)
        if showsPredictions { headerText += "  " + "Model".padded(to: predictionWidth) }
        grid.put(headerText, row: layout.bodyTop + 1, column: 1, style: .role(.dim, bold: true), maxWidth: inner)

        if clips.visible.isEmpty {
            let text = clips.clips.isEmpty
                ? (clips.scan.isFinished ? "No clips found in this folder." : "Scanning for clips…")
                : "No clip matches the filters (Esc clears them)."
            grid.put(text, row: layout.listFirstRow, column: 3, style: .role(.dim), maxWidth: inner - 2)
            return
        }
        for line in 0..<layout.listRows {
            let position = clips.scrollTop + line
            guard position < clips.visible.count else { break }
            let clip = clips.clips[clips.visible[position]]
            let row = layout.listFirstRow + line
            let selected = position == clips.selection
            let base: CellStyle = selected ? .role(.selection) : .plain
            // The selected row is drawn all in the selection's colours: class and error
            // colours on the selection bar are hard to read in some themes, and the
            // words (label, "unreadable") say it there.
            let emphasis = CellStyle(.role(.selection), bold: true)
            grid.fill(row: row, column: 1, width: inner, height: 1, with: Cell(" ", style: base))

            var x = 1
            let isBroken = clip.isMissing || clip.unreadableReason != nil
            let marker = isBroken ? "✗ " : selected ? "▸ " : "  "
            x = grid.put(marker, row: row, column: x,
                         style: selected ? emphasis : isBroken ? CellStyle(.role(.error), bold: true) : base)
            x = grid.put(clip.path.paddedName(to: nameWidth), row: row, column: x,
                         style: isBroken && !selected ? .role(.error) : base)
            if showsPredictions {
                x = grid.put("  ", row: row, column: x, style: base)
            } else {
                x = grid.put(" " + Formatting.duration(clip.duration).leftPadded(to: durationWidth) + "  ",
                             row: row, column: x, style: selected ? base : .role(.dim))
            }
            let labelText: String, labelStyle: CellStyle
            if clip.isMissing {
                (labelText, labelStyle) = ("missing", selected ? emphasis : .role(.error, bold: true))
            } else if clip.unreadableReason != nil {
                (labelText, labelStyle) = ("unreadable", selected ? emphasis : .role(.error, bold: true))
            } else if !clip.isProbed {
                (labelText, labelStyle) = ("probing…", selected ? base : .role(.dim))
            } else if let label = clip.label {
                (labelText, labelStyle) = (className(state, label),
                                           selected ? emphasis : CellStyle(.classColor(label), bold: true))
            } else {
                (labelText, labelStyle) = ("·", selected ? base : .role(.dim))
            }
            x = grid.put(labelText.padded(to: labelWidth), row: row, column: x, style: labelStyle, maxWidth: inner + 1 - x)
            if showsPredictions, clip.isUsable, let suggestion = clips.suggestions.byClip[clip.id] {
                x = grid.put("  ", row: row, column: x, style: base)
                let predicted = suggestion.predictedIndex(in: state.classes.map(\.name))
                let disagrees = clip.label.map { $0 != predicted } ?? false
                let style: CellStyle = selected ? base
                    : suggestion.isStale ? .role(.dim)
                    : disagrees ? .role(.warning, bold: true) : predicted.map { CellStyle(.classColor($0)) } ?? .plain
                grid.put(predictionText(state, suggestion, width: predictionWidth), row: row, column: x, style: style,
                         maxWidth: max(0, inner + 1 - x))
            }
        }
    }

    /// "walk 87%" in the list; a stale prediction (an older model's) reads "~walk 87%".
    static let predictionColumnWidth = 12

    static func predictionText(_ state: AppState, _ suggestion: StoredPrediction, width: Int) -> String {
        let percent = String(format: " %.0f%%", suggestion.topProbability * 100)
        let mark = suggestion.isStale ? "~" : ""
        let name = suggestion.topClass.prefix(cells: max(1, width - mark.count - percent.count))
        return (mark + name + percent).padded(to: width)
    }

    // MARK: Preview

    static func drawPreview(_ state: AppState, _ layout: ClipsLayout, into grid: inout CellGrid) {
        let clip = state.clips.selectedClip
        grid.box(row: layout.bodyTop, column: layout.previewColumn, width: layout.previewWidth,
                 height: layout.bodyHeight, title: clip.map { $0.path.truncatedInMiddle(to: layout.previewWidth - 4) } ?? "Preview")
        guard let clip else { return }
        let area = layout.imageCells
        let infoRow = layout.imageRow + area.height
        let innerWidth = layout.previewWidth - 2

        func centred(_ text: String, style: CellStyle) {
            let lines = wrap(text, width: innerWidth - 2)
            let top = layout.imageRow + max(0, (area.height - lines.count) / 2)
            for (i, line) in lines.enumerated() where i < area.height {
                grid.put(line, row: top + i, column: layout.imageColumn + max(0, (innerWidth - line.displayWidth) / 2), style: style)
            }
        }

        if clip.isMissing {
            centred("The file is missing from the project folder.", style: .role(.error))
        } else if let reason = clip.unreadableReason {
            centred("Unreadable: \(reason)", style: .role(.error))
        } else if !clip.isProbed {
            centred("Not opened yet: the scan will reach it shortly.", style: .role(.dim))
        } else {
            switch state.clips.preview {
            case .none, .loading:
                centred("Decoding preview…", style: .role(.dim))
            case .failed(_, let reason):
                centred("No preview: \(reason)", style: .role(.error))
            case .ready(_, let frames):
                let index = min(state.clips.playback.frameIndex, frames.count - 1)
                PreviewRenderer.draw(frames[index], into: &grid, row: layout.imageRow, column: layout.imageColumn,
                                     cellsWide: area.width, cellsHigh: area.height, use256Colors: state.has256Colors)
            }
        }

        if clip.isUsable {
            var facts: [String] = []
            if let w = clip.width, let h = clip.height { facts.append("\(w)x\(h)") }
            if let codec = clip.codec { facts.append(codec) }
            if let fps = clip.fps { facts.append(String(format: "%.4g fps", fps)) }
            let frameCount = clip.frameCount.map { AppView.counted($0, "frame") }
            facts.append(Formatting.duration(clip.duration))
            // A narrow pane leaves out the frame count rather than cut the line.
            var info = " " + facts.joined(separator: " · ")
            if let frameCount {
                let full = " " + (facts.dropLast() + [frameCount, facts.last!]).joined(separator: " · ")
                if full.displayWidth <= innerWidth { info = full }
            }
            grid.put(info, row: infoRow, column: layout.imageColumn, style: .role(.dim), maxWidth: innerWidth)

            let playback = state.clips.playback
            let symbol = playback.isPlaying ? " ▶" : " ‖"
            var position = ""
            if case .ready(_, let frames) = state.clips.preview {
                position += " · frame \(playback.frameIndex + 1)/\(frames.count)"
                position += String(format: " · %.2fs", frames[min(playback.frameIndex, frames.count - 1)].timestamp)
            }
            let speed = AppState.speedText(playback.speed)
            var playLine = symbol + (playback.isPlaying ? " playing" : " paused") + " at \(speed)" + position
            if playLine.displayWidth > innerWidth { playLine = symbol + " \(speed)" + position }
            grid.put(playLine, row: infoRow + 1, column: layout.imageColumn, style: .plain, maxWidth: innerWidth)
        }
        var x = grid.put(" Label: ", row: infoRow + 2, column: layout.imageColumn, style: .role(.dim))
        let end = layout.imageColumn + innerWidth
        let suggestion = clip.isUsable ? state.clips.suggestions.byClip[clip.id] : nil
        if let label = clip.label {
            x = grid.put(className(state, label), row: infoRow + 2, column: x,
                         style: CellStyle(.classColor(label), bold: true), maxWidth: innerWidth - 8)
            if let prediction = state.clips.predictions[clip.id] {
                drawPrediction(prediction, row: infoRow + 2, column: x, end: end, into: &grid)
            } else if let suggestion {
                drawSuggestion(state, suggestion, row: infoRow + 2, column: x, end: end, into: &grid)
            }
        } else if clip.isUsable, let prediction = state.clips.predictions[clip.id] {
            x = grid.put("none", row: infoRow + 2, column: x, style: .role(.dim))
            drawPrediction(prediction, row: infoRow + 2, column: x, end: end, into: &grid)
        } else if let suggestion {
            x = grid.put("none", row: infoRow + 2, column: x, style: .role(.dim))
            x = drawSuggestion(state, suggestion, row: infoRow + 2, column: x, end: end, into: &grid)
            if !suggestion.isStale {
                grid.put(" (Enter accepts)", row: infoRow + 2, column: x, style: .role(.dim), maxWidth: max(0, end - x))
            }
        } else if clip.isUsable {
            let keys = state.classes.isEmpty ? "" : " (press \(state.classes.first!.key)-\(state.classes.last!.key))"
            grid.put("none" + keys, row: infoRow + 2, column: x, style: .role(.dim), maxWidth: innerWidth - 8)
        } else if !clip.isProbed {
            grid.put("not yet (the clip is being opened)", row: infoRow + 2, column: x, style: .role(.dim))
        } else {
            grid.put("cannot be labelled", row: infoRow + 2, column: x, style: .role(.error))
        }
    }

    /// "  run 3: walk 87%" after the label, when P has asked the project's model.
    static func drawPrediction(_ status: PredictionStatus?, row: Int, column: Int, end: Int, into grid: inout CellGrid) {
        guard let status else { return }
        var name = "model"
        if case .ready(let prediction) = status, let modelName = prediction.modelName { name = modelName }
        let x = grid.put("  \(name): ", row: row, column: column, style: .role(.dim), maxWidth: max(0, end - column))
        switch status {
        case .pending:
            grid.put("predicting…", row: row, column: x, style: .role(.dim), maxWidth: max(0, end - x))
        case .ready(let prediction):
            grid.put(String(format: "%@ %.0f%%", prediction.label, prediction.probability * 100), row: row, column: x,
                     style: .role(.accent, bold: true), maxWidth: max(0, end - x))
        case .failed:
            grid.put("no prediction", row: row, column: x, style: .role(.error), maxWidth: max(0, end - x))
        }
    }

    /// "  run 3: walk 87%" after the label: the current model's stored prediction, named;
    /// an older model's reads "~walk 87% (older model)".
    @discardableResult
    static func drawSuggestion(_ state: AppState, _ suggestion: StoredPrediction, row: Int, column: Int, end: Int,
                               into grid: inout CellGrid) -> Int {
        let model = state.clips.suggestions.modelName.map { "  \($0): " } ?? "  model: "
        var x = grid.put(model, row: row, column: column, style: .role(.dim), maxWidth: max(0, end - column))
        let text = (suggestion.isStale ? "~" : "") + suggestion.topClass + String(format: " %.0f%%", suggestion.topProbability * 100)
        x = grid.put(text, row: row, column: x, style: suggestion.isStale ? .role(.dim) : .role(.accent, bold: true),
                     maxWidth: max(0, end - x))
        if suggestion.isStale {
            x = grid.put(" (older model)", row: row, column: x, style: .role(.dim), maxWidth: max(0, end - x))
        }
        return x
    }

    /// Splits `text` into lines of at most `width` cells at spaces; a word longer than
    /// a line is split between characters (never inside a wide one).
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 1 else { return [] }
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            var word = String(word)
            while word.displayWidth > width {
                if !current.isEmpty { lines.append(current); current = "" }
                let head = word.prefix(cells: width)
                lines.append(head)
                word = String(word.dropFirst(head.count))
            }
            if current.isEmpty { current = word } else if current.displayWidth + 1 + word.displayWidth <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = word
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    // MARK: Bars

    static func drawClassBar(_ state: AppState, _ layout: ClipsLayout, into grid: inout CellGrid) {
        let row = layout.classBarRow
        var x = 1
        for (index, info) in state.classes.enumerated() {
            x = grid.put(String(info.key), row: row, column: x, style: .role(.key, bold: true))
            x = grid.put(" \(info.name)  ", row: row, column: x, style: CellStyle(.classColor(index), bold: true))
        }
        x += 1
        for (key, action) in [("0", "clear"), ("u", "undo"), ("n", "next unlabelled")] {
            x = grid.put(key, row: row, column: x, style: .role(.key, bold: true))
            x = grid.put(" \(action)  ", row: row, column: x, style: .role(.dim))
        }
    }

    static func drawStatusLine(_ state: AppState, _ layout: ClipsLayout, into grid: inout CellGrid) {
        let row = layout.statusRow
        let status = CellStyle.role(.status)
        grid.fill(row: row, column: 0, width: grid.width, height: 1, with: Cell(" ", style: status))
        var counts = Array(repeating: 0, count: state.classes.count)
        var labelled = 0, usable = 0
        for clip in state.clips.clips where clip.isUsable {
            usable += 1
            if let label = clip.label {
                labelled += 1
                if counts.indices.contains(label) { counts[label] += 1 }
            }
        }
        let total = state.clips.clips.count
        var text = " Labelled \(labelled)/\(usable)"
        if total != usable { text += " (\(total - usable) unusable)" }
        var x = grid.put(text + "  │ ", row: row, column: 0, style: CellStyle(.role(.status), bold: true))
        for (index, info) in state.classes.enumerated() {
            x = grid.put("\(info.name) \(counts[index])", row: row, column: x,
                         style: CellStyle(.classColor(index), background: .role(.status), bold: true))
            x = grid.put("  ", row: row, column: x, style: status)
        }
        let scan = state.clips.scan
        if !scan.isFinished {
            let progress = scan.total.map { "\(scan.scanned)/\($0)" } ?? "\(scan.scanned)"
            x = grid.put("│ Scanning \(progress)…  ", row: row, column: x, style: status)
        }
        if let predicting = state.clips.predicting {
            grid.put("│ Predicting \(predicting.done)/\(predicting.total)…", row: row, column: x, style: status)
        }
    }

    static func drawHintLine(_ state: AppState, _ layout: ClipsLayout, into grid: inout CellGrid) {
        let row = layout.hintRow
        if state.clips.isEditingFilter {
            var x = grid.put(" Filter: ", row: row, column: 0, style: .role(.accent, bold: true))
            x = grid.put(state.clips.filter, row: row, column: x, style: .plain)
            x = grid.put("█", row: row, column: x, style: .role(.accent))
            grid.put("  Enter keeps it · Esc clears it · matches clip names (f: labels)", row: row, column: x + 1,
                     style: .role(.dim))
            return
        }
        HintLine.draw(state, row: row, into: &grid)
    }
}

/// The overlay that lists every key, by screen; in two columns when one does not fit.
enum HelpView {
    struct Section {
        var title: String
        var entries: [(keys: String, text: String)]
    }

    /// The keymaps as the help lists them: each screen's keys, then those of every screen.
    static func sections(_ state: AppState) -> [Section] {
        func section(_ title: String, _ bindings: [KeyBinding]) -> Section {
            var entries: [(keys: String, text: String)] = []
            for binding in bindings {
                entries.append((binding.label, binding.help))
                if let detail = binding.helpDetail?(state) { entries.append(("", detail)) }
            }
            return Section(title: title, entries: entries)
        }
        return Screen.allCases.map { section($0.rawValue, Keymap.bindings(for: $0)) }
            + [section("Everywhere", Keymap.everywhere)]
    }

    static let keyWidth = 15

    /// The lines of `sections` in a column `width` wide: (keys or nil, text, is a title).
    static func lines(_ sections: [Section], width: Int) -> [(keys: String?, text: String)] {
        var lines: [(keys: String?, text: String)] = []
        for (index, section) in sections.enumerated() {
            if index > 0 { lines.append((nil, "")) }
            lines.append((nil, section.title))
            for entry in section.entries {
                let wrapped = ClipsView.wrap(entry.text, width: max(8, width - keyWidth))
                for (i, text) in wrapped.enumerated() { lines.append((i == 0 ? entry.keys : "", text)) }
            }
        }
        return lines
    }

    /// The columns of lines the overlay shows: every section in one column, or in two
    /// split at a section boundary; when neither fits, only this screen's keys and the
    /// global ones (`partial`).
    static func columns(_ state: AppState, boxWidth: Int, rows: Int)
        -> (columns: [[(keys: String?, text: String)]], partial: Bool) {
        let all = sections(state)
        let here = all.filter { $0.title == state.screen.rawValue || $0.title == "Everywhere" }
        var fallback: [[(keys: String?, text: String)]] = []
        for (set, partial) in [(all, false), (here, true)] {
            let single = lines(set, width: boxWidth - 5)
            if single.count <= rows { return ([single], partial) }
            // Two columns, split where the longer one is shortest.
            // Two columns of space between the columns: a title in the right column must
            // not read as the end of a line in the left one.
            let width = (boxWidth - 5) / 2 - 2
            var best: [[(keys: String?, text: String)]] = []
            for cut in 1..<max(2, set.count) where cut < set.count {
                let pair = [lines(Array(set.prefix(cut)), width: width), lines(Array(set.dropFirst(cut)), width: width)]
                if best.isEmpty || max(pair[0].count, pair[1].count) < max(best[0].count, best[1].count) { best = pair }
            }
            if best.isEmpty { best = [single] }
            if best.map(\.count).max()! <= rows { return (best, partial) }
            // No split between sections fits: flow the lines into the second column
            // between two entries, even within a section.
            let flowed = flow(lines(set, width: width))
            if flowed.map(\.count).max()! <= rows { return (flowed, partial) }
            fallback = flowed.map(\.count).max()! < best.map(\.count).max()! ? flowed : best
        }
        return (fallback, true)
    }

    /// `lines` in two columns as even as can be, split before an entry (never between
    /// an entry and its continuation lines); the right column does not start blank.
    static func flow(_ lines: [(keys: String?, text: String)]) -> [[(keys: String?, text: String)]] {
        guard lines.count > 1 else { return [lines] }
        var cut = (lines.count + 1) / 2
        // A continuation line has keys "": back up to its entry.
        while cut > 1, lines[cut].keys == "" { cut -= 1 }
        let right = Array(lines[cut...].drop { $0.keys == nil && $0.text.isEmpty })
        return [Array(lines[..<cut]), right]
    }

    static func draw(_ state: AppState, into grid: inout CellGrid) {
        let boxWidth = min(grid.width - 4, 96)
        // Borders, a blank line and "Any key closes this help" take four rows; when the
        // keys need one more, the blank line gives it.
        let rows = grid.height - 2 - 4
        var (columns, partial) = columns(state, boxWidth: boxWidth, rows: rows)
        var spacer = 1
        if (columns.map(\.count).max() ?? 0) > rows {
            (columns, partial) = self.columns(state, boxWidth: boxWidth, rows: rows + 1)
            spacer = 0
        }
        let longest = columns.map(\.count).max() ?? 0
        let boxHeight = min(grid.height - 2, longest + 3 + spacer)
        let left = (grid.width - boxWidth) / 2, top = (grid.height - boxHeight) / 2
        let overlay = CellStyle.role(.overlay)
        grid.fill(row: top, column: left, width: boxWidth, height: boxHeight, with: Cell(" ", style: overlay))
        grid.box(row: top, column: left, width: boxWidth, height: boxHeight, title: "Keys",
                 style: CellStyle(.role(.overlay)), titleStyle: CellStyle(.role(.accent), background: .role(.overlay), bold: true))
        let columnWidth = (boxWidth - 5) / columns.count
        for (c, lines) in columns.enumerated() {
            let x = left + 2 + c * (columnWidth + 1)
            for (i, line) in lines.enumerated() where i < boxHeight - 3 - spacer {
                let row = top + 1 + i
                if let keys = line.keys {
                    grid.put(keys, row: row, column: x + 1, style: CellStyle(.role(.key), background: .role(.overlay), bold: true),
                             maxWidth: keyWidth - 1)
                    grid.put(line.text, row: row, column: x + 1 + keyWidth, style: overlay, maxWidth: columnWidth - keyWidth - 1)
                } else {
                    grid.put(line.text, row: row, column: x, style: CellStyle(.role(.accent), background: .role(.overlay), bold: true))
                }
            }
        }
        grid.put("Any key closes this help." + (partial ? " The keys of other screens: ? there." : ""),
                 row: top + boxHeight - 2, column: left + 2,
                 style: CellStyle(.role(.dim), background: .role(.overlay)))
    }
}
