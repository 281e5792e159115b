import ActionStore
import Foundation
import Training

extension AppState {
    var layout: ClipsLayout { ClipsLayout(width: width, height: height) }

    /// Applies one event. The only place the state changes; it never draws and
    /// never touches the database, it returns effects for that instead.
    public mutating func update(_ event: AppEvent) -> UpdateResult {
        var result = apply(event)
        if let message, !describesTheState(message.subject) {
            self.message = nil
            result.redraw = true
        }
        return result
    }

    /// Whether what a status message is about is still as it was.
    private func describesTheState(_ subject: StatusMessage.Subject) -> Bool {
        switch subject {
        case .none: true
        case .clip(let id): screen == .clips && clips.selectedClip?.id == id
        case .speed(let speed): clips.playback.speed == speed
        case .trainingPhase(let kind): training.phase.kind == kind
        case .trainingSettings(let settings): !training.phase.isActive && training.choice.settings == settings
        case .run(let id): screen == .runs && runs.selectedRow?.id == id
        }
    }

    private mutating func apply(_ event: AppEvent) -> UpdateResult {
        switch event {
        case .key(let key):
            return handleKey(key)
        case .quit:
            return quit()
        case .tick(let now):
            return tick(now: now)
        case .resize(let newWidth, let newHeight):
            guard newWidth != width || newHeight != height else { return .unchanged }
            width = newWidth
            height = newHeight
            var result = UpdateResult.redraw
            scrollToSelection()
            result.merge(requestPreviewIfNeeded())
            return result
        case .clipsChanged(let rows):
            var result = mergeClips(rows)
            // The estimate depends on how many clips are labelled and readable.
            if screen == .train { result.merge(requestEstimateIfNeeded()) }
            return result
        case .clipsReloaded(let rows, let labelEdits):
            var result = applyReloadedClips(rows, readAfterLabelEdits: labelEdits)
            if screen == .train { result.merge(requestEstimateIfNeeded()) }
            // Another process committed to the project: it may have stored predictions
            // (`actionlab suggest`, `review`) even when no clip row changed.
            result.merge(UpdateResult(effects: [.loadSuggestions]))
            return result
        case .scanProgress(let status):
            let finished = status.isFinished && !clips.scan.isFinished
            clips.scan = status
            // New clips: the current model predicts them.
            return UpdateResult(redraw: true, effects: finished ? predictClipsEffects() : [])
        case .labelCommitted(let clipID, let classIndex, let cause):
            var result = applyCommittedLabel(clipID: clipID, classIndex: classIndex, cause: cause)
            if screen == .train { result.merge(requestEstimateIfNeeded()) }
            return result
        case .labelNotChanged(let reason):
            show(reason, .warning)
            return .redraw
        case .previewLoaded(let request, let frames):
            guard clips.preview.request == request else { return .unchanged }
            if frames.isEmpty {
                clips.preview = .failed(request, "no frames could be decoded")
            } else {
                clips.preview = .ready(request, frames)
                clips.playback.position = min(clips.playback.position, frames.last!.timestamp)
                clips.playback.frameIndex = Self.frameIndex(at: clips.playback.position, in: frames)
            }
            // Labelling moves on to the next clip: have its preview ready by then.
            if let next = previewRequest(forPosition: clips.selection + 1) {
                return UpdateResult(redraw: true, effects: [.prefetchPreview(next)])
            }
            return .redraw
        case .previewFailed(let request, let reason):
            guard clips.preview.request == request else { return .unchanged }
            clips.preview = .failed(request, reason)
            return .redraw
        case .warning(let text):
            show(text, .warning)
            return .redraw
        case .training(let trainingEvent):
            return applyTrainingEvent(trainingEvent)
        case .estimateReady(let request, let estimate):
            return applyEstimate(request, .success(estimate))
        case .estimateFailed(let request, let reason):
            return applyEstimate(request, .failure(TrainingError(reason)))
        case .trainingNotStarted(let reason):
            training.phase = .failed(reason)
            show("Training not started: \(reason)", .error, about: .trainingPhase(training.phase.kind))
            return .redraw
        case .runsLoaded(let rows):
            return applyRuns(rows)
        case .learningCurveLoaded(let curve):
            guard runs.learningCurve != curve else { return .unchanged }
            runs.learningCurve = curve
            return screen == .runs ? .redraw : .unchanged
        case .runMetricsLoaded(let runID, let metrics):
            runs.metrics[runID] = metrics
            return screen == .runs ? .redraw : .unchanged
        case .predictionReady(let clipID, let prediction):
            clips.predictions[clipID] = .ready(prediction)
            return .redraw
        case .suggestionsLoaded(let suggestions):
            return applySuggestions(suggestions)
        case .runsChanged(let message, let modelMayHaveChanged):
            return applyRunsChanged(message, modelMayHaveChanged: modelMayHaveChanged)
        case .suggestionsFailed(let reason):
            show("The model's predictions could not be read: \(reason)", .warning)
            return .redraw
        case .predictionJob(let event):
            return applyPredictionJob(event)
        case .runValidationLoaded(let validation):
            return applyRunValidation(runID: validation.runID, .ready(validation))
        case .runValidationFailed(let runID, let reason):
            return applyRunValidation(runID: runID, .failed(reason))
        case .predictionFailed(let clipID, let reason):
            clips.predictions[clipID] = .failed(reason)
            show("No prediction: \(reason)", .warning, about: .clip(clipID))
            return .redraw
        }
    }

