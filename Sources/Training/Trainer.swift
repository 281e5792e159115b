import ActionNet
import ActionStore
import Foundation

/// Trains a model on its own serial queue. The caller talks to it only through the
/// `TrainingEvent`s it sends (on that queue, in order) and the pause/resume/stop
/// requests below; neither side touches the other's memory.
///
///     let trainer = Trainer(job: job) { event in mailbox.post(event) }
///     trainer.start()
///     ... trainer.pause(); trainer.resume(); trainer.stop() ...
///     let summary = trainer.wait()
///
/// One run: load and split the data, build the model (or load it), record the run,
/// then per epoch: shuffled batches, validation, metrics to the database and the CSV,
/// `last` and `best` checkpoints, early stopping and reduce-on-plateau. A stop request
/// finishes the current batch, saves `last` and reports; a run ended so can be resumed
/// from that checkpoint (`TrainingJob.resuming`). The same job and seed give the same
/// run (weights, metrics and events but the timings).
public final class Trainer: Sendable {
    public let job: TrainingJob
    private let control = TrainingControl()
    private let queue: DispatchQueue
    private let onEvent: @Sendable (TrainingEvent) -> Void
    private let ended = DispatchGroup()
    private let outcome = LockedResults<TrainingEvent?>(count: 1, initial: nil)

    public init(job: TrainingJob, queue: DispatchQueue = DispatchQueue(label: "ActionLab.Trainer", qos: .userInitiated),
                onEvent: @escaping @Sendable (TrainingEvent) -> Void) {
        self.job = job
        self.queue = queue
        self.onEvent = onEvent
    }

    /// Starts the run on the trainer's queue and returns at once. A trainer runs once:
    /// later calls do nothing.
    public func start() {
        guard control.markStarted() else { return }
        ended.enter()
        queue.async { [self] in
            defer { ended.leave() }
            var session = TrainingSession(job: job, control: control) { [self] event in
                if event.isFinal { _ = outcome.set(0, event) }
                onEvent(event)
            }
            session.run()
        }
    }

    /// Pauses between two batches (the `paused` event says when).
    public func pause() { control.setPaused(true) }
    public func resume() { control.setPaused(false) }
    /// Finishes the current batch, saves the `last` checkpoint and ends the run.
    public func stop() { control.requestStop() }
    public var isPaused: Bool { control.isPaused }

    /// Blocks until the run ends; returns its `finished` or `failed` event (nil before `start`).
    @discardableResult
    public func wait() -> TrainingEvent? {
        ended.wait()
        return outcome.values[0]
    }
}

/// The flags the caller sets and the trainer reads between batches.
final class TrainingControl: @unchecked Sendable {
    // Guarded by `condition`'s lock; waiters are woken on every change.
    private let condition = NSCondition()
    private var paused = false
    private var stopRequested = false
    private var started = false

    /// True the first time only.
    func markStarted() -> Bool {
        condition.withLock {
            defer { started = true }
            return !started
        }
    }

    func setPaused(_ value: Bool) {
        condition.lock()
        paused = value
        condition.broadcast()
        condition.unlock()
    }

    func requestStop() {
        condition.lock()
        stopRequested = true
        condition.broadcast()
        condition.unlock()
    }

    var isPaused: Bool { condition.withLock { paused } }
    var isStopRequested: Bool { condition.withLock { stopRequested } }

    /// Blocks while paused and no stop is requested; returns the seconds it waited.
    func waitWhilePaused() -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        condition.lock()
        while paused && !stopRequested { condition.wait() }
        condition.unlock()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// Seconds on a clock that does not jump.
private func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// A seed for one purpose (`stream`) and one epoch, independent of the others, so a
/// resumed run shuffles epoch 7 exactly as an uninterrupted one would.
func derivedSeed(_ seed: UInt64, stream: UInt64, epoch: Int) -> UInt64 {
    var random = SeededGenerator(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03))
    return random.next()
}

