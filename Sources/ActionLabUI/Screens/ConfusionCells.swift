import Foundation
import Training

/// A cell of a confusion matrix: the validation clips of class `truth` predicted as `predicted`.
public struct ConfusionCell: Sendable, Equatable, Hashable {
    public var truth: Int
    public var predicted: Int

    public init(truth: Int, predicted: Int) {
        self.truth = truth
        self.predicted = predicted
    }
}

/// One validation clip of a run, as the run's best checkpoint classifies it.
public struct ValidationClip: Sendable, Equatable {
    public var clipID: ClipID
    /// The clip's label (class index) now.
    public var truth: Int
    public var predicted: Int

    public init(clipID: ClipID, truth: Int, predicted: Int) {
        self.clipID = clipID
        self.truth = truth
        self.predicted = predicted
    }
}

/// A run's validation clips classified by its best checkpoint.
public struct RunValidation: Sendable, Equatable {
    public var runID: Int64
    /// Epochs in the best checkpoint's weights, when known.
    public var bestEpoch: Int?
    public var clips: [ValidationClip]
    /// Validation clips left out: no longer labelled, unreadable, or of a class the
    /// checkpoint does not know.
    public var skipped: Int

    public init(runID: Int64, bestEpoch: Int?, clips: [ValidationClip], skipped: Int) {
        self.runID = runID
        self.bestEpoch = bestEpoch
        self.clips = clips
        self.skipped = skipped
    }

    /// The matrix of `classes` classes these clips make.
    public func confusion(classes: Int) -> ConfusionMatrix {
        var matrix = ConfusionMatrix(classes: classes)
        for clip in clips where clip.truth < classes && clip.predicted < classes && clip.truth >= 0 && clip.predicted >= 0 {
            matrix.add(truth: clip.truth, predicted: clip.predicted)
        }
        return matrix
    }

    public func clipIDs(in cell: ConfusionCell) -> Set<ClipID> {
        Set(clips.filter { $0.truth == cell.truth && $0.predicted == cell.predicted }.map(\.clipID))
    }
}

public enum ValidationStatus: Sendable, Equatable {
    case pending
    case ready(RunValidation)
    case failed(String)
}

/// A confusion cell whose clips were asked for before the run's validation was known:
/// the Clips list opens on them when it arrives.
public struct ConfusionOpening: Sendable, Equatable {
    public var runID: Int64
    public var cell: ConfusionCell
}

extension AppState {
    // MARK: Confusion matrix cells (Train and Runs screens)

    /// The run whose matrix the screen shows, and the cell selected in it (nil: not
    /// selecting a cell).
    var confusionCell: ConfusionCell? {
        switch screen {
        case .train: training.confusionCell
        case .runs: runs.confusionCell
        case .clips, .model: nil
        }
    }

    /// True when the screen shows a confusion matrix whose cells can be selected.
    var hasConfusionMatrix: Bool {
        switch screen {
        case .train: training.selectableEpoch?.confusion != nil
        case .runs: runs.selectedRow?.bestCheckpoint != nil
        case .clips, .model: false
        }
    }

    /// The classes of the matrix the screen shows, or nil when it shows none.
    private var confusionClassCount: Int? {
        switch screen {
        case .train: training.selectableEpoch?.confusion?.classes
        case .runs: classes.isEmpty ? nil : classes.count
        case .clips, .model: nil
        }
    }

    /// The run the screen's matrix is of.
    private var confusionRunID: Int64? {
        switch screen {
        case .train: training.run?.runID
        case .runs: runs.selectedRow?.id
        case .clips, .model: nil
        }
    }

    private mutating func setConfusionCell(_ cell: ConfusionCell?) {
        switch screen {
        case .train: training.confusionCell = cell
        case .runs: runs.confusionCell = cell
        case .clips, .model: break
        }
    }

    /// x: starts selecting a cell of the confusion matrix (the most confused one first);
    /// x again, or Esc, stops.
    mutating func toggleConfusionSelection(_ key: Key) -> UpdateResult {
        if confusionCell != nil {
            setConfusionCell(nil)
            return .redraw
        }
        guard key != .escape else { return .unchanged }
        guard hasConfusionMatrix, let count = confusionClassCount, count > 0 else {
            show(screen == .runs ? "This run has no best checkpoint: no epoch of it ended with validation clips"
                 : "No confusion matrix yet: it appears after the first epoch with validation clips", .info)
            return .redraw
        }
        var effects: [Effect] = []
        var start = ConfusionCell(truth: 0, predicted: 0)
        if screen == .train, let matrix = training.selectableEpoch?.confusion {
            start = Self.mostConfused(matrix) ?? start
        }
        if screen == .runs {
            guard let row = runs.selectedRow else { return .unchanged }
            effects += requestValidation(runID: row.id)
            if case .ready(let validation) = validations[row.id] {
                start = Self.mostConfused(validation.confusion(classes: count)) ?? start
            }
        }
        setConfusionCell(start)
        return UpdateResult(redraw: true, effects: effects)
    }

