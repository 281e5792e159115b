import ActionNet
import ActionStore
import Foundation

extension DatasetSplit {
    /// Assigns every sample to one of `folds` folds, stratified and group-aware like `make`:
    /// a group (see `SplitGrouping`) stays whole in one fold and counts for the class most of
    /// its samples have; each class's groups go, in a seeded order, to the fold holding the
    /// fewest samples of that class so far (the fewest samples in all on ties). Returns the
    /// fold of each sample, in `samples`' order. The same inputs always give the same folds.
    public static func folds(_ samples: [SampleInfo], classes: Int, folds: Int, groupBy: SplitGrouping = .none,
                             seed: UInt64) -> [Int] {
        let folds = max(1, folds)
        var members: [String: [Int]] = [:]
        for (i, s) in samples.enumerated() { members[groupBy.group(of: s.id), default: []].append(i) }
        var groupsOfClass = [[String]](repeating: [], count: max(classes, 1))
        for (group, indices) in members {
            var votes = [Int](repeating: 0, count: groupsOfClass.count)
            for i in indices where votes.indices.contains(samples[i].classIndex) { votes[samples[i].classIndex] += 1 }
            // The lowest class index on ties, as in `make`.
            var owner = 0
            for c in votes.indices where votes[c] > votes[owner] { owner = c }
            groupsOfClass[owner].append(group)
        }
        var fold = [Int](repeating: 0, count: samples.count)
        var total = [Int](repeating: 0, count: folds)
        for c in groupsOfClass.indices {
            var random = SeededGenerator(seed: seed ^ (0x5A5A_A5A5_8765_4321 &* UInt64(c + 1)))
            var order = groupsOfClass[c].sorted()
            order.shuffle(using: &random)
            var ofClass = [Int](repeating: 0, count: folds)
            for group in order {
                let indices = members[group] ?? []
                var target = 0
                for f in 0..<folds where (ofClass[f], total[f]) < (ofClass[target], total[target]) { target = f }
                for i in indices { fold[i] = target }
                ofClass[target] += indices.count
                total[target] += indices.count
            }
        }
        return fold
    }
}

/// Trains models one after another on samples in memory, each on its own split, and
/// stops the one in progress on request: the engine of `review` and `train-curve`.
final class SequentialTraining: @unchecked Sendable {
    // `current` and `stopped` are guarded by `lock`: `stop` comes from another thread.
    private let lock = NSLock()
    private var current: Trainer?
    private var stopped = false

    var isStopped: Bool { lock.withLock { stopped } }

    func stop() {
        let trainer = lock.withLock { () -> Trainer? in
            stopped = true
            return current
        }
        trainer?.stop()
    }

    /// Trains `settings` on `set` with `split`, writing the final model to `output` when
    /// given; returns the run's summary, or throws when it failed or a stop was requested.
    func train(_ set: SampleSet, settings: TrainingSettings, split: DatasetSplit, output: URL?, speed: ComputeSpeed?,
               events: @escaping @Sendable (TrainingEvent) -> Void) throws -> RunSummary {
        var job = TrainingJob(source: .samples(set), settings: settings, output: output, split: split, speed: speed)
        job.store = nil
        let trainer = Trainer(job: job, onEvent: events)
        let begin = lock.withLock { () -> Bool in
            if stopped { return false }
            current = trainer
            return true
        }
        guard begin else { throw TrainingError.stopped }
        trainer.start()
        let final = trainer.wait()
        lock.withLock { current = nil }
        if isStopped { throw TrainingError.stopped }
        switch final {
        case .finished(let summary)?: return summary
        case .failed(let failure)?: throw TrainingError(failure.message)
        default: throw TrainingError("training ended without a result")
        }
    }
}

extension TrainingError {
    /// The user asked to stop; nothing was kept.
    public static let stopped = TrainingError("stopped before the end; nothing was kept")
}

/// Out-of-fold predictions: K models, each trained on the samples outside one fold and
/// predicting the samples in it, so every sample is scored by a model that never saw it.
/// Labels the models disagree with most are the likeliest to be wrong (cleanlab's idea).
public final class CrossValidation: Sendable {
    public let set: SampleSet
    /// The settings of every fold's model; validation is off (each trains on all of its data).
    public let settings: TrainingSettings
    public let folds: Int
    /// The fold of every sample of `set`.
    public let assignment: [Int]
    private let training = SequentialTraining()
    private let speed: ComputeSpeed?