/// Tracks the best value of a monitored metric and the epochs since.
struct ImprovementTracker {
    /// Validation accuracy when there is a validation set (lower validation loss breaks
    /// ties), else training loss.
    var usesValidation: Bool
    var bestEpoch = 0
    var bestAccuracy: Float?
    var bestLoss: Float?
    var epochsWithoutImprovement = 0

    /// Records an epoch; returns true when it is the best so far.
    mutating func record(epoch: Int, loss: Float, accuracy: Float?) -> Bool {
        let better: Bool
        if usesValidation, let accuracy {
            better = bestAccuracy.map { accuracy > $0 || (accuracy == $0 && loss < (bestLoss ?? .infinity)) } ?? true
        } else {
            better = bestLoss.map { loss < $0 } ?? true
        }
        if better {
            bestEpoch = epoch
            bestAccuracy = accuracy
            bestLoss = loss
            epochsWithoutImprovement = 0
        } else {
            epochsWithoutImprovement += 1
        }
        return better
    }
}

/// Reduce-on-plateau's memory: the best monitored loss and the epochs since.
struct PlateauTracker {
    var schedule: PlateauSchedule
    var best = Double.infinity
    var wait = 0

    /// Records an epoch's monitored loss; returns true when the rate should be lowered now.
    mutating func record(_ loss: Double) -> Bool {
        if loss < best - schedule.minimumDelta {
            best = loss
            wait = 0
            return false
        }
        wait += 1
        if wait >= schedule.patience {
            wait = 0
            return true
        }
        return false
    }
}

/// The data of a run: the samples and which of them train and validate.
struct RunData {
    let set: SampleSet
    let split: DatasetSplit
    let trainIndices: [Int]
    let validationIndices: [Int]
    /// Split entries no longer found.
    let skipped: [SkippedSample]
    let batchSize: Int
    /// Decodes a project's clips while the run trains; nil for samples in memory or a file.
    let decoding: ClipDecoding?

    var batches: Int { (trainIndices.count + batchSize - 1) / batchSize }
    var validationBatches: Int { (validationIndices.count + batchSize - 1) / batchSize }

    /// The `index`th batch of `indices`.
    func batch(_ index: Int, of indices: [Int]) -> [Int] {
        Array(indices[index * batchSize ..< min((index + 1) * batchSize, indices.count)])
    }
}

/// What one epoch's training batches measured.
struct TrainingPass {
    var lossSum = 0.0, correct = 0, seen = 0, seconds = 0.0
    var loss: Float { Float(lossSum / Double(seen)) }
    var accuracy: Float { Float(correct) / Float(seen) }
    var samplesPerSecond: Double { Double(seen) / max(seconds, 1e-9) }
}

/// One run from start to end, on the trainer's queue.
struct TrainingSession {
    let job: TrainingJob
    let control: TrainingControl
    let emit: @Sendable (TrainingEvent) -> Void
    var settings: TrainingSettings { job.settings }

    private var runID: Int64?
    private var record: RunRecord?
    private var runDirectory: URL?
    private var pausedSeconds = 0.0
    private let startTime = now()
    private var previousDuration = 0.0
    private var lastCheckpoint: URL?
    private var bestCheckpoint: URL?

    // Where the run stands.
    private var improvement = ImprovementTracker(usesValidation: false)
    private var plateau: PlateauTracker?
    private var firstEpoch = 1
    private var epochsCompleted = 0
    private var position = TrainingPosition(epoch: 1, batch: 0)
    /// Measured by the last validation (the estimate's until then), for the ETA.
    private var validationSecondsPerBatch = 0.0

    init(job: TrainingJob, control: TrainingControl, emit: @escaping @Sendable (TrainingEvent) -> Void) {
        self.job = job
        self.control = control
        self.emit = emit
    }

    private var elapsed: Double { now() - startTime - pausedSeconds }

