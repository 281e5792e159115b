import ActionStore
import Foundation
import Training

/// One recorded run as the Runs screen lists it.
public struct RunRow: Sendable, Equatable {
    public var id: Int64
    /// When it started, already formatted ("2026-11-28 07:15", local time).
    public var started: String
    /// The settings in a few words: "quick 16x48x48x1 16/8/8 d64 b8".
    public var settingsText: String
    /// Epochs completed, of those asked for.
    public var epochs: Int
    public var plannedEpochs: Int?
    public var bestValidationAccuracy: Double?
    public var durationSeconds: Double
    public var status: RunStatus
    public var statusDetail: String?
    /// True when it has a last checkpoint to resume from.
    public var canResume: Bool
    /// Why resuming it would make no sense, when its training has ended by its own rules
    /// (all its epochs ran, or early stopping ended it); nil when it can go on.
    public var nothingToResume: String? {
        switch status {
        case .completed: "it completed all its epochs"
        case .earlyStopped: "early stopping ended it"
        case .running, .stopped, .failed, .interrupted:
            plannedEpochs.map { epochs >= $0 ? "it completed all its epochs" : nil } ?? nil
        }
    }
    public var bestCheckpoint: URL?
    /// The user's name and note for the run (n, N); nil until given.
    public var name: String?
    public var note: String?
    public var learningRate: Float?
    /// What the network sees and learns with: "motion · global max pool · crop+shift".
    public var recipe: String
    /// Where its files are, as recorded (relative to the project folder when inside it).
    public var checkpointPath: String?
    public var metricsPath: String?
    /// Its best checkpoint is the pinned one (p).
    public var isPinned: Bool
    /// Its checkpoint is the project's current model, whose predictions the Clips list shows.
    public var isCurrentModel: Bool

    /// "run 3" until the user names it.
    public var displayName: String { name.map { $0.isEmpty ? "run \(id)" : $0 } ?? "run \(id)" }

    public init(id: Int64, started: String, settingsText: String, epochs: Int, plannedEpochs: Int?,
                bestValidationAccuracy: Double?, durationSeconds: Double, status: RunStatus,
                statusDetail: String? = nil, canResume: Bool, bestCheckpoint: URL? = nil, name: String? = nil,
                note: String? = nil, learningRate: Float? = nil, recipe: String = "", checkpointPath: String? = nil,
                metricsPath: String? = nil, isPinned: Bool = false, isCurrentModel: Bool = false) {
        self.id = id
        self.started = started
        self.settingsText = settingsText
        self.epochs = epochs
        self.plannedEpochs = plannedEpochs
        self.bestValidationAccuracy = bestValidationAccuracy
        self.durationSeconds = durationSeconds
        self.status = status
        self.statusDetail = statusDetail
        self.canResume = canResume
        self.bestCheckpoint = bestCheckpoint
        self.name = name
        self.note = note
        self.learningRate = learningRate
        self.recipe = recipe
        self.checkpointPath = checkpointPath
        self.metricsPath = metricsPath
        self.isPinned = isPinned
        self.isCurrentModel = isCurrentModel
    }

    /// The row for a run record of the project at `layout`; `pinned` is the recorded path
    /// of the pinned checkpoint, `currentModelRunID` the run of the project's model.
    public init(_ record: RunRecord, layout: ProjectLayout, pinned: String? = nil, currentModelRunID: Int64? = nil) {
        let settings = try? JSONDecoder().decode(TrainingSettings.self, from: Data(record.settingsJSON.utf8))
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        self.init(id: record.id, started: formatter.string(from: record.startedAt),
                  settingsText: settings.map(Self.describe) ?? "(settings unreadable)",
                  epochs: record.epochs, plannedEpochs: settings?.epochs,
                  bestValidationAccuracy: record.bestValAccuracy, durationSeconds: record.durationSeconds,
                  status: record.status, statusDetail: record.statusDetail,
                  canResume: record.lastCheckpointPath != nil && record.status != .running,
                  bestCheckpoint: record.bestCheckpointPath.map { RunFiles.resolve($0, in: layout) },
                  name: record.name, note: record.note, learningRate: settings?.learningRate,
                  recipe: settings.map(Self.recipe) ?? "",
                  checkpointPath: record.bestCheckpointPath ?? record.lastCheckpointPath,
                  metricsPath: RunFiles.recordedPath(RunFiles.directory(runID: record.id, in: layout)
                      .appendingPathComponent("metrics.csv"), in: layout),
                  isPinned: pinned != nil && (pinned == record.bestCheckpointPath || pinned == record.lastCheckpointPath),
                  isCurrentModel: currentModelRunID == record.id)
    }