    // MARK: Keys

    /// Looks the key up in the keymaps (see `Keymap`), after the modes that take keys
    /// for themselves: a terminal too small to show anything, the help, the filter.
    private mutating func handleKey(_ key: Key) -> UpdateResult {
        if let binding = Keymap.binding(for: key, in: Keymap.everywhere), binding.worksInEveryMode {
            return binding.perform(&self, key)
        }
        if isTooSmall {
            // Nothing is visible to act on; only quitting makes sense.
            return key == .character("q") ? quit() : .unchanged
        }
        if showingHelp {
            showingHelp = false
            return .redraw
        }
        if clips.isEditingFilter {
            return editFilter(key)
        }
        if runs.editing != nil { return typeRunText(key) }
        if runs.deleteAsked != nil { return answerDelete(key) }
        let binding = Keymap.binding(for: key, in: Keymap.everywhere)
            ?? Keymap.binding(for: key, in: Keymap.bindings(for: screen))
        return binding?.perform(&self, key) ?? .unchanged
    }

    mutating func quit() -> UpdateResult {
        quitRequested = true
        return UpdateResult(redraw: false, effects: [.quit])
    }

    mutating func cycleTheme() -> UpdateResult {
        themeIndex = (themeIndex + 1) % themes.count
        show("Theme: \(theme.name)", .info)
        return UpdateResult(redraw: true, effects: [.saveTheme(name: theme.name)])
    }

    mutating func switchScreen(by step: Int) -> UpdateResult {
        let all = Screen.allCases
        let index = all.firstIndex(of: screen)!
        return switchScreen(to: (index + step + all.count) % all.count)
    }

    mutating func switchScreen(to index: Int) -> UpdateResult {
        let all = Screen.allCases
        guard all.indices.contains(index), all[index] != screen else { return .unchanged }
        screen = all[index]
        var result = UpdateResult.redraw
        switch screen {
        case .train: result.merge(requestEstimateIfNeeded())
        case .runs: result.effects.append(.loadRuns)
        case .clips, .model: break
        }
        return result
    }

    // MARK: Labels

    mutating func label(_ classIndex: Int) -> UpdateResult {
        guard let clip = clips.selectedClip else { return .unchanged }
        guard clip.isUsable else {
            let reason = clip.isMissing ? "the file is missing"
                : clip.unreadableReason ?? "it has not been opened yet; wait for the scan"
            show("\(clip.path) cannot be labelled: \(reason)", .warning, about: .clip(clip.id))
            return .redraw
        }
        let watched = max(0, clock - clips.selectedSince)
        return UpdateResult(effects: [.setLabel(clipID: clip.id, classIndex: classIndex, watchedSeconds: watched)])
    }