    mutating func run() {
        do {
            try train()
        } catch {
            let message = String(describing: error)
            if var record, let store = job.store {
                record.status = .failed
                record.statusDetail = message
                record.durationSeconds = previousDuration + elapsed
                try? store.updateRun(record)
            }
            emit(.failed(TrainingFailure(runID: runID, message: message)))
        }
    }

    /// The run, step by step.
    private mutating func train() throws {
        try settings.validate()
        let data = try splitData(try loadSamples())
        // Nothing is reported once the run has ended, however it ends.
        defer { data.decoding?.stop() }
        var (model, optimizer) = try makeModel()
        replayHistory(validating: !data.validationIndices.isEmpty)
        try recordRun(split: data.split)
        let csv = try MetricsCSV(urls: [runDirectory?.appendingPathComponent("metrics.csv"), job.csv].compactMap { $0 },
                                 keepingEpochsBefore: firstEpoch)
        try announce(data, model: model)
        startDecoding(data)

        var ending: (RunStatus, String)? = firstEpoch > settings.epochs
            ? (.completed, "all \(settings.epochs) epochs had already run") : nil
        var epoch = firstEpoch
        while ending == nil {
            ending = try runEpoch(epoch, data, model: model, optimizer: &optimizer, csv: csv)
            epoch += 1
        }
        try finish(ending ?? (.completed, "all \(settings.epochs) epochs ran"), data, model: model, optimizer: optimizer)
    }

    // MARK: before the first epoch

    /// The labelled samples, checked against the model's input and classes; a project's
    /// clips with the decoding that will fill the clip cache while the run trains.
    private func loadSamples() throws -> (SampleSet, ClipDecoding?) {
        let set: SampleSet
        var decoding: ClipDecoding?
        switch job.source {
        case .samples(let samples):
            set = samples
        case .project(let projectStore, let loader):
            let emit = emit
            let loaded = try ProjectDataset.decodingInBackground(
                store: projectStore, sampling: settings.sampling, loader: loader,
                progress: { done, total in emit(.loading(LoadingProgress(done: done, total: total))) },
                failed: { path, reason in emit(.skipped(SkippedSample(id: path, reason: reason))) })
            set = loaded.set
            decoding = loaded.decoding
            if set.count == 0 {
                throw TrainingError("\(projectStore.layout.root.path): no labelled, readable clips to train on "
                                    + "(label clips in the app or with `actionlab labels import`)")
            }
        }
        guard set.sampleShape == settings.model.inputShape else {
            throw TrainingError("the samples are \(Tensor.describe(set.sampleShape)) but the model takes "
                                + Tensor.describe(settings.model.inputShape) + " (T, H, W, C)")
        }
        guard set.classCount == settings.model.classes else {
            throw TrainingError("the data has \(set.classCount) classes but the model has \(settings.model.classes)")
        }
        return (set, decoding)
    }

    /// The job's split (a resumed run's) or a new one from the settings.
    private func splitData(_ loaded: (SampleSet, ClipDecoding?)) throws -> RunData {
        let (set, decoding) = loaded
        let split = job.split ?? DatasetSplit.make(set.samples, classes: set.classCount,
                                                   validationFraction: settings.validationFraction,
                                                   groupBy: settings.groupBy, seed: settings.seed)
        let (trainIndices, validationIndices, missing) = split.indices(in: set)
        guard !trainIndices.isEmpty else { throw TrainingError("no samples left for training after the split") }
        return RunData(set: set, split: split, trainIndices: trainIndices, validationIndices: validationIndices,
                       skipped: missing.map {
                           SkippedSample(id: $0, reason: "in the run's split but no longer a labelled, readable clip")
                       },
                       batchSize: settings.batchSize, decoding: decoding)
    }

