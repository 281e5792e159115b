import ActionNet
import ActionStore
import ClipIO
import Foundation
import Training

/// The training work the app asks for: runs on the trainer's own queue, estimates and
/// predictions on background queues, and the runs recorded in the database. Results come
/// back through the callbacks, from whichever thread did the work.
public protocol TrainingBackend: AnyObject {
    /// Starts a new run of `settings` on the project's labelled clips.
    func start(_ settings: TrainingSettings, events: @escaping @Sendable (TrainingEvent) -> Void) throws
    /// Continues the recorded run `runID` from its last checkpoint.
    func resume(runID: Int64, events: @escaping @Sendable (TrainingEvent) -> Void) throws
    func pause()
    func resume()
    /// Finishes the batch, saves the last checkpoint and ends the run.
    func stop()
    /// Stops a run in progress and waits until its checkpoint is saved; true if there was one.
    @discardableResult
    func stopAndWait() -> Bool
    func estimate(_ request: EstimateRequest,
                  completion: @escaping @Sendable (Result<TrainingEstimate, TrainingError>) -> Void)
    /// Recorded runs, newest first.
    func runs() throws -> [RunRow]
    /// The latest learning curve `actionlab train-curve` kept in the project, or nil.
    func learningCurve() throws -> LearningCurve.Result?
    func metrics(runID: Int64) throws -> [EpochMetrics]
    /// Classifies a clip with the project's current model (`ProjectStore.currentModel`).
    func predict(clip url: URL, completion: @escaping @Sendable (Result<ClipPrediction, TrainingError>) -> Void)
    /// Stores a run's name and note (nil or empty clears them).
    func describeRun(id: Int64, name: String?, note: String?) throws
    /// Pins the checkpoint at `recordedPath` as the project's model; nil unpins.
    func pinCheckpoint(_ recordedPath: String?) throws
    /// Deletes a run that is not running, with its checkpoints and folder.
    func deleteRun(id: Int64) throws
    /// The project's current model and its stored predictions, and the latest review's.
    func suggestions() throws -> ModelSuggestions
    /// Starts predicting, in the background, every clip the current model has no current
    /// prediction for, unless a job for that model is running; `events` reports it.
    func predictClips(events: @escaping @Sendable (PredictionEvent) -> Void) throws
    /// Stops the prediction job after its batch (a run is about to use the processor).
    func stopPredicting()
    /// Classifies the validation clips of run `runID` with its best checkpoint.
    func validation(runID: Int64, completion: @escaping @Sendable (Result<RunValidation, TrainingError>) -> Void)
}

/// Training on a project's database and clip cache.
public final class ProjectTraining: TrainingBackend, @unchecked Sendable {
    // `trainer` is used from the main thread only, `speeds` and `runEnded` under `lock`,
    // `classifier` and `classifierDate` on the `predictions` queue only.
    private let store: ProjectStore
    private let loader: ClipFrameLoader
    private var trainer: Trainer?
    private let lock = NSLock()
    private var runEnded = true
    private var speeds: [String: ComputeSpeed] = [:]
    private var classifier: ClipClassifier?
    private var classifierDate: Date?
    private let estimates = DispatchQueue(label: "actionlab.estimate", qos: .utility)
    private let predictions = DispatchQueue(label: "actionlab.predict", qos: .userInitiated)
    /// The job predicting clips for the current model (main thread only), the model's
    /// identity, and whether it is still running (under `lock`).
    private var predictionJob: PredictionJob?
    private var predictionSource: String?
    private var runningPredictionJob: ObjectIdentifier?

    public init(store: ProjectStore) {
        self.store = store
        loader = ProjectDataset.cached(store.layout)
    }

    /// True from the start of a run until it has ended (its checkpoint saved).
    public var isRunning: Bool { !lock.withLock { runEnded } }

    public func start(_ settings: TrainingSettings, events: @escaping @Sendable (TrainingEvent) -> Void) throws {
        guard !isRunning else { throw TrainingError("a run is already in progress") }
        var job = TrainingJob(source: .project(store, loader: loader), settings: settings)
        job.speed = cachedSpeed(for: settings)
        launch(job, events: events)
    }

    public func resume(runID: Int64, events: @escaping @Sendable (TrainingEvent) -> Void) throws {
        guard !isRunning else { throw TrainingError("a run is already in progress") }
        // A run that ended by its own rules keeps its record as it ended.
        if let record = try store.run(id: runID), let reason = RunRow(record, layout: store.layout).nothingToResume {
            throw TrainingError("run \(runID) has nothing to resume: \(reason)")
        }
        let job = try TrainingJob.resuming(runID: runID, store: store, source: .project(store, loader: loader))
        launch(job, events: events)
    }