    /// "motion · global max pool · crop+shift": the choices that tell runs of one preset
    /// apart (" · bf16" after them for a run whose products were bfloat16).
    public static func recipe(_ settings: TrainingSettings) -> String {
        let augmentations = settings.augmentation.enabledNames
        return settings.input.rawValue.replacingOccurrences(of: "_", with: " ") + " · "
            + settings.head.rawValue.replacingOccurrences(of: "_", with: " ") + " · "
            + (augmentations.isEmpty ? "no aug." : augmentations.joined(separator: "+"))
            + (settings.precision == .bf16 ? " · bf16" : "")
    }

    /// "quick 16x48x48x1 16/8/8 d64 b8"
    public static func describe(_ settings: TrainingSettings) -> String {
        let m = settings.model
        return "\(settings.preset ?? "custom") \(m.frames)x\(m.height)x\(m.width)x\(m.channels) "
            + m.filters.map(String.init).joined(separator: "/") + " d\(m.denseUnits) b\(settings.batchSize)"
    }
}

/// The Runs screen: every recorded run, the selected one's curves and a second run
/// marked to overlay its curves on them.
public struct RunsState: Sendable, Equatable {
    public internal(set) var rows: [RunRow] = []
    public internal(set) var selection = 0
    public internal(set) var scrollTop = 0
    /// The run whose curves are drawn over the selected one's.
    public internal(set) var markedID: Int64?
    /// Per-epoch metrics of the runs looked at so far.
    public internal(set) var metrics: [Int64: [EpochMetrics]] = [:]
    public internal(set) var isLoaded = false
    /// The latest `actionlab train-curve` result: whether more labels are likely to help.
    public internal(set) var learningCurve: LearningCurve.Result?
    /// The cell selected in the selected run's confusion matrix (x), nil when none is.
    public internal(set) var confusionCell: ConfusionCell?
    /// The name or note being typed (n, N), nil when none is.
    public internal(set) var editing: RunTextEdit?
    /// The run D asked to delete, waiting for y.
    public internal(set) var deleteAsked: Int64?

    public var selectedRow: RunRow? { rows.indices.contains(selection) ? rows[selection] : nil }
}

/// A run's name or note as it is being typed.
public struct RunTextEdit: Sendable, Equatable {
    public enum Field: Sendable { case name, note }
    public var runID: Int64
    public var field: Field
    public var text: String
}

/// The best checkpoint's answer for one clip, as the preview pane shows it.
public struct ClipPrediction: Sendable, Equatable {
    public var label: String
    public var probability: Float
    /// The run whose checkpoint answered.
    public var runID: Int64?
    /// The model's name, shown beside its answer ("run 3").
    public var modelName: String?

    public init(label: String, probability: Float, runID: Int64?, modelName: String? = nil) {
        self.label = label
        self.probability = probability
        self.runID = runID
        self.modelName = modelName
    }
}

public enum PredictionStatus: Sendable, Equatable {
    case pending
    case ready(ClipPrediction)
    case failed(String)
}

/// Where the Runs screen's parts go: the list on top, the two charts below.
struct RunsLayout {
    let width: Int
    let height: Int

