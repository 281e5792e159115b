import ActionNet
import ActionStore
import Foundation
import TestSupport
import Testing
import Training

/// A temporary project folder with its database, removed when released.
final class TemporaryProject: @unchecked Sendable {
    let folder: TemporaryFolder
    var root: URL { folder.url }
    let store: ProjectStore

    init(classes: [String] = ["bright", "dark", "striped"]) throws {
        folder = try TemporaryFolder()
        store = try ProjectStore.open(ProjectLayout(root: folder.url), config: ProjectConfig(classes: classes), user: "tester")
    }

    // The database closes before the folder holding it is removed.
    deinit { try? store.close() }

    func file(_ name: String) -> URL { folder.file(name) }
}

/// Events collected from a trainer's queue, with a way to wait for one.
final class TrainingLog: @unchecked Sendable {
    private let condition = NSCondition()
    private var collected: [TrainingEvent] = []
    /// Called with each event before it is stored: on the trainer's queue, or on a thread
    /// decoding clips for `loading` and `skipped`.
    var onEvent: (@Sendable (TrainingEvent) -> Void)?

    func post(_ event: TrainingEvent) {
        onEvent?(event)
        condition.lock()
        collected.append(event)
        condition.broadcast()
        condition.unlock()
    }

    var events: [TrainingEvent] { condition.withLock { collected } }

    /// Blocks until an event satisfies `predicate` (or 60 s pass); returns it.
    @discardableResult
    func waitFor(_ predicate: (TrainingEvent) -> Bool) -> TrainingEvent? {
        let deadline = Date().addingTimeInterval(60)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let found = collected.first(where: predicate) { return found }
            if !condition.wait(until: deadline) { return nil }
        }
    }

    /// One letter per event: L loading, K skipped, S started, B batch, V validation, E epoch,
    /// R learning rate, l/b/o checkpoint last/best/output, P paused, U resumed, F finished, X failed.
    var letters: String {
        events.map { event -> String in
            switch event {
            case .loading: "L"
            case .skipped: "K"
            case .started: "S"
            case .batch: "B"
            case .validation: "V"
            case .epoch: "E"
            case .learningRateChanged: "R"
            case .checkpoint(let saved): saved.kind == .last ? "l" : saved.kind == .best ? "b" : "o"
            case .paused: "P"
            case .resumed: "U"
            case .finished: "F"
            case .failed: "X"
            }
        }.joined()
    }

    var epochs: [EpochReport] { events.compactMap { if case .epoch(let e) = $0 { e } else { nil } } }
    var batches: [BatchProgress] { events.compactMap { if case .batch(let b) = $0 { b } else { nil } } }
    var start: RunStart? { events.compactMap { if case .started(let s) = $0 { s } else { nil } }.first }
    var summary: RunSummary? { events.compactMap { if case .finished(let s) = $0 { s } else { nil } }.last }
    var failure: TrainingFailure? { events.compactMap { if case .failed(let f) = $0 { f } else { nil } }.last }
}

enum TinyData {
    /// (T, H, W, C) of the tiny samples.
    static let shape = [3, 8, 8, 1]

    /// `perClass` clips of each of three easy classes: bright frames, dark frames and
    /// vertical stripes, with noise. Ids look like project paths: `bright/clip-03.mp4`.
    static func samples(perClass: Int = 6, seed: UInt64 = 1) -> SampleSet {
        var random = SeededGenerator(seed: seed)
        let names = ["bright", "dark", "striped"]
        var infos: [SampleInfo] = [], pixels: [UInt8] = []
        for i in 0..<perClass {
            for (c, name) in names.enumerated() {
                infos.append(SampleInfo(id: "\(name)/clip-\(String(format: "%02d", i)).mp4", classIndex: c))
                for _ in 0..<3 {
                    for _ in 0..<8 {
                        for x in 0..<8 {
                            let base: Double = c == 0 ? 200 : c == 1 ? 40 : (x % 2 == 0 ? 220 : 30)
                            pixels.append(UInt8(min(255, max(0, base + 30 * (random.nextUnit() - 0.5)))))
                        }
                    }
                }
            }
        }
        return SampleSet(classNames: names, sampleShape: shape, samples: infos, pixels: pixels)
    }

    static func settings(epochs: Int = 2, batchSize: Int = 4, validation: Double = 0.25, seed: UInt64 = 3) -> TrainingSettings {
        TrainingSettings(model: ModelConfig(frames: 3, height: 8, width: 8, channels: 1, filters: [2, 2, 2],
                                            denseUnits: 4, classes: 3, dropout: 0, recurrentDropout: 0),
                         epochs: epochs, batchSize: batchSize, learningRate: 1e-2, validationFraction: validation, seed: seed)
    }

    /// A fixed speed, so runs in tests do not spend time measuring one.
    static let speed = ComputeSpeed(trainingFlopsPerSecond: 1e9, inferenceFlopsPerSecond: 1e9)

    /// Runs `job` to the end and returns its events.
    static func run(_ job: TrainingJob, log: TrainingLog = TrainingLog()) -> TrainingLog {
        let trainer = Trainer(job: job) { log.post($0) }
        trainer.start()
        trainer.wait()
        return log
    }

    /// Trains `settings` on the tiny samples to the end, checks that the run completed, and
    /// returns the checkpoint it wrote (into a folder of `project`).
    static func checkpoint(after settings: TrainingSettings, in project: TemporaryProject) throws -> URL {
        var job = TrainingJob(source: .samples(samples()), settings: settings, speed: speed)
        job.output = project.file("out.safetensors")
        let log = run(job)
        #expect(log.summary?.status == .completed, "\(String(describing: log.failure))")
        return try #require(job.output)
    }
}
