import ActionNet
import ActionStore
import ClipIO
import Foundation
import Training

/// Named settings the Train screen cycles through before a run starts.
public struct TrainingChoice: Sendable, Equatable {
    public var name: String
    public var settings: TrainingSettings
    /// The values it was offered with: `R` returns to them after e, E, l or L.
    public let presetSettings: TrainingSettings

    public init(name: String, settings: TrainingSettings) {
        self.name = name
        self.settings = settings
        presetSettings = settings
    }

    /// True when keys have changed its settings from the preset's values.
    public var isEdited: Bool { settings != presetSettings }

    /// What the keys changed, for the status line: "epochs 10 (preset 40)".
    public var edits: String {
        var changes: [String] = []
        if settings.epochs != presetSettings.epochs {
            changes.append("epochs \(settings.epochs) (preset \(presetSettings.epochs))")
        }
        if settings.learningRate != presetSettings.learningRate {
            changes.append("learning rate \(TrainView.rate(settings.learningRate)) (preset \(TrainView.rate(presetSettings.learningRate)))")
        }
        if settings.precision != presetSettings.precision {
            changes.append("\(settings.precision.rawValue) products (preset \(presetSettings.precision.rawValue))")
        }
        return changes.isEmpty ? "other settings" : changes.joined(separator: ", ")
    }

    /// The choices for a project with `classes` classes, in the order `c` cycles them:
    /// quick, seed, tiny, and the project's own `[sampling]` (with quick's network) when
    /// its actionlab.toml sets one. `epochs` replaces every choice's epochs when given.
    public static func standard(classes: Int, projectSampling: ProjectConfig.Sampling? = nil,
                                epochs: Int? = nil) -> [TrainingChoice] {
        var choices = [TrainingPreset.quick, .seed, .tiny].map {
            TrainingChoice(name: $0.rawValue, settings: $0.settings(classes: classes))
        }
        if let sampling = projectSampling {
            choices.append(TrainingChoice(name: "project", settings: TrainingPreset.project(classes: classes, sampling: sampling)))
        }
        if let epochs {
            // The preset's own values, not an edit of them.
            choices = choices.map { choice in
                var settings = choice.settings
                settings.epochs = epochs
                return TrainingChoice(name: choice.name, settings: settings)
            }
        }
        return choices
    }
}

/// What an estimate is asked for: settings and the samples they would train on.
public struct EstimateRequest: Sendable, Equatable {
    public var settings: TrainingSettings
    public var trainingSamples: Int
    public var validationSamples: Int

    public init(settings: TrainingSettings, trainingSamples: Int, validationSamples: Int) {
        self.settings = settings
        self.trainingSamples = trainingSamples
        self.validationSamples = validationSamples
    }

    /// Bytes of the samples in memory: a run reads the project's clips as batches need
    /// them, so only the batches in flight count, however many clips there are.
    public var dataBytes: Int { TrainingEstimate.batchDataBytes(settings) }
}

public enum EstimateStatus: Sendable, Equatable {
    case none
    case measuring(EstimateRequest)
    case ready(EstimateRequest, TrainingEstimate)
    case failed(EstimateRequest, String)

    var request: EstimateRequest? {
        switch self {
        case .none: nil
        case .measuring(let r), .ready(let r, _), .failed(let r, _): r
        }
    }
}

/// Why the project cannot train yet.
public enum MissingTrainingData: Sendable, Equatable {
    case scanning
    case noClips
    case noLabels
    /// Every labelled clip is of this one class.
    case oneClass(String)

    /// For the run box's state line (at most 24 characters).
    var stateText: String {
        switch self {
        case .scanning: "no clips yet (scanning)"
        case .noClips: "no clips in this folder"
        case .noLabels: "no clip labelled (F1)"
        case .oneClass: "one class labelled (F1)"
        }
    }