    /// Starts decoding the clips the run uses, in the order its first epoch reads them
    /// (its training batches, then validation), so the first batch waits only for its own
    /// clips. One decoder thread: the training steps use the processor's cores, and the
    /// thread building the next batch decodes what the decoder has not reached yet, so
    /// before the first batch two threads decode.
    private func startDecoding(_ data: RunData) {
        guard let decoding = data.decoding else { return }
        let order = firstEpoch > settings.epochs ? [] : epochOrder(firstEpoch, data) + data.validationIndices
        decoding.start(order: order, threads: 1)
    }

    /// A new model from the settings, or the initial checkpoint's with its optimizer state.
    private func makeModel() throws -> (ActionModel, Adam) {
        let model: ActionModel
        var optimizer = Adam(learningRate: settings.learningRate, weightDecay: settings.weightDecay)
        if let url = job.initialCheckpoint {
            let loaded = try Checkpoint.load(url)
            guard loaded.spec.inputShape == settings.modelSpec.inputShape, loaded.spec.classes == settings.model.classes else {
                throw TrainingError("\(url.path): the checkpoint's model takes \(Tensor.describe(loaded.spec.inputShape)) "
                                    + "and tells \(loaded.spec.classes) classes apart, but the settings sample clips as "
                                    + "\(Tensor.describe(settings.modelSpec.inputShape)) (T, H, W, C) with \(settings.model.classes) classes")
            }
            model = loaded.model
            if let saved = loaded.optimizer {
                optimizer = saved
                optimizer.weightDecay = settings.weightDecay
                // A new run takes the rate asked for; a resumed one keeps its (maybe reduced) rate.
                if job.resume == nil { optimizer.learningRate = settings.learningRate }
            }
        } else {
            model = try ActionModel(spec: settings.modelSpec, seed: settings.seed)
        }
        try model.setDropout(settings.model.dropout, recurrent: settings.model.recurrentDropout)
        try model.setPrecision(settings.precision)
        return (model, optimizer)
    }

    /// Sets the trackers and the first epoch, replaying a resumed run's recorded epochs.
    private mutating func replayHistory(validating: Bool) {
        improvement = ImprovementTracker(usesValidation: validating)
        plateau = settings.reduceLearningRate.map { PlateauTracker(schedule: $0) }
        if let resume = job.resume {
            for m in resume.history {
                _ = improvement.record(epoch: m.epoch, loss: Float(m.valLoss ?? m.loss), accuracy: m.valAccuracy.map(Float.init))
                _ = plateau?.record(m.valLoss ?? m.loss)
            }
            firstEpoch = resume.run.epochs + 1
            previousDuration = resume.run.durationSeconds
        }
        epochsCompleted = firstEpoch - 1
        position = TrainingPosition(epoch: firstEpoch, batch: 0)
    }

    /// Creates (or, resuming, reopens) the run's record and folder.
    private mutating func recordRun(split: DatasetSplit) throws {
        guard let store = job.store else { return }
        var started: RunRecord
        if let resume = job.resume {
            started = resume.run
            started.status = .running
            started.statusDetail = nil
            started.settingsJSON = Self.json(settings)
            try store.updateRun(started)
        } else {
            started = try store.createRun(settingsJSON: Self.json(settings), splitJSON: split.json)
        }
        record = started
        runID = started.id
        let directory = RunFiles.directory(runID: started.id, in: store.layout)
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        catch { throw TrainingError("\(directory.path): cannot create the run folder") }
        runDirectory = directory
        lastCheckpoint = started.lastCheckpointPath.map { RunFiles.resolve($0, in: store.layout) }
        bestCheckpoint = started.bestCheckpointPath.map { RunFiles.resolve($0, in: store.layout) }
    }