    mutating func clearLabel() -> UpdateResult {
        guard let clip = clips.selectedClip else { return .unchanged }
        guard clip.label != nil else {
            show("\(clip.path) has no label to clear", .info, about: .clip(clip.id))
            return .redraw
        }
        return UpdateResult(effects: [.clearLabel(clipID: clip.id)])
    }

    private mutating func applyCommittedLabel(clipID: ClipID, classIndex: Int?, cause: LabelCause) -> UpdateResult {
        guard let index = clips.clips.firstIndex(where: { $0.id == clipID }) else { return .unchanged }
        let selectedID = clips.selectedClip?.id
        clips.clips[index].label = classIndex
        clips.labelEdits += 1
        clips.labelEditedAt[clipID] = clips.labelEdits
        let path = clips.clips[index].path
        // The label filter and the disagreement order depend on labels.
        recomputeVisible(keeping: selectedID)
        var result = UpdateResult.redraw
        switch cause {
        case .label:
            if selectedID == clipID, let position = clips.visible.firstIndex(of: index) {
                result.merge(moveSelection(to: position + 1))
            }
        case .clear:
            break
        case .undo:
            let name = classIndex.map { classes.indices.contains($0) ? classes[$0].name : "class \($0 + 1)" }
            show("Undone: \(path) is \(name ?? "unlabelled") again", .info)
            if let position = clips.visible.firstIndex(of: index) {
                result.merge(moveSelection(to: position))
            }
        }
        // When the filter hid the labelled clip, the row under the selection is a new clip.
        result.merge(requestPreviewIfNeeded())
        return result
    }

    mutating func selectNextUnlabelled() -> UpdateResult {
        let count = clips.visible.count
        guard count > 0 else { return .unchanged }
        for offset in 1...count {
            let position = (clips.selection + offset) % count
            let clip = clips.clips[clips.visible[position]]
            if clip.label == nil && clip.isUsable {
                return moveSelection(to: position)
            }
        }
        show("Every clip in the list is labelled", .info)
        return .redraw
    }

    // MARK: Selection and scrolling

    /// Selects the row at `position` (clamped), restarting its playback.
    mutating func moveSelection(to position: Int) -> UpdateResult {
        let clamped = max(0, min(position, clips.visible.count - 1))
        guard !clips.visible.isEmpty, clamped != clips.selection else {
            return scrollToSelection() ? .redraw : .unchanged
        }
        clips.selection = clamped
        selectionChanged()
        var result = UpdateResult.redraw
        result.merge(requestPreviewIfNeeded())
        return result
    }

    private mutating func selectionChanged() {
        scrollToSelection()
        clips.selectedSince = clock
        clips.playback.position = 0
        clips.playback.frameIndex = 0
    }

    /// Scrolls the list so the selection is on screen; true if it scrolled.
    @discardableResult
    mutating func scrollToSelection() -> Bool {
        let top = ListScroll.top(from: clips.scrollTop, showing: clips.selection, rows: layout.listRows,
                                 count: clips.visible.count)
        defer { clips.scrollTop = top }
        return top != clips.scrollTop
    }

    /// Asks for the selected clip's preview when it is not already shown or coming.
    mutating func requestPreviewIfNeeded() -> UpdateResult {
        guard !isTooSmall, let request = previewRequest(forPosition: clips.selection) else {
            if clips.preview != .none {
                clips.preview = .none
                return .redraw
            }
            return .unchanged
        }
        guard clips.preview.request != request else { return .unchanged }
        clips.preview = .loading(request)
        return UpdateResult(redraw: true, effects: [.loadPreview(request)])
    }