    /// For the status line when t is pressed: short enough for 80 columns.
    var summary: String {
        switch self {
        case .scanning: "the scan has found no clips yet"
        case .noClips: "this folder has no video clips"
        case .noLabels: "no clip is labelled yet (F1)"
        case .oneClass(let name): "every labelled clip is \(name); label a second class (F1)"
        }
    }

    /// For the box below the run box: what is missing and what to do.
    var explanation: String {
        switch self {
        case .scanning: "no clips found yet; the scan of the folder is still running"
        case .noClips:
            "this folder has no video clips (" + ProjectLayout.clipExtensions.sorted().joined(separator: ", ")
                + "); add some and open it again"
        case .noLabels: "no clip is labelled yet; label clips on the Clips screen (F1), at least two classes"
        case .oneClass(let name): "every labelled clip is \(name); a classifier needs clips of at least two classes (F1)"
        }
    }
}

/// Where the run shown on the Train screen stands.
public enum TrainingPhase: Sendable, Equatable {
    /// No run yet: settings can change.
    case idle
    /// Asked the trainer to start; nothing heard yet.
    case starting
    case loading(LoadingProgress)
    case training
    case paused
    /// A stop was asked for: the batch finishes and the last checkpoint is written.
    case stopping
    case finished(RunSummary)
    case failed(String)

    /// The phase without its details: a message about a phase lasts while this does.
    public enum Kind: Sendable, Equatable {
        case idle, starting, loading, training, paused, stopping, finished, failed
    }

    public var kind: Kind {
        switch self {
        case .idle: .idle
        case .starting: .starting
        case .loading: .loading
        case .training: .training
        case .paused: .paused
        case .stopping: .stopping
        case .finished: .finished
        case .failed: .failed
        }
    }

    /// True while a trainer is working on the run (or about to).
    public var isActive: Bool {
        switch self {
        case .starting, .loading, .training, .paused, .stopping: true
        case .idle, .finished, .failed: false
        }
    }
}

/// The Train and Model screens: the chosen settings, their estimate and summary, and
/// what the trainer has reported about the run in progress (or the last one).
public struct TrainingState: Sendable, Equatable {
    public internal(set) var choices: [TrainingChoice]
    public internal(set) var choiceIndex = 0
    public internal(set) var estimate: EstimateStatus = .none
    public internal(set) var phase: TrainingPhase = .idle
    /// Settings whose run was asked to start although their estimate needs more memory
    /// than the machine has: t again starts it.
    public internal(set) var memoryWarningShown: TrainingSettings?
    /// A pause was asked for and the trainer has not reached the end of its batch yet.
    public internal(set) var pauseRequested = false
    public internal(set) var run: RunStart?
    public internal(set) var lastBatch: BatchProgress?
    /// The run's clips decoded so far (they decode while the first epoch trains).
    public internal(set) var decoding: LoadingProgress?
    public internal(set) var lastValidation: ValidationProgress?
    public internal(set) var lastEpoch: EpochReport?
    /// The latest epoch that was the best so far: the one the `best` checkpoint holds, whose
    /// validation clips Enter on a matrix cell lists.
    public internal(set) var bestEpoch: EpochReport?
    public internal(set) var learningRate: Float?
    public internal(set) var lastCheckpoint: CheckpointSaved?
    /// Per layer, from the last batch: activation mean/std and gradient norm.
    public internal(set) var layers: [LayerStatistics] = []
    /// Training loss and accuracy, running means over each epoch, one point per batch
    /// at x = epochs done (fractional); validation ones at each epoch's end.
    public internal(set) var trainingLoss: [ChartPoint] = []
    public internal(set) var trainingAccuracy: [ChartPoint] = []
    public internal(set) var validationLoss: [ChartPoint] = []
    public internal(set) var validationAccuracy: [ChartPoint] = []
    /// The confusion matrix cell selected (x), nil when none is.
    public internal(set) var confusionCell: ConfusionCell?
    /// The Keras-style table of the model of the chosen settings (or the running run's).
    public internal(set) var summary: Result<ModelSummary, ModelError>

