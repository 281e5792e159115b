import ActionNet
import ActionStore
import ClipIO
import Foundation

/// How far a prediction job has come.
public struct PredictionProgress: Sendable, Equatable {
    /// Clips handled so far (predicted or failed), of `total`.
    public var done: Int
    public var total: Int
    /// Predictions stored so far.
    public var saved: Int
    /// Clips that could not be predicted, with the reason.
    public var failures: [SkippedSample]

    public init(done: Int = 0, total: Int, saved: Int = 0, failures: [SkippedSample] = []) {
        self.done = done
        self.total = total
        self.saved = saved
        self.failures = failures
    }
}

/// What a prediction job reports, from its own thread.
public enum PredictionEvent: Sendable, Equatable {
    /// A batch was predicted and stored.
    case progress(PredictionProgress)
    /// The job ended: every clip done, or stopped (`stopped`) with the finished batches kept.
    case finished(PredictionProgress, stopped: Bool)
    /// The checkpoint could not be loaded or the database written; nothing more was stored.
    case failed(String)

    public var isFinal: Bool {
        if case .progress = self { return false }
        return true
    }
}

/// Predicts clips with a checkpoint, a batch at a time, and stores each batch in the
/// project database under the checkpoint's identity as soon as it is done: a job that
/// is stopped (or a program that quits) keeps every finished batch, and the next job
/// starts where it ended (`ProjectStore.clipsNeedingPrediction`). Frames come through
/// `loader`, the project's clip cache in the app, so a clip is decoded once.
public final class PredictionJob: Sendable {
    public let store: ProjectStore
    public let checkpoint: URL
    /// The identity the predictions are stored under; by default the checkpoint file's
    /// (`PredictionSource.checkpoint`) when the job starts.
    public let source: String?
    /// Clips to predict; nil: every usable clip without a current prediction of `source`.
    public let clips: [ClipRecord]?
    public let batchSize: Int
    private let loader: ClipFrameLoader
    private let control = TrainingControl()
    private let ended = DispatchGroup()
    private let outcome = LockedResults<PredictionEvent?>(count: 1, initial: nil)

    public init(store: ProjectStore, checkpoint: URL, source: String? = nil, clips: [ClipRecord]? = nil,
                loader: @escaping ClipFrameLoader, batchSize: Int = 8) {
        self.store = store
        self.checkpoint = checkpoint
        self.source = source
        self.clips = clips
        self.loader = loader
        self.batchSize = max(1, batchSize)
    }

    /// A job for the project's model (`ProjectStore.currentModel`).
    public convenience init(store: ProjectStore, model: ProjectModel, clips: [ClipRecord]? = nil,
                            loader: @escaping ClipFrameLoader, batchSize: Int = 8) {
        self.init(store: store, checkpoint: model.checkpoint, source: model.identity, clips: clips, loader: loader,
                  batchSize: batchSize)
    }

    /// Runs the job on `queue` and returns at once; `events` gets progress after each
    /// batch and one final event. A job runs once: later calls do nothing.
    public func start(queue: DispatchQueue = DispatchQueue(label: "ActionLab.Predictions", qos: .utility),
                      events: @escaping @Sendable (PredictionEvent) -> Void) {
        guard control.markStarted() else { return }
        ended.enter()
        queue.async { [self] in
            defer { ended.leave() }
            let final = execute(events)
            _ = outcome.set(0, final)
            events(final)
        }
    }

    /// Ends the job after the batch in progress (which is stored).
    public func stop() { control.requestStop() }
    public var isStopRequested: Bool { control.isStopRequested }

    /// Blocks until a started job ends; returns its final event (nil before `start`).
    @discardableResult
    public func wait() -> PredictionEvent? {
        ended.wait()
        return outcome.values[0]
    }

    /// Runs the job on the calling thread; `events` gets the progress events, and the
    /// final event is returned.
    public func run(events: @escaping @Sendable (PredictionEvent) -> Void = { _ in }) -> PredictionEvent {
        guard control.markStarted() else { return .failed("the prediction job has already run") }
        return execute(events)
    }