    /// The preview of the clip at `position` in the list at the current size, if it has one.
    private func previewRequest(forPosition position: Int) -> PreviewRequest? {
        guard clips.visible.indices.contains(position) else { return nil }
        let clip = clips.clips[clips.visible[position]]
        guard clip.isUsable else { return nil }
        let pixels = layout.previewPixels(clipWidth: clip.width, clipHeight: clip.height)
        return PreviewRequest(clipID: clip.id, url: clip.url, width: pixels.width, height: pixels.height,
                              showsMotion: clips.showsMotion)
    }

    /// Switches the preview between the clip's frames and its motion.
    mutating func toggleMotionPreview() -> UpdateResult {
        clips.showsMotion.toggle()
        show(clips.showsMotion ? "Preview: motion (hue: which way, brightness: how fast)" : "Preview: frames", .info,
             about: .none)
        var result = UpdateResult.redraw
        result.merge(requestPreviewIfNeeded())
        return result
    }

    // MARK: The clip list and the filter

    private mutating func mergeClips(_ rows: [ClipRow]) -> UpdateResult {
        guard !rows.isEmpty else { return .unchanged }
        let selectedID = clips.selectedClip?.id
        var positionByID: [ClipID: Int] = [:]
        positionByID.reserveCapacity(clips.clips.count)
        for (i, clip) in clips.clips.enumerated() { positionByID[clip.id] = i }
        var added = false
        for row in rows {
            if let i = positionByID[row.id] {
                clips.clips[i] = row
            } else {
                positionByID[row.id] = clips.clips.count
                clips.clips.append(row)
                added = true
            }
        }
        if added { clips.clips.sort { $0.path < $1.path } }
        recomputeVisible(keeping: selectedID)
        var result = UpdateResult.redraw
        result.merge(requestPreviewIfNeeded())
        return result
    }

    /// Takes in `rows` as the database held them when this app had made `labelEdits`
    /// label changes. What this app learnt after that reading stays: a label changed here
    /// since, and what its own scan found since (a clip probed, a clip added).
    private mutating func applyReloadedClips(_ rows: [ClipRow], readAfterLabelEdits labelEdits: Int) -> UpdateResult {
        var onScreen: [ClipID: ClipRow] = [:]
        onScreen.reserveCapacity(clips.clips.count)
        for clip in clips.clips { onScreen[clip.id] = clip }
        var changed: [ClipRow] = []
        for var row in rows {
            if let current = onScreen[row.id] {
                if !row.isProbed && current.isProbed {
                    let label = row.label
                    row = current
                    row.label = label
                }
                if let editedAt = clips.labelEditedAt[row.id], editedAt > labelEdits { row.label = current.label }
                if row == current { continue }
            }
            changed.append(row)
        }
        return mergeClips(changed)
    }

    /// Rebuilds the filtered rows, keeping the clip `selectedID` selected if it is still
    /// listed; otherwise the row at the same position, or the first row when
    /// `elseFirstRow` (a new filter: the old position means nothing in the new list).
    mutating func recomputeVisible(keeping selectedID: ClipID?, elseFirstRow: Bool = false) {
        clips.visible = clips.options.visible(clips.clips, classNames: classes.map(\.name), suggestions: clips.suggestions)
        if let selectedID, let position = clips.visible.firstIndex(where: { clips.clips[$0].id == selectedID }) {
            clips.selection = position
        } else {
            clips.selection = elseFirstRow ? 0 : max(0, min(clips.selection, clips.visible.count - 1))
            if clips.selectedClip?.id != selectedID { selectionChanged() }
        }
        scrollToSelection()
    }

    private mutating func editFilter(_ key: Key) -> UpdateResult {
        switch key {
        case .enter:
            clips.isEditingFilter = false
            return .redraw
        case .escape:
            clips.isEditingFilter = false
            return setFilter("")
        case .backspace, .delete:
            if clips.filter.isEmpty {
                clips.isEditingFilter = false
                return .redraw
            }
            return setFilter(String(clips.filter.dropLast()))
        case .up: return moveSelection(to: clips.selection - 1)
        case .down: return moveSelection(to: clips.selection + 1)
        case .character(let c) where !c.isNewline:
            return setFilter(clips.filter + String(c))
        default:
            return .unchanged
        }
    }