    public init(classNames: [String], choices: [TrainingChoice]? = nil, choiceIndex: Int = 0) {
        let choices = choices ?? TrainingChoice.standard(classes: classNames.count)
        self.choices = choices.isEmpty ? TrainingChoice.standard(classes: max(1, classNames.count)) : choices
        self.choiceIndex = min(max(0, choiceIndex), self.choices.count - 1)
        summary = Self.summary(of: self.choices[self.choiceIndex].settings)
    }

    public var choice: TrainingChoice { choices[choiceIndex] }

    /// The settings of the run on screen, or of the chosen preset before any run.
    public var settings: TrainingSettings { run?.settings ?? choice.settings }

    static func summary(of settings: TrainingSettings) -> Result<ModelSummary, ModelError> {
        Result { () throws(ModelError) in try settings.modelSummary() }
    }

    /// The epoch whose confusion matrix cells are chosen from (x): the best one, since
    /// Enter lists a cell's clips as the best checkpoint classifies them; the last one
    /// when no best is known (a resumed run before it improves).
    var selectableEpoch: EpochReport? { bestEpoch ?? lastEpoch }

    /// The epoch the charts reach: the one in progress, or the last finished.
    var currentEpoch: Int {
        max(lastBatch?.epoch ?? 0, lastEpoch?.epoch ?? 0, (run?.firstEpoch ?? 1) - 1)
    }

    mutating func clearRun() {
        run = nil
        lastBatch = nil
        decoding = nil
        lastValidation = nil
        lastEpoch = nil
        bestEpoch = nil
        learningRate = nil
        lastCheckpoint = nil
        layers = []
        trainingLoss = []
        trainingAccuracy = []
        validationLoss = []
        validationAccuracy = []
        pauseRequested = false
        confusionCell = nil
    }
}

extension AppState {
    // MARK: Train screen keys

    /// Epoch counts e and E step through.
    static let epochLadder = [1, 2, 3, 5, 10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300, 500, 1000]

    /// The next value of `ladder` above (`by` 1) or below (-1) `value`, or the end of it.
    static func step(_ value: Int, in ladder: [Int], by direction: Int) -> Int {
        direction > 0 ? ladder.first { $0 > value } ?? max(value, ladder.last!)
            : ladder.last { $0 < value } ?? min(value, ladder.first!)
    }

    /// Changes a value of the chosen settings before a run: they become "custom", unless
    /// the change brings them back to the preset's values.
    mutating func customize(_ what: String, _ change: (inout TrainingSettings) -> Void) -> UpdateResult {
        guard !training.phase.isActive else {
            show("The settings cannot change during a run", .info, about: .trainingPhase(training.phase.kind))
            return .redraw
        }
        var settings = training.choices[training.choiceIndex].settings
        let before = settings
        change(&settings)
        guard settings != before else {
            show("No further: \(what) is at its limit", .info, about: .trainingSettings(settings))
            return .redraw
        }
        let preset = training.choice.presetSettings
        var unnamed = settings
        unnamed.preset = preset.preset
        if unnamed == preset {
            settings = preset
        } else {
            settings.preset = "custom"
        }
        training.choices[training.choiceIndex].settings = settings
        if training.run != nil {
            training.clearRun()
            training.phase = .idle
        }
        var result = UpdateResult.redraw
        result.merge(requestEstimateIfNeeded())
        return result
    }

    /// The memory the chosen settings' estimate needs and the machine has, when it needs more.
    var memoryShortfall: (needed: Int, available: Int)? {
        guard training.run == nil, case .ready(let request, let estimate) = training.estimate,
              request.settings == training.choice.settings,
              let available = machineMemoryBytes, estimate.memoryBytes > available else { return nil }
        return (estimate.memoryBytes, available)
    }