    private func launch(_ job: TrainingJob, events: @escaping @Sendable (TrainingEvent) -> Void) {
        lock.withLock { runEnded = false }
        let trainer = Trainer(job: job) { [self] event in
            if event.isFinal { lock.withLock { runEnded = true } }
            events(event)
        }
        self.trainer = trainer
        trainer.start()
    }

    public func pause() { trainer?.pause() }
    public func resume() { trainer?.resume() }
    public func stop() { trainer?.stop() }

    public func stopAndWait() -> Bool {
        guard let trainer, isRunning else { return false }
        trainer.stop()
        trainer.wait()
        return true
    }

    /// Waits up to `seconds` for the estimate, the prediction and the prediction job in
    /// progress to end (the job after its batch); true if they did. OpenBLAS frees its
    /// buffers as the process exits, and a thread still multiplying in them then crashes
    /// the program on its way out.
    public func finishBackgroundWork(seconds: Double) -> Bool {
        let finished = DispatchGroup()
        for queue in [estimates, predictions] {
            finished.enter()
            queue.async { finished.leave() }
        }
        if let job = predictionJob, lock.withLock({ runningPredictionJob == ObjectIdentifier(job) }) {
            job.stop()
            finished.enter()
            DispatchQueue.global(qos: .userInitiated).async {
                _ = job.wait()
                finished.leave()
            }
        }
        return finished.wait(timeout: .now() + seconds) == .success
    }

    public func suggestions() throws -> ModelSuggestions {
        var result = ModelSuggestions()
        if let model = try store.currentModel() {
            result.modelName = model.name
            result.byClip = try store.predictions(source: model.identity)
        }
        // The review with the most folds (they are listed fewest first).
        if let review = try store.reviewSources().last {
            result.review = try store.predictions(source: review)
        }
        return result
    }

    public func predictClips(events: @escaping @Sendable (PredictionEvent) -> Void) throws {
        guard let model = try store.currentModel() else { return }
        if let job = predictionJob, predictionSource == model.identity,
           lock.withLock({ runningPredictionJob == ObjectIdentifier(job) }) { return }
        predictionJob?.stop()
        let job = PredictionJob(store: store, model: model, loader: loader)
        let id = ObjectIdentifier(job)
        predictionJob = job
        predictionSource = model.identity
        lock.withLock { runningPredictionJob = id }
        job.start { [self] event in
            if event.isFinal { lock.withLock { if runningPredictionJob == id { runningPredictionJob = nil } } }
            events(event)
        }
    }

    public func stopPredicting() {
        predictionJob?.stop()
    }

    private static func speedKey(_ settings: TrainingSettings) -> String {
        let spec = settings.modelSpec
        return "\(spec.layers) \(spec.channels) \(settings.batchSize) \(settings.precision.rawValue)"
    }

    private func cachedSpeed(for settings: TrainingSettings) -> ComputeSpeed? {
        lock.withLock { speeds[Self.speedKey(settings)] }
    }

    public func estimate(_ request: EstimateRequest,
                         completion: @escaping @Sendable (Result<TrainingEstimate, TrainingError>) -> Void) {
        estimates.async { [self] in
            let settings = request.settings
            do {
                try settings.validate()
                let speed = try cachedSpeed(for: settings)
                    ?? ComputeSpeed.measure(for: settings.modelSpec, batchSize: settings.batchSize, precision: settings.precision)
                lock.withLock { speeds[Self.speedKey(settings)] = speed }
                let estimate = try TrainingEstimate(model: settings.modelSpec, batchSize: settings.batchSize,
                                                    trainingSamples: request.trainingSamples,
                                                    validationSamples: request.validationSamples,
                                                    dataBytes: request.dataBytes, speed: speed,
                                                    precision: settings.precision)
                completion(.success(estimate))
            } catch let error as TrainingError {
                completion(.failure(error))
            } catch {
                completion(.failure(TrainingError("\(error)")))
            }
        }
    }

    public func learningCurve() throws -> LearningCurve.Result? {
        guard let json = try store.trainCurveJSON() else { return nil }
        do {
            return try JSONDecoder().decode(LearningCurve.Result.self, from: Data(json.utf8))
        } catch {
            throw TrainingError("\(store.layout.databaseURL.path): the learning curve train-curve kept cannot be read (\(error)); run actionlab train-curve again")
        }
    }