    /// Estimates the run and reports its start.
    private mutating func announce(_ data: RunData, model: ActionModel) throws {
        let speed = try job.speed ?? ComputeSpeed.measure(for: model.spec, batchSize: data.batchSize, precision: model.precision)
        let estimate = try TrainingEstimate(model: model.spec, batchSize: data.batchSize, trainingSamples: data.trainIndices.count,
                                            validationSamples: data.validationIndices.count,
                                            dataBytes: data.set.byteCount + TrainingEstimate.batchDataBytes(
                                                sampleShape: data.set.sampleShape, classes: data.set.classCount,
                                                batchSize: data.batchSize, input: settings.input),
                                            speed: speed, precision: model.precision)
        validationSecondsPerBatch = estimate.validationSecondsPerBatch
        emit(.started(RunStart(runID: runID, runDirectory: runDirectory, settings: settings, model: model.spec,
                               classNames: data.set.classNames,
                               trainingPerClass: data.set.countsPerClass(data.trainIndices),
                               validationPerClass: data.set.countsPerClass(data.validationIndices),
                               batchesPerEpoch: data.batches, validationBatches: data.validationBatches,
                               firstEpoch: firstEpoch, parameterCount: model.parameterCount,
                               trainableParameterCount: model.trainableParameterCount,
                               estimate: estimate, skipped: data.skipped, startedFrom: job.initialCheckpoint)))
    }

    // MARK: one epoch

    /// Trains, validates, schedules, records and saves one epoch; returns how the run
    /// ends when it ends here.
    private mutating func runEpoch(_ epoch: Int, _ data: RunData, model: ActionModel, optimizer: inout Adam,
                                   csv: MetricsCSV) throws -> (RunStatus, String)? {
        let epochStart = now()
        guard let pass = try trainBatches(epoch, data, model: model, optimizer: &optimizer) else {
            return (.stopped, "stopped at epoch \(epoch), batch \(position.batch) of \(data.batches)")
        }
        position = TrainingPosition(epoch: epoch, batch: data.batches)
        let validationStart = now()
        let validation = try validate(epoch, data, model: model, trainingSeconds: pass.seconds)
        let validationSeconds = now() - validationStart

        let isBest = improvement.record(epoch: epoch, loss: validation?.loss ?? pass.loss, accuracy: validation?.accuracy)
        epochsCompleted = epoch
        let learningRate = optimizer.learningRate
        let report = EpochReport(epoch: epoch, epochs: settings.epochs, loss: pass.loss, accuracy: pass.accuracy,
                                 validationLoss: validation?.loss, validationAccuracy: validation?.accuracy,
                                 learningRate: learningRate, seconds: now() - epochStart,
                                 trainingSeconds: pass.seconds, validationSeconds: validationSeconds,
                                 samplesPerSecond: pass.samplesPerSecond,
                                 perClassValidationAccuracy: validation?.recall ?? Array(repeating: nil, count: data.set.classCount),
                                 confusion: validation?.confusion, isBest: isBest, bestEpoch: improvement.bestEpoch,
                                 bestValidationAccuracy: improvement.bestAccuracy,
                                 epochsWithoutImprovement: improvement.epochsWithoutImprovement)
        emit(.epoch(report))
        scheduleLearningRate(after: report, optimizer: &optimizer)
        if let store = job.store, let runID {
            try store.appendMetrics(EpochMetrics(runID: runID, epoch: epoch, loss: Double(report.loss),
                                                 accuracy: Double(report.accuracy),
                                                 valLoss: report.validationLoss.map(Double.init),
                                                 valAccuracy: report.validationAccuracy.map(Double.init),
                                                 learningRate: Double(learningRate), seconds: report.seconds))
        }
        try csv.append(report)
        // Without a validation set every epoch counts as the best: there is nothing to compare.
        try saveCheckpoints(model: model, optimizer: optimizer, labels: data.set.classNames, epoch: epoch,
                            isBest: isBest || data.validationIndices.isEmpty)
        try recordProgress(status: .running, detail: nil)

        if epoch >= settings.epochs { return (.completed, "all \(settings.epochs) epochs ran") }
        if let patience = settings.earlyStoppingPatience, improvement.epochsWithoutImprovement >= patience {
            let what = data.validationIndices.isEmpty ? "training loss" : "validation accuracy"
            return (.earlyStopped, "no better \(what) for \(patience) epochs (best at epoch \(improvement.bestEpoch))")
        }
        if control.isStopRequested { return (.stopped, "stopped after epoch \(epoch)") }
        return nil
    }