    /// What the project lacks for a run, if anything.
    var missingTrainingData: MissingTrainingData? {
        var labelledClasses = Set<Int>()
        for clip in clips.clips where clip.isUsable {
            if let label = clip.label { labelledClasses.insert(label) }
        }
        if clips.clips.isEmpty { return clips.scan.isFinished ? .noClips : .scanning }
        if labelledClasses.isEmpty { return .noLabels }
        if labelledClasses.count == 1, let only = labelledClasses.first {
            return .oneClass(classes.indices.contains(only) ? classes[only].name : "class \(only + 1)")
        }
        return nil
    }

    mutating func startTraining() -> UpdateResult {
        guard !training.phase.isActive else {
            show("A run is in progress: p pauses it, s stops it", .info, about: .trainingPhase(training.phase.kind))
            return .redraw
        }
        if let missing = missingTrainingData {
            show("No run started: \(missing.summary)", .warning)
            return .redraw
        }
        let settings = training.choice.settings
        if let shortfall = memoryShortfall, training.memoryWarningShown != settings {
            training.memoryWarningShown = settings
            show("This run needs about \(Formatting.bytes(shortfall.needed)) of memory and this machine has "
                 + "\(Formatting.bytes(shortfall.available)): t again starts it anyway", .warning,
                 about: .trainingSettings(settings))
            return .redraw
        }
        training.memoryWarningShown = nil
        training.clearRun()
        training.phase = .starting
        training.summary = TrainingState.summary(of: settings)
        show("Starting a \(training.choice.name) run…", .info, about: .trainingPhase(.starting))
        return UpdateResult(redraw: true, effects: [.startTraining(settings)])
    }

    mutating func togglePause() -> UpdateResult {
        switch training.phase {
        case .training:
            guard !training.pauseRequested else { return .unchanged }
            training.pauseRequested = true
            return UpdateResult(redraw: true, effects: [.pauseTraining])
        case .paused:
            return UpdateResult(redraw: true, effects: [.resumeTraining])
        case .starting, .loading:
            show("The run has not started its batches yet", .info, about: .trainingPhase(training.phase.kind))
            return .redraw
        case .stopping:
            return .unchanged
        case .idle, .finished, .failed:
            show("No run to pause: t starts one", .info, about: .trainingPhase(training.phase.kind))
            return .redraw
        }
    }

    mutating func stopTraining() -> UpdateResult {
        guard training.phase.isActive else {
            show("No run to stop", .info, about: .trainingPhase(training.phase.kind))
            return .redraw
        }
        guard training.phase != .stopping else { return .unchanged }
        training.phase = .stopping
        training.pauseRequested = false
        return UpdateResult(redraw: true, effects: [.stopTraining])
    }

    /// Switches the chosen settings' matrix products between fp32 and bf16, on a CPU that
    /// has bf16 products.
    mutating func togglePrecision() -> UpdateResult {
        let next: Precision = training.choice.settings.precision == .fp32 ? .bf16 : .fp32
        guard next == .fp32 || cpu.hasAVX512BF16 else {
            show("bf16 needs a CPU with AVX512_BF16; this CPU (\(cpu.name)) does not have it", .warning,
                 about: .trainingSettings(training.choice.settings))
            return .redraw
        }
        var result = customize("precision") { $0.precision = next }
        if !training.phase.isActive {
            show(next == .bf16 ? "Products in bf16: bfloat16 inputs summed in float32; the weights stay float32"
                               : "Products in fp32", .info, about: .trainingSettings(training.choice.settings))
            result.redraw = true
        }
        return result
    }

    mutating func cycleTrainingChoice() -> UpdateResult {
        guard !training.phase.isActive else {
            show("The settings cannot change during a run", .info, about: .trainingPhase(training.phase.kind))
            return .redraw
        }
        training.choiceIndex = (training.choiceIndex + 1) % training.choices.count
        if !training.phase.isActive, training.run != nil {
            // The screen shows the new settings, not the finished run's.
            training.clearRun()
            training.phase = .idle
        }
        training.summary = TrainingState.summary(of: training.choice.settings)
        if training.choice.isEdited {
            show("\(training.choice.name) keeps your edits: \(training.choice.edits); R resets it", .info,
                 about: .trainingSettings(training.choice.settings))
        }
        var result = UpdateResult.redraw
        result.merge(requestEstimateIfNeeded())
        return result
    }