    public func runs() throws -> [RunRow] {
        let pinned = try store.pinnedCheckpoint()
        // A pinned file gone missing is said where the predictions are; the list still shows.
        let modelRun = (try? store.currentModel())?.runID
        return try store.runs().map { RunRow($0, layout: store.layout, pinned: pinned, currentModelRunID: modelRun) }
    }

    public func describeRun(id: Int64, name: String?, note: String?) throws {
        try store.describeRun(id: id, name: name, note: note)
    }

    public func pinCheckpoint(_ recordedPath: String?) throws {
        try store.pinCheckpoint(recordedPath.map { store.checkpointURL($0) })
    }

    public func deleteRun(id: Int64) throws {
        try store.deleteRun(id: id, deletingFiles: true)
    }

    public func metrics(runID: Int64) throws -> [EpochMetrics] {
        try store.metrics(runID: runID)
    }

    public func predict(clip url: URL, completion: @escaping @Sendable (Result<ClipPrediction, TrainingError>) -> Void) {
        predictions.async { [self] in
            do {
                guard let current = try store.currentModel() else {
                    throw TrainingError("the project has no model yet: a completed run makes one (t on the Train screen)")
                }
                let model = try classifier(for: current.checkpoint)
                let prediction = try model.classify(clip: url, loader: loader)
                completion(.success(ClipPrediction(label: prediction.topLabel, probability: prediction.topProbability,
                                                   runID: current.runID, modelName: current.name)))
            } catch let error as TrainingError {
                completion(.failure(error))
            } catch {
                completion(.failure(TrainingError("\(url.lastPathComponent): \(error)")))
            }
        }
    }

    public func validation(runID: Int64, completion: @escaping @Sendable (Result<RunValidation, TrainingError>) -> Void) {
        predictions.async { [self] in
            do {
                completion(.success(try classifyValidation(runID: runID)))
            } catch let error as TrainingError {
                completion(.failure(error))
            } catch {
                completion(.failure(TrainingError("\(error)")))
            }
        }
    }

    /// Run `runID`'s validation clips (from its stored split) as its best checkpoint
    /// classifies them, with their labels now. On the `predictions` queue.
    private func classifyValidation(runID: Int64) throws -> RunValidation {
        guard let run = try store.run(id: runID) else { throw TrainingError("run \(runID) is not in the project database") }
        guard let path = run.bestCheckpointPath else {
            throw TrainingError("run \(runID) has no best checkpoint yet (it appears after an epoch with validation)")
        }
        let split = try DatasetSplit.decode(json: run.splitJSON)
        let model = try classifier(for: RunFiles.resolve(path, in: store.layout))
        // The checkpoint's class names, matched to the project's by name.
        let projectIndex = Dictionary(store.classes.map { ($0.name, $0.index) }, uniquingKeysWith: { first, _ in first })
        let clipsByPath = Dictionary(try store.clips().map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var clips: [ValidationClip] = [], skipped = 0
        for id in split.validation {
            guard let clip = clipsByPath[id], clip.isUsable, let truth = clip.label?.classIndex else {
                skipped += 1
                continue
            }
            // A clip that does not decode was left out of the run's validation as well.
            let prediction: Prediction
            do { prediction = try model.classify(clip: store.layout.root.appendingPathComponent(clip.path), loader: loader) }
            catch is ClipIOError {
                skipped += 1
                continue
            }
            guard let predicted = projectIndex[prediction.topLabel] else {
                skipped += 1
                continue
            }
            clips.append(ValidationClip(clipID: clip.id, truth: truth, predicted: predicted))
        }
        // The best epoch as the trainer chose it: the highest validation accuracy, the
        // lower validation loss between equals, the earlier epoch between exact equals.
        let best = try store.metrics(runID: runID).filter { $0.valAccuracy != nil }.min { a, b in
            (-(a.valAccuracy ?? 0), a.valLoss ?? .infinity, a.epoch) < (-(b.valAccuracy ?? 0), b.valLoss ?? .infinity, b.epoch)
        }
        return RunValidation(runID: runID, bestEpoch: best?.epoch, clips: clips, skipped: skipped)
    }

    /// The classifier of `checkpoint`, loaded again when the file has changed since.
    private func classifier(for checkpoint: URL) throws -> ClipClassifier {
        let modified = (try? FileManager.default.attributesOfItem(atPath: checkpoint.path)[.modificationDate]) as? Date
        if let current = classifier, current.checkpoint == checkpoint, classifierDate == modified {
            return current
        }
        let loaded = try ClipClassifier(checkpoint: checkpoint)
        classifier = loaded
        classifierDate = modified
        return loaded
    }
}