    /// The epoch's shuffled, augmented training batches; nil when a stop request ends the
    /// epoch before its last batch.
    private mutating func trainBatches(_ epoch: Int, _ data: RunData, model: ActionModel,
                                       optimizer: inout Adam) throws -> TrainingPass? {
        let order = epochOrder(epoch, data)
        let augmenter = SeededGenerator(seed: derivedSeed(settings.seed, stream: 2, epoch: epoch))
        // The next batch is read and augmented while this one trains.
        let batches = try data.set.prefetchedBatches((0..<data.batches).map { data.batch($0, of: order) },
                                                     augmentation: settings.augmentation, input: settings.input,
                                                     random: augmenter)
        var pass = TrainingPass()
        for batch in 0..<data.batches {
            position = TrainingPosition(epoch: epoch, batch: batch)
            waitWhilePaused()
            if control.isStopRequested { return nil }
            let batchStart = now()
            guard let (x, y) = try batches.next() else { throw TrainingError("the epoch's batches ended before batch \(batch + 1)") }
            // The batch holds the samples of its indices that were not left out.
            let indices = data.set.readable(data.batch(batch, of: order))
            if indices.isEmpty { continue }
            let step = try job.compute.trainStep(model, x, y, &optimizer)
            try Self.checkFinite(step.loss, of: "training", at: position, lastCheckpoint: lastCheckpoint)
            pass.lossSum += Double(step.loss) * Double(indices.count)
            pass.correct += Evaluation.countCorrect(step.probabilities, indices.map { data.set.samples[$0].classIndex })
            pass.seen += indices.count
            pass.seconds += now() - batchStart
            let secondsPerBatch = pass.seconds / Double(batch + 1)
            emit(.batch(BatchProgress(epoch: epoch, epochs: settings.epochs, batch: batch + 1, batches: data.batches,
                                      loss: step.loss, meanLoss: pass.loss, meanAccuracy: pass.accuracy,
                                      learningRate: optimizer.learningRate, secondsPerBatch: secondsPerBatch,
                                      validationSecondsPerBatch: validationSecondsPerBatch,
                                      samplesPerSecond: pass.samplesPerSecond,
                                      etaSeconds: remainingSeconds(epoch: epoch, data,
                                                                   trainingBatchesLeft: data.batches - batch - 1,
                                                                   validationBatchesLeft: data.validationBatches,
                                                                   secondsPerBatch: secondsPerBatch),
                                      elapsedSeconds: elapsed, layers: model.statistics)))
        }
        guard pass.seen > 0 else { throw TrainingError("none of the training clips could be decoded") }
        return pass
    }

    /// The training samples in the order epoch `epoch` trains on them.
    private func epochOrder(_ epoch: Int, _ data: RunData) -> [Int] {
        var order = data.trainIndices
        if settings.shuffle {
            var shuffler = SeededGenerator(seed: derivedSeed(settings.seed, stream: 1, epoch: epoch))
            order.shuffle(using: &shuffler)
        }
        return order
    }