    /// Turns the chosen settings' augmentation off, or back to the preset's (with the
    /// project's label swaps).
    mutating func toggleAugmentation() -> UpdateResult {
        guard !training.phase.isActive else {
            show("The settings cannot change during a run", .info, about: .trainingPhase(training.phase.kind))
            return .redraw
        }
        let choice = training.choice
        var settings = choice.settings
        settings.augmentation = settings.augmentation.isOff ? choice.presetSettings.augmentation : .off
        training.choices[training.choiceIndex].settings = settings
        if training.run != nil {
            training.clearRun()
            training.phase = .idle
        }
        let names = settings.augmentation.enabledNames
        show(names.isEmpty ? "Augmentation off: clips train as they are"
                           : "Augmentation on: " + names.joined(separator: " + "),
             .info, about: .trainingSettings(settings))
        return .redraw
    }

    /// Returns the chosen preset to its own values.
    mutating func resetTrainingChoice() -> UpdateResult {
        guard !training.phase.isActive else {
            show("The settings cannot change during a run", .info, about: .trainingPhase(training.phase.kind))
            return .redraw
        }
        let choice = training.choice
        guard choice.isEdited else {
            show("\(choice.name) has its own values already", .info, about: .trainingSettings(choice.settings))
            return .redraw
        }
        training.choices[training.choiceIndex].settings = choice.presetSettings
        if training.run != nil {
            training.clearRun()
            training.phase = .idle
        }
        show("\(choice.name) is back to its own values", .info, about: .trainingSettings(choice.presetSettings))
        var result = UpdateResult.redraw
        result.merge(requestEstimateIfNeeded())
        return result
    }

    /// Asks for the time and memory estimate of the chosen settings on the clips labelled
    /// now, unless it is known or coming, or a run is on screen.
    mutating func requestEstimateIfNeeded() -> UpdateResult {
        guard !training.phase.isActive, training.run == nil else { return .unchanged }
        let settings = training.choice.settings
        var perClass = [Int](repeating: 0, count: max(classes.count, settings.model.classes))
        for clip in clips.clips where clip.isUsable {
            if let label = clip.label, perClass.indices.contains(label) { perClass[label] += 1 }
        }
        let validation = perClass.reduce(0) { $0 + Int((Double($1) * settings.validationFraction).rounded()) }
        let total = perClass.reduce(0, +)
        let request = EstimateRequest(settings: settings, trainingSamples: total - validation,
                                      validationSamples: validation)
        guard training.estimate.request != request else { return .unchanged }
        training.estimate = .measuring(request)
        return UpdateResult(redraw: true, effects: [.estimateTraining(request)])
    }

    // MARK: Trainer events