    mutating func startFilter() -> UpdateResult {
        clips.isEditingFilter = true
        return .redraw
    }

    mutating func setFilter(_ text: String) -> UpdateResult {
        changeListOptions { $0.name = text }
    }

    /// Changes the filters or the order and rebuilds the list: the selected clip stays
    /// selected when it is still listed, else the first row is.
    mutating func changeListOptions(_ change: (inout ClipListOptions) -> Void) -> UpdateResult {
        let selectedID = clips.selectedClip?.id
        change(&clips.options)
        recomputeVisible(keeping: selectedID, elseFirstRow: true)
        var result = UpdateResult.redraw
        result.merge(requestPreviewIfNeeded())
        return result
    }

    // MARK: Playback

    mutating func togglePlayback() -> UpdateResult {
        clips.playback.isPlaying.toggle()
        return .redraw
    }

    mutating func changeSpeed(by step: Int) -> UpdateResult {
        let speeds = Playback.speeds
        let current = speeds.firstIndex(of: clips.playback.speed) ?? speeds.firstIndex(of: 1)!
        let next = max(0, min(speeds.count - 1, current + step))
        guard next != current else {
            show("Speed is already \(Self.speedText(speeds[next]))", .info, about: .speed(speeds[next]))
            return .redraw
        }
        clips.playback.speed = speeds[next]
        return .redraw
    }

    mutating func stepFrame(by step: Int) -> UpdateResult {
        clips.playback.isPlaying = false
        guard case .ready(_, let frames) = clips.preview else { return .redraw }
        let index = (clips.playback.frameIndex + step + frames.count) % frames.count
        clips.playback.frameIndex = index
        clips.playback.position = frames[index].timestamp
        return .redraw
    }

    private mutating func tick(now: Double) -> UpdateResult {
        // Cap the step so a stall (a slow disk, a suspended process) does not jump the video.
        let elapsed = min(max(0, now - clock), 0.25)
        clock = now
        var result = UpdateResult.unchanged
        if now - lastOutsideCheck >= Self.outsideCheckInterval {
            lastOutsideCheck = now
            result.effects.append(.checkOutsideChanges(labelEdits: clips.labelEdits))
        }
        if let message, now - message.shownAt > message.lifetime {
            self.message = nil
            result.redraw = true
        }
        guard clips.playback.isPlaying, case .ready(_, let frames) = clips.preview, frames.count > 1 else {
            return result
        }
        let length = Self.playLength(of: frames)
        var position = clips.playback.position + elapsed * clips.playback.speed
        if position >= length { position = position.truncatingRemainder(dividingBy: length) }
        clips.playback.position = position
        let index = Self.frameIndex(at: position, in: frames)
        if index != clips.playback.frameIndex {
            clips.playback.frameIndex = index
            result.redraw = true
        }
        return result
    }

    /// Seconds between looks for changes other processes made to the project.
    static let outsideCheckInterval: Double = 1

    /// A clip plays until its last frame has been shown for one frame interval.
    static func playLength(of frames: [PreviewImage]) -> Double {
        guard let last = frames.last else { return 0 }
        let interval = frames.count > 1 ? (last.timestamp - frames[0].timestamp) / Double(frames.count - 1) : 0.04
        return last.timestamp + max(interval, 0.001)
    }

    /// The last frame whose timestamp is at or before `position`.
    static func frameIndex(at position: Double, in frames: [PreviewImage]) -> Int {
        var low = 0, high = frames.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if frames[mid].timestamp <= position { low = mid } else { high = mid - 1 }
        }
        return max(0, low)
    }

    static func speedText(_ speed: Double) -> String {
        String(format: "%.2gx", speed)
    }

    mutating func show(_ text: String, _ kind: StatusMessage.Kind, about subject: StatusMessage.Subject = .none) {
        message = StatusMessage(text: text, kind: kind, subject: subject, shownAt: clock)
    }
}