    /// Folds are made from `settings.groupBy` and `settings.seed`; fewer folds than samples
    /// per class leaves some folds without that class, which is allowed.
    public init(set: SampleSet, settings: TrainingSettings, folds: Int, speed: ComputeSpeed? = nil) throws(TrainingError) {
        guard folds >= 2 else { throw TrainingError("--folds must be at least 2, got \(folds)") }
        guard set.count >= folds else {
            throw TrainingError("\(set.count) labelled clips cannot make \(folds) folds; label more or use fewer folds")
        }
        var settings = settings
        settings.validationFraction = 0
        // Without validation data early stopping would watch the training loss only.
        settings.earlyStoppingPatience = nil
        self.set = set
        self.settings = settings
        self.folds = folds
        self.speed = speed
        assignment = DatasetSplit.folds(set.samples, classes: set.classCount, folds: folds, groupBy: settings.groupBy,
                                        seed: settings.seed)
    }

    /// Ends the fold in progress after its batch; `run` then throws `TrainingError.stopped`.
    public func stop() { training.stop() }

    /// Trains the K models in turn and returns each sample's out-of-fold probabilities
    /// (in `set.classNames` order), in `set`'s order. `events(fold, event)` reports the
    /// training of fold `fold` (from 0), from the trainer's thread.
    public func run(events: @escaping @Sendable (Int, TrainingEvent) -> Void = { _, _ in }) throws -> [[Float]] {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("actionlab-review-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var probabilities = [[Float]](repeating: [], count: set.count)
        for fold in 0..<folds {
            let heldOut = assignment.indices.filter { assignment[$0] == fold }
            guard !heldOut.isEmpty else { continue }
            let split = DatasetSplit(seed: settings.seed, validationFraction: 0, groupBy: settings.groupBy,
                                     training: assignment.indices.filter { assignment[$0] != fold }.map { set.samples[$0].id },
                                     validation: [])
            let model = directory.appendingPathComponent("fold-\(fold).safetensors")
            _ = try training.train(set, settings: settings, split: split, output: model, speed: speed) { events(fold, $0) }
            let classifier = try ClipClassifier(checkpoint: model)
            let scores = try classifier.predict(set.subset(heldOut).batch(Array(heldOut.indices)).x,
                                                batchSize: settings.batchSize)
            let classes = scores.shape[1]
            for (row, index) in heldOut.enumerated() {
                probabilities[index] = Array(scores.data[row * classes ..< (row + 1) * classes])
            }
        }
        return probabilities
    }
}

/// Validation accuracy against the amount of training data: models trained on growing,
/// nested, stratified fractions of one training split, all scored on its validation split.
public final class LearningCurve: Sendable {
    public struct Point: Sendable, Equatable, Codable {
        public var fraction: Double
        public var trainClips: Int
        /// The best validation accuracy of the run (the epoch a checkpoint would keep).
        public var valAccuracy: Double

        public init(fraction: Double, trainClips: Int, valAccuracy: Double) {
            self.fraction = fraction
            self.trainClips = trainClips
            self.valAccuracy = valAccuracy
        }

        enum CodingKeys: String, CodingKey {
            case fraction, trainClips = "train_clips", valAccuracy = "val_accuracy"
        }
    }

    /// What `actionlab train-curve` prints with `--json` and keeps in the project for the
    /// app: the points, how many validation clips scored them, and `verdict`'s sentence.
    public struct Result: Sendable, Equatable, Codable {
        public var points: [Point]
        public var validationClips: Int
        public var verdict: String
        public var preset: String?

        public init(points: [Point], validationClips: Int, preset: String?) {
            self.points = points
            self.validationClips = validationClips
            self.verdict = LearningCurve.verdict(points, validationClips: validationClips)
            self.preset = preset
        }

        enum CodingKeys: String, CodingKey {
            case points, verdict, preset, validationClips = "validation_clips"
        }
    }

    public let set: SampleSet
    public let settings: TrainingSettings
    public let fractions: [Double]
    /// The split every point shares.
    public let split: DatasetSplit
    /// The training samples' ids in the order fractions take them: class by class in turn,
    /// each class in a seeded order, so every prefix is stratified and holds the smaller ones.
    public let trainingOrder: [String]
    private let training = SequentialTraining()
    private let speed: ComputeSpeed?