    private func execute(_ events: @Sendable (PredictionEvent) -> Void) -> PredictionEvent {
        let classifier: ClipClassifier
        let identity: String
        let todo: [ClipRecord]
        do {
            if let source, !PredictionSource.isCheckpoint(source) {
                identity = source
                classifier = try ClipClassifier(checkpoint: checkpoint)
            } else {
                // The identity is that of the file as it was read: training may write a
                // better checkpoint over it at any moment.
                (classifier, identity) = try Self.loadUnchanged(checkpoint, in: store.layout) {
                    try ClipClassifier(checkpoint: $0)
                }
            }
            todo = try clips ?? store.clipsNeedingPrediction(source: identity)
        } catch {
            return .failed("\(error)")
        }
        var progress = PredictionProgress(total: todo.count)
        for start in stride(from: 0, to: todo.count, by: batchSize) {
            if control.isStopRequested { return .finished(progress, stopped: true) }
            let batch = Array(todo[start ..< min(start + batchSize, todo.count)])
            do {
                let (predicted, failures) = try predict(batch, with: classifier)
                try store.savePredictions(predicted, classNames: classifier.classNames, source: identity)
                progress.saved += predicted.count
                progress.failures += failures
            } catch {
                return .failed("\(error)")
            }
            progress.done += batch.count
            events(.progress(progress))
        }
        do {
            // Every clip now has this model's own prediction: older checkpoints' stand-ins
            // for it are no longer shown.
            try store.pruneSupersededPredictions()
        } catch {
            return .failed("\(error)")
        }
        return .finished(progress, stopped: false)
    }

    /// Loads `checkpoint` with `load` and returns it with the identity of the file it
    /// was read from: the file's identity before and after loading must agree, else it
    /// was replaced meanwhile and is loaded again (up to `attempts` times).
    static func loadUnchanged<Loaded>(_ checkpoint: URL, in layout: ProjectLayout, attempts: Int = 3,
                                      load: (URL) throws -> Loaded) throws -> (Loaded, String) {
        for _ in 0 ..< attempts {
            guard let before = PredictionSource.checkpoint(checkpoint, in: layout) else { break }
            let loaded = try load(checkpoint)
            if PredictionSource.checkpoint(checkpoint, in: layout) == before { return (loaded, before) }
        }
        if PredictionSource.checkpoint(checkpoint, in: layout) == nil {
            throw TrainingError("\(checkpoint.path): cannot be read")
        }
        throw TrainingError("\(checkpoint.path): the checkpoint kept changing while it was read (\(attempts) attempts)")
    }

    /// Decodes `batch` two clips at a time and runs the model once over the readable ones.
    private func predict(_ batch: [ClipRecord], with classifier: ClipClassifier) throws
        -> (predictions: [NewPrediction], failures: [SkippedSample]) {
        let sampling = classifier.sampling
        let root = store.layout.root
        let frames = LockedResults<Result<ClipFrames, Error>?>(count: batch.count, initial: nil)
        DispatchQueue.concurrentPerform(iterations: min(2, batch.count)) { worker in
            for i in stride(from: worker, to: batch.count, by: 2) {
                _ = frames.set(i, Result { try loader(root.appendingPathComponent(batch[i].path), sampling) })
            }
        }
        var readable: [ClipRecord] = [], failures: [SkippedSample] = [], values: [Float] = []
        values.reserveCapacity(batch.count * sampling.byteCount)
        for (clip, result) in zip(batch, frames.values) {
            switch result {
            case .success(let sampled)?:
                readable.append(clip)
                values += sampled.floats()
            case .failure(let error)?:
                failures.append(SkippedSample(id: clip.path, reason: (error as? ClipIOError)?.reason ?? "\(error)"))
            case nil:
                failures.append(SkippedSample(id: clip.path, reason: "not loaded"))
            }
        }
        guard !readable.isEmpty else { return ([], failures) }
        let shape = [readable.count, sampling.frames, sampling.height, sampling.width, sampling.channels]
        let probabilities = try classifier.predict(Tensor(shape: shape, data: values), batchSize: readable.count)
        let classes = probabilities.shape[1]
        let predictions = readable.enumerated().map { row, clip in
            NewPrediction(clipID: clip.id, clipStamp: FileStamp(size: clip.size, modified: clip.modified),
                          probabilities: Array(probabilities.data[row * classes ..< (row + 1) * classes]))
        }
        return (predictions, failures)
    }
}