    var listTop: Int { 1 }
    /// The list takes about two fifths of the body, at least 6 rows.
    var listHeight: Int { max(6, (height - 2) * 2 / 5) }
    /// Inside the box: the header, the runs, and three lines on the selected run: its
    /// settings and ending in full, its note, its files.
    var listRows: Int { max(1, listHeight - 6) }
    var detailRow: Int { listTop + listHeight - 4 }
    var chartsTop: Int { listTop + listHeight }
    var chartsHeight: Int { max(0, height - 1 - chartsTop) }
    var hintRow: Int { height - 1 }
    /// The confusion box beside the charts: as wide as the Train screen's.
    static let confusionWidth = 34
}

extension AppState {
    var runsLayout: RunsLayout { RunsLayout(width: width, height: height) }

    /// m: marks the selected run to overlay its curves (again: unmarks it).
    mutating func toggleRunMark() -> UpdateResult {
        guard let row = runs.selectedRow else { return .unchanged }
        runs.markedID = runs.markedID == row.id ? nil : row.id
        var result = UpdateResult.redraw
        if let marked = runs.markedID, runs.metrics[marked] == nil {
            result.effects.append(.loadRunMetrics(runID: marked))
        }
        return result
    }

    /// r: continues the selected run from its last checkpoint, on the Train screen.
    mutating func resumeSelectedRun() -> UpdateResult {
        guard let row = runs.selectedRow else { return .unchanged }
        guard !training.phase.isActive else {
            show("A run is in progress: stop it (s on the Train screen) before resuming another", .warning,
                 about: .trainingPhase(training.phase.kind))
            return .redraw
        }
        if let reason = row.nothingToResume {
            show("Run \(row.id) has nothing to resume: \(reason)", .info, about: .run(row.id))
            return .redraw
        }
        guard row.canResume else {
            show("Run \(row.id) has no checkpoint to resume from", .warning, about: .run(row.id))
            return .redraw
        }
        training.clearRun()
        training.phase = .starting
        screen = .train
        show("Resuming run \(row.id) from its last checkpoint…", .info, about: .trainingPhase(.starting))
        return UpdateResult(redraw: true, effects: [.resumeRun(runID: row.id)])
    }

    mutating func moveRunSelection(to position: Int) -> UpdateResult {
        guard !runs.rows.isEmpty else { return .unchanged }
        let clamped = max(0, min(position, runs.rows.count - 1))
        guard clamped != runs.selection else { return .unchanged }
        runs.selection = clamped
        scrollRunsToSelection()
        var effects = metricsEffect()
        if runs.confusionCell != nil, let row = runs.selectedRow { effects += requestValidation(runID: row.id) }
        return UpdateResult(redraw: true, effects: effects)
    }

    private mutating func scrollRunsToSelection() {
        runs.scrollTop = ListScroll.top(from: runs.scrollTop, showing: runs.selection, rows: runsLayout.listRows,
                                        count: runs.rows.count)
    }

    /// Loads the selected run's metrics when they are not known yet.
    private func metricsEffect() -> [Effect] {
        guard let row = runs.selectedRow, runs.metrics[row.id] == nil || row.status == .running else { return [] }
        return [.loadRunMetrics(runID: row.id)]
    }

    mutating func applyRuns(_ rows: [RunRow]) -> UpdateResult {
        let selectedID = runs.selectedRow?.id
        // A run trained or pinned elsewhere (the command line) can make another model current.
        let modelChanged = runs.isLoaded && rows.first(where: \.isCurrentModel)?.id != runs.rows.first(where: \.isCurrentModel)?.id
        runs.rows = rows
        runs.isLoaded = true
        runs.selection = selectedID.flatMap { id in rows.firstIndex { $0.id == id } } ?? 0
        if let marked = runs.markedID, !rows.contains(where: { $0.id == marked }) { runs.markedID = nil }
        // Runs that changed since their metrics were read are read again.
        for row in rows where row.status == .running || runs.metrics[row.id]?.count != row.epochs {
            runs.metrics[row.id] = nil
        }
        scrollRunsToSelection()
        var effects = metricsEffect()
        if let marked = runs.markedID, runs.metrics[marked] == nil { effects.append(.loadRunMetrics(runID: marked)) }
        if modelChanged { effects += predictClipsEffects() }
        return UpdateResult(redraw: true, effects: effects)
    }