    /// The off-diagonal cell with the most clips, if any has some.
    static func mostConfused(_ matrix: ConfusionMatrix) -> ConfusionCell? {
        var best: (cell: ConfusionCell, count: Int)?
        for t in 0..<matrix.classes {
            for p in 0..<matrix.classes where p != t && matrix[t, p] > (best?.count ?? 0) {
                best = (ConfusionCell(truth: t, predicted: p), matrix[t, p])
            }
        }
        return best?.cell
    }

    /// Arrows while a cell is selected: ↑ ↓ change the true class, ← → the predicted one.
    mutating func moveConfusionCell(_ key: Key) -> UpdateResult {
        guard var cell = confusionCell, let count = confusionClassCount, count > 0 else { return .unchanged }
        switch key {
        case .up, .character("k"): cell.truth = max(0, cell.truth - 1)
        case .down, .character("j"): cell.truth = min(count - 1, cell.truth + 1)
        case .left, .character("h"): cell.predicted = max(0, cell.predicted - 1)
        case .right, .character("l"): cell.predicted = min(count - 1, cell.predicted + 1)
        default: return .unchanged
        }
        guard cell != confusionCell else { return .unchanged }
        setConfusionCell(cell)
        return .redraw
    }

    /// Enter on a cell: the Clips list of those validation clips, as the run's best
    /// checkpoint classifies them (worked out in the background the first time).
    mutating func openConfusionCell() -> UpdateResult {
        guard let cell = confusionCell else { return .unchanged }
        guard let runID = confusionRunID else {
            show("This run is not recorded in the project, so its validation clips are unknown", .warning)
            return .redraw
        }
        if case .ready(let validation) = validations[runID] {
            return showClips(of: validation, cell: cell)
        }
        confusionOpening = ConfusionOpening(runID: runID, cell: cell)
        show("Classifying run \(runID)'s validation clips with its best checkpoint…", .info)
        return UpdateResult(redraw: true, effects: requestValidation(runID: runID))
    }

    mutating func requestValidation(runID: Int64) -> [Effect] {
        switch validations[runID] {
        case .pending, .ready: return []
        case .failed, nil:
            validations[runID] = .pending
            return [.loadRunValidation(runID: runID)]
        }
    }

    private mutating func showClips(of validation: RunValidation, cell: ConfusionCell) -> UpdateResult {
        let names = classes.map(\.name)
        func name(_ i: Int) -> String { names.indices.contains(i) ? names[i] : "class \(i + 1)" }
        let epoch = validation.bestEpoch.map { " e\($0)" } ?? ""
        let title = "run \(validation.runID)\(epoch) validation: \(name(cell.truth)) as \(name(cell.predicted))"
        let ids = validation.clipIDs(in: cell)
        confusionOpening = nil
        screen = .clips
        var result = changeListOptions { options in
            options = ClipListOptions()
            options.clipSet = ClipSet(title: title, ids: ids)
        }
        if ids.isEmpty {
            show("No validation clip of \(name(cell.truth)) is predicted as \(name(cell.predicted)) by the best checkpoint",
                 .info)
        }
        result.redraw = true
        return result
    }

    /// A run's validation classified (or why not).
    mutating func applyRunValidation(runID: Int64, _ status: ValidationStatus) -> UpdateResult {
        validations[runID] = status
        guard let opening = confusionOpening, opening.runID == runID else { return .redraw }
        switch status {
        case .ready(let validation):
            return showClips(of: validation, cell: opening.cell)
        case .failed(let reason):
            confusionOpening = nil
            show("Run \(runID)'s validation clips: \(reason)", .warning)
            return .redraw
        case .pending:
            return .unchanged
        }
    }

    /// A best checkpoint written again makes what it said before out of date.
    mutating func forgetValidation(runID: Int64) {
        validations[runID] = nil
    }
}