    mutating func applyTrainingEvent(_ event: TrainingEvent) -> UpdateResult {
        switch event {
        case .loading(let progress):
            if training.phase == .starting || { if case .loading = training.phase { return true }; return false }() {
                training.phase = .loading(progress)
            } else {
                training.decoding = progress
            }
        case .skipped(let skipped):
            training.run?.skipped.append(skipped)
            show("Skipped \(skipped.id): \(skipped.reason)", .warning)
        case .started(let start):
            training.clearRun()
            training.run = start
            training.phase = .training
            training.learningRate = start.settings.learningRate
            // The model trained, which is a checkpoint's when the run continues one.
            training.summary = Result { () throws(ModelError) in
                try ModelSummary(spec: start.model, name: start.settings.preset ?? "model")
            }
            if start.firstEpoch > 1, let id = start.runID, let history = runs.metrics[id] {
                // A resumed run: its earlier epochs from the database, so the curves go on.
                for m in history where m.epoch < start.firstEpoch {
                    let x = Double(m.epoch)
                    training.trainingLoss.append(ChartPoint(x: x, y: m.loss))
                    training.trainingAccuracy.append(ChartPoint(x: x, y: m.accuracy))
                    if let v = m.valLoss { training.validationLoss.append(ChartPoint(x: x, y: v)) }
                    if let v = m.valAccuracy { training.validationAccuracy.append(ChartPoint(x: x, y: v)) }
                }
            }
            // The run has the processor now: predicting clips waits for its end.
            if clips.predicting != nil { return UpdateResult(redraw: true, effects: [.stopPredicting]) }
        case .batch(let batch):
            training.lastBatch = batch
            training.lastValidation = nil
            training.learningRate = batch.learningRate
            training.layers = batch.layers
            let x = Double(batch.epoch - 1) + Double(batch.batch) / Double(max(1, batch.batches))
            training.trainingLoss.append(ChartPoint(x: x, y: Double(batch.meanLoss)))
            training.trainingAccuracy.append(ChartPoint(x: x, y: Double(batch.meanAccuracy)))
        case .validation(let progress):
            training.lastValidation = progress
        case .epoch(let report):
            training.lastEpoch = report
            if report.isBest { training.bestEpoch = report }
            training.lastValidation = nil
            let x = Double(report.epoch)
            if let loss = report.validationLoss { training.validationLoss.append(ChartPoint(x: x, y: Double(loss))) }
            if let accuracy = report.validationAccuracy {
                training.validationAccuracy.append(ChartPoint(x: x, y: Double(accuracy)))
            }
            // The Runs screen follows the run in progress epoch by epoch.
            if screen == .runs { return UpdateResult(redraw: true, effects: [.loadRuns]) }
        case .learningRateChanged(let change):
            training.learningRate = change.to
            show(String(format: "Learning rate lowered to %g after epoch %d", change.to, change.epoch), .info)
        case .checkpoint(let saved):
            training.lastCheckpoint = saved
            if saved.kind == .best, let runID = training.run?.runID { forgetValidation(runID: runID) }
        case .paused:
            training.pauseRequested = false
            if training.phase != .stopping { training.phase = .paused }
        case .resumed:
            if training.phase != .stopping { training.phase = .training }
        case .finished(let summary):
            training.phase = .finished(summary)
            training.pauseRequested = false
            let id = summary.runID.map { "Run \($0)" } ?? "The run"
            let best = summary.bestValidationAccuracy.map { String(format: "; best validation accuracy %.1f%%", $0 * 100) } ?? ""
            let epochs = AppView.counted(summary.epochsCompleted, "epoch")
            show("\(id) \(Self.endText(summary.status)) after \(epochs)\(best)", .info, about: .trainingPhase(.finished))
            // The run may have made a new current model: its predictions follow.
            return UpdateResult(redraw: true, effects: [.loadRuns] + predictClipsEffects())
        case .failed(let failure):
            training.phase = .failed(failure.message)
            training.pauseRequested = false
            show("Training failed: \(failure.message)", .error, about: .trainingPhase(.failed))
            return UpdateResult(redraw: true, effects: [.loadRuns])
        }
        return .redraw
    }

    static func endText(_ status: RunStatus) -> String {
        switch status {
        case .running: "is running"
        case .completed: "completed"
        case .earlyStopped: "stopped early"
        case .stopped: "was stopped"
        case .failed: "failed"
        case .interrupted: "was interrupted"
        }
    }

    mutating func applyEstimate(_ request: EstimateRequest, _ outcome: Result<TrainingEstimate, TrainingError>) -> UpdateResult {
        guard training.estimate.request == request else { return .unchanged }
        switch outcome {
        case .success(let estimate): training.estimate = .ready(request, estimate)
        case .failure(let error): training.estimate = .failed(request, error.description)
        }
        return .redraw
    }
}
