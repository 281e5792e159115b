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

    private mutating func train() throws {
        try settings.validate()
        let store = job.store

        // The data.
        var skipped: [SkippedSample] = []
        let set: SampleSet
        switch job.source {
        case .samples(let samples):
            set = samples
        case .project(let projectStore, let loader):
            let control = control, emit = emit
            let loaded = try ProjectDataset.load(store: projectStore, sampling: settings.sampling, loader: loader,
                                                 isCancelled: { control.isStopRequested },
                                                 progress: { done, total in emit(.loading(LoadingProgress(done: done, total: total))) })
            set = loaded.set
            skipped = loaded.skipped.map { SkippedSample(id: $0.path, reason: $0.reason) }
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

        // The split.
        let split = job.split ?? DatasetSplit.make(set.samples, classes: set.classCount,
                                                   validationFraction: settings.validationFraction,
                                                   groupBy: settings.groupBy, seed: settings.seed)
        let (trainIndices, validationIndices, missing) = split.indices(in: set)
        skipped += missing.map { SkippedSample(id: $0, reason: "in the run's split but no longer a labelled, readable clip") }
        guard !trainIndices.isEmpty else { throw TrainingError("no samples left for training after the split") }

        // The model and optimizer.
        let model: ActionModel
        var optimizer = Adam(learningRate: settings.learningRate, weightDecay: settings.weightDecay)
        if let url = job.initialCheckpoint {
            let loaded = try Checkpoint.load(url)
            guard loaded.spec.inputShape == settings.model.inputShape, loaded.spec.classes == settings.model.classes else {
                throw TrainingError("\(url.path): the checkpoint's model takes \(Tensor.describe(loaded.spec.inputShape)) "
                                    + "and tells \(loaded.spec.classes) classes apart, but the settings sample clips as "
                                    + "\(Tensor.describe(settings.model.inputShape)) (T, H, W, C) with \(settings.model.classes) classes")
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

        // Trackers, replaying a resumed run's history.
        var improvement = ImprovementTracker(usesValidation: !validationIndices.isEmpty)
        var plateau = settings.reduceLearningRate.map { PlateauTracker(schedule: $0) }
        var firstEpoch = 1
        if let resume = job.resume {
            for m in resume.history {
                _ = improvement.record(epoch: m.epoch, loss: Float(m.valLoss ?? m.loss), accuracy: m.valAccuracy.map(Float.init))
                _ = plateau?.record(m.valLoss ?? m.loss)
            }
            firstEpoch = resume.run.epochs + 1
            previousDuration = resume.run.durationSeconds
        }

        // The run record and folder.
        if let store {
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
        let csv = try MetricsCSV(urls: [runDirectory?.appendingPathComponent("metrics.csv"), job.csv].compactMap { $0 },
                                 keepingEpochsBefore: firstEpoch)

        let batchSize = settings.batchSize
        let batches = (trainIndices.count + batchSize - 1) / batchSize
        let validationBatches = (validationIndices.count + batchSize - 1) / batchSize
        let speed = try job.speed ?? ComputeSpeed.measure(for: model.spec, batchSize: batchSize)
        let estimate = try TrainingEstimate(model: model.spec, batchSize: batchSize, trainingSamples: trainIndices.count,
                                            validationSamples: validationIndices.count, dataBytes: set.byteCount, speed: speed)
        emit(.started(RunStart(runID: runID, runDirectory: runDirectory, settings: settings, model: model.spec,
                               classNames: set.classNames,
                               trainingPerClass: set.countsPerClass(trainIndices),
                               validationPerClass: set.countsPerClass(validationIndices),
                               batchesPerEpoch: batches, validationBatches: validationBatches, firstEpoch: firstEpoch,
                               parameterCount: model.parameterCount,
                               trainableParameterCount: model.trainableParameterCount,
                               estimate: estimate, skipped: skipped, startedFrom: job.initialCheckpoint)))

        let epochs = settings.epochs
        var validationSecondsPerBatch = estimate.validationSecondsPerBatch
        var epochsCompleted = firstEpoch - 1
        var position = TrainingPosition(epoch: firstEpoch, batch: 0)
        var ending: (RunStatus, String)? = nil
        if firstEpoch > epochs {
            ending = (.completed, "all \(epochs) epochs had already run")
        }

        epochLoop: for epoch in firstEpoch ... max(firstEpoch, epochs) where ending == nil {
            let epochStart = now()
            var order = trainIndices
            if settings.shuffle {
                var shuffler = SeededGenerator(seed: derivedSeed(settings.seed, stream: 1, epoch: epoch))
                order.shuffle(using: &shuffler)
            }
            var augmenter = SeededGenerator(seed: derivedSeed(settings.seed, stream: 2, epoch: epoch))
            var lossSum = 0.0, correct = 0, seen = 0, trainingSeconds = 0.0
            for batch in 0..<batches {
                position = TrainingPosition(epoch: epoch, batch: batch)
                if control.isPaused {
                    emit(.paused(position))
                    pausedSeconds += control.waitWhilePaused()
                    emit(.resumed(position))
                }
                if control.isStopRequested {
                    ending = (.stopped, "stopped at epoch \(epoch), batch \(batch) of \(batches)")
                    break epochLoop
                }
                let batchStart = now()
                let indices = Array(order[batch * batchSize ..< min((batch + 1) * batchSize, order.count)])
                let (x, y) = set.batch(indices, augmentation: settings.augmentation, input: settings.input, random: &augmenter)
                let step = try job.compute.trainStep(model, x, y, &optimizer)
                lossSum += Double(step.loss) * Double(indices.count)
                correct += Self.countCorrect(step.probabilities, indices.map { set.samples[$0].classIndex })
                seen += indices.count
                trainingSeconds += now() - batchStart
                let secondsPerBatch = trainingSeconds / Double(batch + 1)
                let remainingEpochs = Double(epochs - epoch)
                let eta = Double(batches - batch - 1) * secondsPerBatch
                    + Double(validationBatches) * validationSecondsPerBatch
                    + remainingEpochs * (Double(batches) * secondsPerBatch + Double(validationBatches) * validationSecondsPerBatch)
                emit(.batch(BatchProgress(epoch: epoch, epochs: epochs, batch: batch + 1, batches: batches, loss: step.loss,
                                          meanLoss: Float(lossSum / Double(seen)), meanAccuracy: Float(correct) / Float(seen),
                                          learningRate: optimizer.learningRate, secondsPerBatch: secondsPerBatch,
                                          validationSecondsPerBatch: validationSecondsPerBatch,
                                          samplesPerSecond: Double(seen) / max(trainingSeconds, 1e-9), etaSeconds: eta,
                                          elapsedSeconds: elapsed, layers: model.statistics)))
            }
            position = TrainingPosition(epoch: epoch, batch: batches)

            // Validation.
            let validationStart = now()
            var confusion: ConfusionMatrix? = nil
            var validationLoss: Float? = nil
            if !validationIndices.isEmpty {
                var matrix = ConfusionMatrix(classes: set.classCount)
                var total = 0.0
                for batch in 0..<validationBatches {
                    if control.isPaused {
                        emit(.paused(position))
                        pausedSeconds += control.waitWhilePaused()
                        emit(.resumed(position))
                    }
                    let indices = Array(validationIndices[batch * batchSize ..< min((batch + 1) * batchSize, validationIndices.count)])
                    let (x, _) = set.batch(indices, input: settings.input)
                    let probabilities = try job.compute.predict(model, x, batchSize)
                    total += Self.score(probabilities, truths: indices.map { set.samples[$0].classIndex }, into: &matrix)
                    let perBatch = (now() - validationStart) / Double(batch + 1)
                    let eta = Double(validationBatches - batch - 1) * perBatch
                        + Double(epochs - epoch) * (trainingSeconds + Double(validationBatches) * perBatch)
                    emit(.validation(ValidationProgress(epoch: epoch, epochs: epochs, batch: batch + 1, batches: validationBatches,
                                                        secondsPerBatch: perBatch, etaSeconds: eta)))
                }
                validationSecondsPerBatch = (now() - validationStart) / Double(validationBatches)
                confusion = matrix
                validationLoss = Float(total / Double(validationIndices.count))
            }
            let validationSeconds = now() - validationStart
            let loss = Float(lossSum / Double(seen)), accuracy = Float(correct) / Float(seen)
            let validationAccuracy = confusion?.accuracy
            let isBest = improvement.record(epoch: epoch, loss: validationLoss ?? loss, accuracy: validationAccuracy)
            epochsCompleted = epoch
            let learningRate = optimizer.learningRate
            let report = EpochReport(epoch: epoch, epochs: epochs, loss: loss, accuracy: accuracy,
                                     validationLoss: validationLoss, validationAccuracy: validationAccuracy,
                                     learningRate: learningRate, seconds: now() - epochStart,
                                     trainingSeconds: trainingSeconds, validationSeconds: validationSeconds,
                                     samplesPerSecond: Double(seen) / max(trainingSeconds, 1e-9),
                                     perClassValidationAccuracy: confusion?.recall ?? Array(repeating: nil, count: set.classCount),
                                     confusion: confusion, isBest: isBest, bestEpoch: improvement.bestEpoch,
                                     bestValidationAccuracy: improvement.bestAccuracy,
                                     epochsWithoutImprovement: improvement.epochsWithoutImprovement)
            emit(.epoch(report))

            if let schedule = settings.reduceLearningRate, plateau?.record(Double(validationLoss ?? loss)) == true {
                let lowered = max(learningRate * schedule.factor, schedule.minimum)
                if lowered < learningRate {
                    optimizer.learningRate = lowered
                    emit(.learningRateChanged(LearningRateChange(epoch: epoch, from: learningRate, to: lowered)))
                }
            }
            if let store, let runID {
                try store.appendMetrics(EpochMetrics(runID: runID, epoch: epoch, loss: Double(loss), accuracy: Double(accuracy),
                                                     valLoss: validationLoss.map(Double.init),
                                                     valAccuracy: validationAccuracy.map(Double.init),
                                                     learningRate: Double(learningRate), seconds: report.seconds))
            }
            try csv.append(report)
            try saveCheckpoints(model: model, optimizer: optimizer, labels: set.classNames, epoch: epoch,
                                isBest: isBest || validationIndices.isEmpty, bestAccuracy: improvement.bestAccuracy)
            try recordProgress(status: .running, detail: nil, epochs: epoch, best: improvement.bestAccuracy)

            if epoch >= epochs {
                ending = (.completed, "all \(epochs) epochs ran")
            } else if let patience = settings.earlyStoppingPatience, improvement.epochsWithoutImprovement >= patience {
                let what = validationIndices.isEmpty ? "training loss" : "validation accuracy"
                ending = (.earlyStopped, "no better \(what) for \(patience) epochs (best at epoch \(improvement.bestEpoch))")
            } else if control.isStopRequested {
                ending = (.stopped, "stopped after epoch \(epoch)")
            }
        }

        let (status, reason) = ending ?? (.completed, "all \(epochs) epochs ran")
        if status == .stopped && position.batch > 0 && position.batch < batches {
            // The weights moved since the last epoch's checkpoint: keep them to resume from.
            try saveLast(model: model, optimizer: optimizer, labels: set.classNames, epoch: epochsCompleted,
                         bestAccuracy: improvement.bestAccuracy)
        }
        try recordProgress(status: status, detail: reason, epochs: epochsCompleted, best: improvement.bestAccuracy)
        emit(.finished(RunSummary(runID: runID, status: status, reason: reason, epochsCompleted: epochsCompleted,
                                  bestEpoch: improvement.bestEpoch > 0 ? improvement.bestEpoch : nil,
                                  bestValidationAccuracy: improvement.bestAccuracy, seconds: previousDuration + elapsed,
                                  lastCheckpoint: lastCheckpoint, bestCheckpoint: bestCheckpoint)))
    }

    // MARK: checkpoints and records

    private func metadata(epoch: Int, bestAccuracy: Float?) -> [String: String] {
        var metadata = ["epoch": String(epoch), InputTransform.metadataKey: settings.input.rawValue]
        if let runID { metadata["run_id"] = String(runID) }
        if let bestAccuracy { metadata["best_val_accuracy"] = String(bestAccuracy) }
        return metadata
    }

    private mutating func saveLast(model: ActionModel, optimizer: Adam, labels: [String], epoch: Int, bestAccuracy: Float?) throws {
        guard let runDirectory else { return }
        let url = runDirectory.appendingPathComponent("last.safetensors")
        try Checkpoint.save(model, labels: labels, optimizer: optimizer,
                            metadata: metadata(epoch: epoch, bestAccuracy: bestAccuracy), to: url)
        lastCheckpoint = url
        emit(.checkpoint(CheckpointSaved(kind: .last, url: url, epoch: epoch)))
    }

    /// Writes `last` every epoch, and `best` (and the output copy) when the epoch is the best.
    /// Without a validation set every epoch counts as the best: there is nothing to compare.
    private mutating func saveCheckpoints(model: ActionModel, optimizer: Adam, labels: [String], epoch: Int,
                                          isBest: Bool, bestAccuracy: Float?) throws {
        try saveLast(model: model, optimizer: optimizer, labels: labels, epoch: epoch, bestAccuracy: bestAccuracy)
        guard isBest else { return }
        if let runDirectory {
            let url = runDirectory.appendingPathComponent("best.safetensors")
            try Checkpoint.save(model, labels: labels, optimizer: optimizer,
                                metadata: metadata(epoch: epoch, bestAccuracy: bestAccuracy), to: url)
            bestCheckpoint = url
            emit(.checkpoint(CheckpointSaved(kind: .best, url: url, epoch: epoch)))
        }
        if let output = job.output {
            try Checkpoint.save(model, labels: labels, optimizer: optimizer,
                                metadata: metadata(epoch: epoch, bestAccuracy: bestAccuracy), to: output)
            if runDirectory == nil { bestCheckpoint = output }
            emit(.checkpoint(CheckpointSaved(kind: .output, url: output, epoch: epoch)))
        }
    }

    private mutating func recordProgress(status: RunStatus, detail: String?, epochs: Int, best: Float?) throws {
        guard var updated = record, let store = job.store else { return }
        updated.status = status
        updated.statusDetail = detail
        updated.epochs = epochs
        updated.bestValAccuracy = best.map(Double.init)
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

    // MARK: scoring

    static func argmax(_ p: ArraySlice<Float>) -> Int {
        var best = p.startIndex
        for i in p.indices where p[i] > p[best] { best = i }
        return best - p.startIndex
    }

    /// Rows of `probabilities` (B, classes) whose top class is the truth.
    static func countCorrect(_ probabilities: Tensor, _ truths: [Int]) -> Int {
        let classes = probabilities.shape[1]
        return truths.enumerated().reduce(0) { count, item in
            count + (argmax(probabilities.data[item.offset * classes ..< (item.offset + 1) * classes]) == item.element ? 1 : 0)
        }
    }

    /// Adds each row's (truth, prediction) to `matrix`; returns the summed categorical
    /// cross-entropy, with probabilities clipped to [1e-7, 1 - 1e-7] as Keras does.
    static func score(_ probabilities: Tensor, truths: [Int], into matrix: inout ConfusionMatrix) -> Double {
        let classes = probabilities.shape[1]
        var loss = 0.0
        for (row, truth) in truths.enumerated() {
            let p = probabilities.data[row * classes ..< (row + 1) * classes]
            matrix.add(truth: truth, predicted: argmax(p))
            loss -= log(Double(min(max(p[p.startIndex + truth], 1e-7), 1 - 1e-7)))
        }
        return loss
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