    public init(set: SampleSet, settings: TrainingSettings, fractions: [Double], speed: ComputeSpeed? = nil) throws(TrainingError) {
        guard !fractions.isEmpty, fractions.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw TrainingError("--fractions must be numbers above 0 and at most 1")
        }
        guard settings.validationFraction > 0 else { throw TrainingError("a learning curve needs a validation split above 0") }
        self.set = set
        self.settings = settings
        self.fractions = fractions.sorted()
        self.speed = speed
        split = DatasetSplit.make(set.samples, classes: set.classCount, validationFraction: settings.validationFraction,
                                  groupBy: settings.groupBy, seed: settings.seed)
        guard !split.validation.isEmpty else {
            throw TrainingError("\(set.count) labelled clips leave none for validation; label more")
        }
        trainingOrder = Self.interleaved(split.training, set: set, seed: settings.seed)
    }

    static func interleaved(_ ids: [String], set: SampleSet, seed: UInt64) -> [String] {
        let classOf = Dictionary(uniqueKeysWithValues: set.samples.map { ($0.id, $0.classIndex) })
        var queues = [[String]](repeating: [], count: set.classCount)
        for id in ids.sorted() { queues[classOf[id] ?? 0].append(id) }
        var random = SeededGenerator(seed: seed ^ 0x0123_4567_89AB_CDEF)
        for c in queues.indices { queues[c].shuffle(using: &random) }
        var order: [String] = []
        var position = 0
        while order.count < ids.count {
            for c in queues.indices where position < queues[c].count { order.append(queues[c][position]) }
            position += 1
        }
        return order
    }

    /// Training clips at `fraction`: at least one per class present.
    public func trainingCount(_ fraction: Double) -> Int {
        let classOf = Dictionary(uniqueKeysWithValues: set.samples.map { ($0.id, $0.classIndex) })
        let classesPresent = Set(trainingOrder.compactMap { classOf[$0] }).count
        let wanted = Int((Double(trainingOrder.count) * fraction).rounded(.up))
        return min(trainingOrder.count, max(wanted, classesPresent))
    }

    public func stop() { training.stop() }

    /// Trains one model per fraction, smallest first; `events(point, event)` reports the
    /// training of point `point` (from 0), from the trainer's thread.
    public func run(events: @escaping @Sendable (Int, TrainingEvent) -> Void = { _, _ in }) throws -> [Point] {
        var points: [Point] = []
        for (index, fraction) in fractions.enumerated() {
            let count = trainingCount(fraction)
            let subset = DatasetSplit(seed: settings.seed, validationFraction: settings.validationFraction,
                                      groupBy: settings.groupBy, training: Array(trainingOrder.prefix(count)),
                                      validation: split.validation)
            let summary = try training.train(set, settings: settings, split: subset, output: nil, speed: speed) {
                events(index, $0)
            }
            // The Float's shortest decimal (0.2, not 0.20000000298), as JSON shows it.
            let accuracy = summary.bestValidationAccuracy ?? 0
            points.append(Point(fraction: fraction, trainClips: count, valAccuracy: Double("\(accuracy)") ?? Double(accuracy)))
        }
        return points
    }

    /// One sentence on whether more labels are likely to help, from the last two points.
    public static func verdict(_ points: [Point], validationClips: Int) -> String {
        guard let last = points.last else { return "No points to judge." }
        guard points.count >= 2 else {
            return String(format: "One point only (%.0f%% accuracy): give several fractions to see a trend.", last.valAccuracy * 100)
        }
        let previous = points[points.count - 2]
        let gain = last.valAccuracy - previous.valAccuracy
        // One validation clip more or less right moves accuracy by this much: smaller
        // changes are noise.
        let step = 1 / Double(max(validationClips, 1))
        let moved = String(format: "%.0f%% to %.0f%%", previous.valAccuracy * 100, last.valAccuracy * 100)
        let clips = "\(previous.trainClips) to \(last.trainClips) training clips"
        if last.valAccuracy >= 0.99 {
            return "Validation accuracy is already \(String(format: "%.0f%%", last.valAccuracy * 100)): more labels of the same kind are unlikely to help; harder clips might."
        }
        let noise = max(step, 0.02) + 1e-9
        if gain > noise {
            return "Accuracy still rose from \(moved) going from \(clips): more labels will likely help."
        }
        if gain < -noise {
            return "Accuracy fell from \(moved) going from \(clips): the points are noisy (\(validationClips) validation clips); more labels may help, but check the labels (actionlab review) first."
        }
        if last.valAccuracy < 0.9 && validationClips < 20 {
            return "Accuracy moved by one validation clip at most (\(moved) going from \(clips)): \(validationClips) validation clips are too few to tell; label more clips and run again."
        }
        return "Accuracy levelled off (\(moved) going from \(clips)): more labels of the same kind are unlikely to help much; try another recipe or harder, more varied clips."
    }
}