    // MARK: Names, notes, the current model, deleting

    /// n, N: starts typing the selected run's name or note (Enter saves, Esc cancels).
    mutating func editRunText(_ field: RunTextEdit.Field) -> UpdateResult {
        guard let row = runs.selectedRow else { return .unchanged }
        runs.editing = RunTextEdit(runID: row.id, field: field, text: (field == .name ? row.name : row.note) ?? "")
        return .redraw
    }

    /// Keys while a name or note is typed.
    mutating func typeRunText(_ key: Key) -> UpdateResult {
        guard var edit = runs.editing else { return .unchanged }
        switch key {
        case .enter:
            runs.editing = nil
            guard let row = runs.rows.first(where: { $0.id == edit.runID }) else { return .redraw }
            let text = edit.text.trimmingCharacters(in: .whitespaces)
            let name = edit.field == .name ? text : row.name, note = edit.field == .note ? text : row.note
            return UpdateResult(redraw: true, effects: [.describeRun(runID: edit.runID, name: name, note: note)])
        case .escape:
            runs.editing = nil
        case .backspace, .delete:
            guard !edit.text.isEmpty else { return .unchanged }
            edit.text.removeLast()
            runs.editing = edit
        case .character(let c) where !c.isNewline:
            guard edit.text.count < Self.runTextLimit else { return .unchanged }
            edit.text.append(c)
            runs.editing = edit
        default:
            return .unchanged
        }
        return .redraw
    }

    /// Longest name or note typed here.
    static let runTextLimit = 200

    /// p: the selected run's checkpoint becomes the project's model (pinned); p on the
    /// pinned run unpins it (the latest run's best checkpoint is the model again).
    mutating func togglePin() -> UpdateResult {
        guard let row = runs.selectedRow else { return .unchanged }
        if row.isPinned { return UpdateResult(effects: [.pinCheckpoint(nil)]) }
        guard let path = row.checkpointPath else {
            show("\(row.displayName) has no checkpoint to pin", .warning, about: .run(row.id))
            return .redraw
        }
        return UpdateResult(effects: [.pinCheckpoint(path)])
    }

    /// D: asks to delete the selected run; y then deletes it with its files.
    mutating func askToDeleteRun() -> UpdateResult {
        guard let row = runs.selectedRow else { return .unchanged }
        guard row.status != .running else {
            show("\(row.displayName) is running: stop it (s on the Train screen) before deleting it", .warning,
                 about: .run(row.id))
            return .redraw
        }
        runs.deleteAsked = row.id
        return .redraw
    }

    /// The key after D: y deletes, any other keeps the run.
    mutating func answerDelete(_ key: Key) -> UpdateResult {
        guard let id = runs.deleteAsked else { return .unchanged }
        runs.deleteAsked = nil
        guard key == .character("y") else {
            show("Run \(id) kept", .info)
            return .redraw
        }
        runs.markedID = runs.markedID == id ? nil : runs.markedID
        return UpdateResult(redraw: true, effects: [.deleteRun(runID: id)])
    }

    /// A run renamed, pinned, unpinned or deleted: the list, and the model's predictions
    /// when the project's model may have changed.
    mutating func applyRunsChanged(_ message: String, modelMayHaveChanged: Bool) -> UpdateResult {
        show(message, .info)
        return UpdateResult(redraw: true, effects: [.loadRuns] + (modelMayHaveChanged ? predictClipsEffects() : []))
    }

    // MARK: Predictions

    mutating func predictSelectedClip() -> UpdateResult {
        guard let clip = clips.selectedClip else { return .unchanged }
        guard clip.isUsable else {
            show("\(clip.path) cannot be read, so it cannot be predicted", .warning, about: .clip(clip.id))
            return .redraw
        }
        if clips.predictions[clip.id] == .pending { return .unchanged }
        clips.predictions[clip.id] = .pending
        return UpdateResult(redraw: true, effects: [.predict(clipID: clip.id, url: clip.url)])
    }
}
