import ActionStore
import Foundation
import Training

/// Why a clip's label changed, which decides where the selection goes next.
public enum LabelCause: Sendable, Equatable {
    /// A class key: the selection moves on to the next clip.
    case label
    /// 0 or Backspace.
    case clear
    /// u: the selection jumps to the clip whose label was restored.
    case undo
}

/// Everything that can change the app's state.
public enum AppEvent: Sendable, Equatable {
    case key(Key)
    /// Ctrl-C or kill: quit as `q` does, whatever the screen is doing (help shown,
    /// a filter being typed, a terminal too small).
    case quit
    /// The main loop's heartbeat; `now` is seconds on a monotonic clock.
    case tick(now: Double)
    case resize(width: Int, height: Int)
    /// New or changed clips from the project scan (matched by id).
    case clipsChanged([ClipRow])
    case scanProgress(ScanStatus)
    /// Every clip as the database holds it now, read because another process changed
    /// the project. `labelEdits` is the app's count of label changes when the check was
    /// asked for: labels changed here since then are newer than the list's.
    case clipsReloaded([ClipRow], labelEdits: Int)
    /// A label change is committed to the database; only now is it shown.
    case labelCommitted(clipID: ClipID, classIndex: Int?, cause: LabelCause)
    /// Nothing to undo, or a write failed: shown in the status line.
    case labelNotChanged(String)
    case previewLoaded(PreviewRequest, [PreviewImage])
    case previewFailed(PreviewRequest, String)
    /// A problem found outside `update` (theme file, preferences) to show.
    case warning(String)
    /// What the background trainer reports, in its order.
    case training(TrainingEvent)
    /// The time and memory a run of these settings would take (or why it is unknown).
    case estimateReady(EstimateRequest, TrainingEstimate)
    case estimateFailed(EstimateRequest, String)
    /// A run could not be started or resumed (the message names the problem).
    case trainingNotStarted(String)
    /// The project's recorded runs, newest first.
    case runsLoaded([RunRow])
    /// The learning curve `actionlab train-curve` kept, nil when there is none.
    case learningCurveLoaded(LearningCurve.Result?)
    case runMetricsLoaded(runID: Int64, [EpochMetrics])
    /// The best checkpoint's answer for a clip (P on the Clips screen).
    case predictionReady(clipID: ClipID, ClipPrediction)
    case predictionFailed(clipID: ClipID, String)
    /// The project's current model and its stored predictions (all of them, read again
    /// whenever more are stored).
    case suggestionsLoaded(ModelSuggestions)
    case suggestionsFailed(String)
    /// A run was renamed, pinned, unpinned or deleted (the message says which).
    case runsChanged(String, modelMayHaveChanged: Bool)
    /// What the background job predicting clips with the current model reports.
    case predictionJob(PredictionEvent)
    /// A run's validation clips classified by its best checkpoint (a confusion cell's clips).
    case runValidationLoaded(RunValidation)
    case runValidationFailed(runID: Int64, String)
}

/// Work `update` asks the app to do: database writes, decoding, saving settings.
/// Their results come back as events.
public enum Effect: Sendable, Equatable {
    case setLabel(clipID: ClipID, classIndex: Int, watchedSeconds: Double)
    case clearLabel(clipID: ClipID)
    case undoLastLabel
    case loadPreview(PreviewRequest)
    /// Decode a preview ahead of need (the clip that labelling moves to next) and keep
    /// it cached; nothing is posted.
    case prefetchPreview(PreviewRequest)
    case saveTheme(name: String)
    /// Measure this machine's speed and estimate a run of these settings (in the background).
    case estimateTraining(EstimateRequest)
    /// Start a new run of these settings on the project's labelled clips.
    case startTraining(TrainingSettings)
    case pauseTraining
    case resumeTraining
    /// Finish the batch, save the last checkpoint and end the run.
    case stopTraining
    /// Continue a recorded run from its last checkpoint.
    case resumeRun(runID: Int64)
    /// Read the recorded runs (and then the metrics of `metricsOf`).
    case loadRuns
    case loadRunMetrics(runID: Int64)
    /// Classify a clip with the best checkpoint of the best run (in the background).
    case predict(clipID: ClipID, url: URL)
    /// Store a run's name and note (nil or empty: none).
    case describeRun(runID: Int64, name: String?, note: String?)
    /// Pin the checkpoint at this recorded path as the project's model; nil unpins.
    case pinCheckpoint(String?)
    /// Delete a run's record, checkpoints and folder.
    case deleteRun(runID: Int64)
    /// Read the current model and its stored predictions (and the latest review's).
    case loadSuggestions
    /// Predict, in the background, every clip the current model has no current
    /// prediction for (nothing when a job for it is running already).
    case predictClips
    /// Stop predicting after the batch in progress (a run is starting).
    case stopPredicting
    /// Label a clip with the current model's suggestion, recorded as accepted from `model`.
    case acceptSuggestion(clipID: ClipID, classIndex: Int, watchedSeconds: Double, model: String)
    /// Classify a run's validation clips with its best checkpoint (in the background).
    case loadRunValidation(runID: Int64)
    /// Clear the terminal and draw every cell again (Ctrl-L).
    case repaintTerminal
    /// See whether another process changed the project (see `OutsideChangeWatcher`).
    case checkOutsideChanges(labelEdits: Int)
    case quit
}

/// What an event changed: whether the screen must be redrawn, and the work to do.
public struct UpdateResult: Sendable, Equatable {
    public var redraw: Bool
    public var effects: [Effect]

    public init(redraw: Bool = false, effects: [Effect] = []) {
        self.redraw = redraw
        self.effects = effects
    }

    public static let unchanged = UpdateResult()
    public static let redraw = UpdateResult(redraw: true)

    mutating func merge(_ other: UpdateResult) {
        redraw = redraw || other.redraw
        effects += other.effects
    }
}
