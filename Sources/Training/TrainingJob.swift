import ActionNet
import ActionStore
import Foundation

/// What to train on, with which settings, and where to keep the results.
public struct TrainingJob: Sendable {
    public enum Source: Sendable {
        /// The project's labelled, readable clips, decoded by `loader` (the clip cache in the app).
        case project(ProjectStore, loader: ClipFrameLoader)
        /// Samples already in memory (a tensor file).
        case samples(SampleSet)
    }

    public var source: Source
    public var settings: TrainingSettings
    /// Where the run and its metrics are recorded, and under whose `.actionlab/runs/`
    /// its checkpoints and CSV go; nil records nothing (then only `output` and `csv` are written).
    public var store: ProjectStore?
    /// Start from these weights (and optimizer state, when the file has it) instead of new ones.
    public var initialCheckpoint: URL?
    /// Also write the best checkpoint here (the last one when there is no validation set).
    public var output: URL?
    /// Also write the per-epoch CSV here.
    public var csv: URL?
    /// Use this split instead of making one from the settings.
    public var split: DatasetSplit?
    /// Continue this recorded run instead of starting a new one.
    public var resume: ResumePoint?
    /// The speed the time estimate assumes; measured on a small model when nil.
    public var speed: ComputeSpeed?
    /// How the model's training steps and validation predictions run: in this process, or
    /// shared with other processes in data-parallel training.
    public var compute: ModelCompute = .local

    public init(source: Source, settings: TrainingSettings, store: ProjectStore? = nil,
                initialCheckpoint: URL? = nil, output: URL? = nil, csv: URL? = nil, split: DatasetSplit? = nil,
                speed: ComputeSpeed? = nil) {
        self.source = source
        self.settings = settings
        self.store = store
        self.initialCheckpoint = initialCheckpoint
        self.output = output
        self.csv = csv
        self.split = split
        self.speed = speed
        if case .project(let projectStore, _) = source, store == nil { self.store = projectStore }
    }

    /// A job that continues the stopped (or interrupted, or finished) run `runID` of
    /// `store` from its last checkpoint, with its settings and split, on `source` (the
    /// project's clips, normally); `epochs` changes the number of epochs to run in all.
    public static func resuming(runID: Int64, store: ProjectStore, source: Source,
                                epochs: Int? = nil) throws -> TrainingJob {
        guard let run = try store.run(id: runID) else { throw RunNotFound(id: runID) }
        guard run.status != .running else { throw TrainingError("run \(runID) is still running") }
        guard let last = run.lastCheckpointPath else {
            throw TrainingError("run \(runID) has no checkpoint to resume from")
        }
        let settingsData = Data(run.settingsJSON.utf8)
        var settings: TrainingSettings
        do { settings = try JSONDecoder().decode(TrainingSettings.self, from: settingsData) }
        catch { throw TrainingError("run \(runID): its settings are not readable: \(error)") }
        if let epochs { settings.epochs = epochs }
        var job = TrainingJob(source: source, settings: settings, store: store,
                              initialCheckpoint: RunFiles.resolve(last, in: store.layout),
                              split: try DatasetSplit.decode(json: run.splitJSON))
        job.resume = ResumePoint(run: run, history: try store.metrics(runID: runID))
        return job
    }
}

/// A training step on a batch, x (B, T, H, W, C) and one-hot y (B, classes), returning the
/// batch's mean loss and its probabilities (B, classes); and class probabilities for
/// validation samples. Data-parallel training replaces both with versions that share the
/// work among processes and return the same values on each.
public struct ModelCompute: Sendable {
    public var trainStep: @Sendable (ActionModel, _ x: Tensor, _ y: Tensor, inout Adam) throws -> (loss: Float, probabilities: Tensor)
    public var predict: @Sendable (ActionModel, _ x: Tensor, _ batchSize: Int) throws -> Tensor

    public init(trainStep: @escaping @Sendable (ActionModel, Tensor, Tensor, inout Adam) throws -> (loss: Float, probabilities: Tensor),
                predict: @escaping @Sendable (ActionModel, Tensor, Int) throws -> Tensor) {
        self.trainStep = trainStep
        self.predict = predict
    }

    /// Everything in this process.
    public static let local = ModelCompute(
        trainStep: { model, x, y, optimizer in
            let step = try model.trainStep(x: x, y: y, optimizer: &optimizer)
            return (step.loss, step.probabilities)
        },
        predict: { model, x, batchSize in try model.predict(x, batchSize: batchSize) })
}

/// A recorded run to continue and the metrics of its completed epochs.
public struct ResumePoint: Sendable {
    public var run: RunRecord
    public var history: [EpochMetrics]

    public init(run: RunRecord, history: [EpochMetrics]) {
        self.run = run
        self.history = history
    }
}

/// The files of a run: `DIR/.actionlab/runs/<run-id>/` holds `last.safetensors`,
/// `best.safetensors` and `metrics.csv`. Paths are recorded relative to the project folder.
public enum RunFiles {
    public static func directory(runID: Int64, in layout: ProjectLayout) -> URL {
        layout.runsDirectory.appendingPathComponent(String(runID), isDirectory: true)
    }

    /// `url` as recorded in the run: relative to the project folder when inside it.
    public static func recordedPath(_ url: URL, in layout: ProjectLayout) -> String {
        layout.relativePath(of: url)
    }

    /// A recorded path as a file URL.
    public static func resolve(_ path: String, in layout: ProjectLayout) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : layout.root.appendingPathComponent(path)
    }
}