    /// The validation set's results in inference mode, or nil without one (or when none
    /// of its clips decoded).
    private mutating func validate(_ epoch: Int, _ data: RunData, model: ActionModel,
                                   trainingSeconds: Double) throws -> Evaluation? {
        guard !data.validationIndices.isEmpty else { return nil }
        let start = now()
        var evaluation = Evaluation(classNames: data.set.classNames)
        let batches = try data.set.prefetchedBatches((0..<data.validationBatches).map { data.batch($0, of: data.validationIndices) },
                                                     input: settings.input)
        for batch in 0..<data.validationBatches {
            waitWhilePaused()
            guard let (x, _) = try batches.next() else {
                throw TrainingError("the validation batches ended before batch \(batch + 1)")
            }
            let indices = data.set.readable(data.batch(batch, of: data.validationIndices))
            if !indices.isEmpty {
                evaluation.add(try job.compute.predict(model, x, data.batchSize),
                               truths: indices.map { data.set.samples[$0].classIndex })
            }
            validationSecondsPerBatch = (now() - start) / Double(batch + 1)
            emit(.validation(ValidationProgress(epoch: epoch, epochs: settings.epochs, batch: batch + 1,
                                                batches: data.validationBatches, secondsPerBatch: validationSecondsPerBatch,
                                                etaSeconds: remainingSeconds(epoch: epoch, data, trainingBatchesLeft: 0,
                                                                             validationBatchesLeft: data.validationBatches - batch - 1,
                                                                             secondsPerBatch: trainingSeconds / Double(data.batches)))))
        }
        guard evaluation.confusion.total > 0 else { return nil }
        try Self.checkFinite(evaluation.loss, of: "validation", at: position, lastCheckpoint: lastCheckpoint)
        return evaluation
    }

    /// Lowers the learning rate when the monitored loss has stopped improving.
    private mutating func scheduleLearningRate(after report: EpochReport, optimizer: inout Adam) {
        guard let schedule = settings.reduceLearningRate,
              plateau?.record(Double(report.validationLoss ?? report.loss)) == true else { return }
        let lowered = max(report.learningRate * schedule.factor, schedule.minimum)
        guard lowered < report.learningRate else { return }
        optimizer.learningRate = lowered
        emit(.learningRateChanged(LearningRateChange(epoch: report.epoch, from: report.learningRate, to: lowered)))
    }

    /// Blocks between two batches while the run is paused, saying so.
    private mutating func waitWhilePaused() {
        guard control.isPaused else { return }
        emit(.paused(position))
        pausedSeconds += control.waitWhilePaused()
        emit(.resumed(position))
    }

    /// Seconds until the run ends: what is left of this epoch's training and validation
    /// batches, then every later epoch at the current speeds.
    private func remainingSeconds(epoch: Int, _ data: RunData, trainingBatchesLeft: Int, validationBatchesLeft: Int,
                                  secondsPerBatch: Double) -> Double {
        Double(trainingBatchesLeft) * secondsPerBatch + Double(validationBatchesLeft) * validationSecondsPerBatch
            + Double(settings.epochs - epoch)
            * (Double(data.batches) * secondsPerBatch + Double(data.validationBatches) * validationSecondsPerBatch)
    }

    // MARK: the end

    /// Keeps the weights of an epoch stopped part-way, records the ending and reports it.
    private mutating func finish(_ ending: (RunStatus, String), _ data: RunData, model: ActionModel, optimizer: Adam) throws {
        let (status, reason) = ending
        data.decoding?.stop()
        if status == .stopped && position.batch > 0 && position.batch < data.batches {
            // The weights moved since the last epoch's checkpoint: keep them to resume from.
            try writeCheckpoint(.last, model: model, optimizer: optimizer, labels: data.set.classNames, epoch: epochsCompleted)
        }
        try recordProgress(status: status, detail: reason)
        emit(.finished(RunSummary(runID: runID, status: status, reason: reason, epochsCompleted: epochsCompleted,
                                  bestEpoch: improvement.bestEpoch > 0 ? improvement.bestEpoch : nil,
                                  bestValidationAccuracy: improvement.bestAccuracy, seconds: previousDuration + elapsed,
                                  lastCheckpoint: lastCheckpoint, bestCheckpoint: bestCheckpoint)))
    }

    // MARK: checkpoints and records

    /// Writes `last` every epoch, and `best` (and the output copy) when the epoch is the best.
    private mutating func saveCheckpoints(model: ActionModel, optimizer: Adam, labels: [String], epoch: Int,
                                          isBest: Bool) throws {
        try writeCheckpoint(.last, model: model, optimizer: optimizer, labels: labels, epoch: epoch)
        guard isBest else { return }
        try writeCheckpoint(.best, model: model, optimizer: optimizer, labels: labels, epoch: epoch)
        try writeCheckpoint(.output, model: model, optimizer: optimizer, labels: labels, epoch: epoch)
    }

    /// Writes one checkpoint: `last` and `best` in the run folder, `output` where the job
    /// asks (each only when it has a place), with the epoch, run, input transform and
    /// best accuracy in the metadata.
    private mutating func writeCheckpoint(_ kind: CheckpointSaved.Kind, model: ActionModel, optimizer: Adam,
                                          labels: [String], epoch: Int) throws {
        let url: URL
        switch kind {
        case .last, .best:
            guard let runDirectory else { return }
            url = runDirectory.appendingPathComponent(kind == .last ? "last.safetensors" : "best.safetensors")
        case .output:
            guard let output = job.output else { return }
            url = output
        }
        var metadata = ["epoch": String(epoch), InputTransform.metadataKey: settings.input.rawValue]
        if let runID { metadata["run_id"] = String(runID) }
        if let best = improvement.bestAccuracy { metadata["best_val_accuracy"] = String(best) }
        try Checkpoint.save(model, labels: labels, optimizer: optimizer, metadata: metadata, to: url)
        switch kind {
        case .last: lastCheckpoint = url
        case .best: bestCheckpoint = url
        case .output: if runDirectory == nil { bestCheckpoint = url }
        }
        emit(.checkpoint(CheckpointSaved(kind: kind, url: url, epoch: epoch)))
    }

    private mutating func recordProgress(status: RunStatus, detail: String?) throws {
        guard var updated = record, let store = job.store else { return }
        updated.status = status
        updated.statusDetail = detail
        updated.epochs = epochsCompleted
        updated.bestValAccuracy = improvement.bestAccuracy.map(Double.init)
        updated.durationSeconds = previousDuration + elapsed
        updated.lastCheckpointPath = lastCheckpoint.map { RunFiles.recordedPath($0, in: store.layout) }
        updated.bestCheckpointPath = bestCheckpoint.map { RunFiles.recordedPath($0, in: store.layout) }
        try store.updateRun(updated)
        record = updated
    }

    static func json(_ settings: TrainingSettings) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(settings)) ?? Data(), as: UTF8.self)
    }
}

/// The per-epoch CSV: `epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds`
/// (validation columns empty without a validation set). A resumed run keeps the rows of
/// the epochs before it and appends.
struct MetricsCSV {
    static let header = "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds"
    let urls: [URL]

    init(urls: [URL], keepingEpochsBefore firstEpoch: Int) throws {
        self.urls = urls
        for url in urls {
            var lines = [Self.header]
            if firstEpoch > 1, let text = try? String(contentsOf: url, encoding: .utf8) {
                lines += text.split(separator: "\n").dropFirst().filter { line in
                    Int(line.prefix { $0 != "," }).map { $0 < firstEpoch } ?? false
                }.map(String.init)
            }
            try Self.write(lines, to: url)
        }
    }

    func append(_ report: EpochReport) throws {
        func number(_ value: Float?) -> String { value.map { String(format: "%.6f", $0) } ?? "" }
        let line = [String(report.epoch), number(report.loss), number(report.accuracy), number(report.validationLoss),
                    number(report.validationAccuracy), String(format: "%g", report.learningRate),
                    String(format: "%.3f", report.seconds)].joined(separator: ",")
        for url in urls {
            do {
                let handle = try FileHandle(forWritingTo: url)
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: Data((line + "\n").utf8))
            } catch {
                throw TrainingError("\(url.path): cannot append the epoch's metrics: \(error.localizedDescription)")
            }
        }
    }

    private static func write(_ lines: [String], to url: URL) throws {
        do { try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url, options: .atomic) }
        catch { throw TrainingError("\(url.path): cannot write the metrics CSV: \(error.localizedDescription)") }
    }
}
