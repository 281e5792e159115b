import ActionNet
import ActionStore
import ClipIO
import Foundation
import Testing
import Training

@Suite struct ClipOrderTests {
    static let names = ["run", "walk", "jump"]

    struct Item: Equatable {
        let id: Int64
        let label: String?
    }

    func recorded(_ values: [Int64: [Float]], freshness: StoredPrediction.Freshness = .current) -> [Int64: StoredPrediction] {
        values.mapValues { p in
            StoredPrediction(clipID: 0, source: "checkpoint:x", classNames: Self.names, probabilities: p,
                             computedAt: Date(timeIntervalSince1970: 0), freshness: freshness)
        }
    }

    @Test func mostUncertainFirstSortsByMarginAscendingAndPutsClipsWithoutAPredictionLast() {
        let items = (1...5).map { Item(id: Int64($0), label: nil) }
        let predictions = recorded([
            1: [0.9, 0.05, 0.05],   // margin 0.85
            2: [0.4, 0.35, 0.25],   // margin 0.05
            3: [0.2, 0.5, 0.3],     // margin 0.2
            5: [0.45, 0.1, 0.45],   // margin 0
        ])
        let order = ClipOrder.mostUncertainFirst(items, id: \.id, predictions: predictions)
        #expect(order.map(\.id) == [5, 2, 3, 1, 4])
    }

    @Test func stalePredictionsCountOnlyWhenAskedFor() {
        let items = [Item(id: 1, label: nil), Item(id: 2, label: nil)]
        var predictions = recorded([1: [0.9, 0.05, 0.05]])
        predictions.merge(recorded([2: [0.4, 0.4, 0.2]], freshness: .otherSource)) { $1 }
        #expect(ClipOrder.mostUncertainFirst(items, id: \.id, predictions: predictions).map(\.id) == [1, 2])
        #expect(ClipOrder.mostUncertainFirst(items, id: \.id, predictions: predictions, includeStale: true).map(\.id) == [2, 1])
    }

    @Test func disagreementsFirstPutsTheHighestLossFirstAndOnlyLabelledDisagreements() {
        let items = [
            Item(id: 1, label: "run"),    // agrees
            Item(id: 2, label: "walk"),   // predicted run, p(walk) = 0.3
            Item(id: 3, label: "jump"),   // predicted run, p(jump) = 0.01: the worst
            Item(id: 4, label: nil),      // unlabelled
            Item(id: 5, label: "run"),    // no prediction
        ]
        let predictions = recorded([
            1: [0.8, 0.1, 0.1],
            2: [0.6, 0.3, 0.1],
            3: [0.9, 0.09, 0.01],
            4: [0.1, 0.1, 0.8],
        ])
        let order = ClipOrder.disagreementsFirst(items, id: \.id, label: \.label, predictions: predictions)
        #expect(order.map(\.id) == [3, 2, 1, 4, 5])
        #expect(abs(ClipOrder.labelLoss(predictions[3]!, label: "jump") - -log(0.01)) < 1e-6)
    }

    @Test func reviewOrderPutsTheLeastProbableLabelFirst() {
        let items = [Item(id: 1, label: "run"), Item(id: 2, label: "walk"), Item(id: 3, label: nil), Item(id: 4, label: "jump")]
        let predictions = recorded([
            1: [0.5, 0.4, 0.1],     // p(run) 0.5
            2: [0.6, 0.3, 0.1],     // p(walk) 0.3
            3: [0.1, 0.1, 0.8],
            4: [0.1, 0.85, 0.05],   // p(jump) 0.05
        ])
        #expect(ClipOrder.reviewOrder(items, id: \.id, label: \.label, predictions: predictions).map(\.id) == [4, 2, 1, 3])
    }

    @Test func byPredictedClassGroupsInClassOrderMostProbableFirst() {
        let items = (1...5).map { Item(id: Int64($0), label: nil) }
        let predictions = recorded([
            1: [0.1, 0.1, 0.8],
            2: [0.6, 0.3, 0.1],
            3: [0.1, 0.7, 0.2],
            4: [0.9, 0.05, 0.05],
        ])
        let order = ClipOrder.byPredictedClass(items, id: \.id, classNames: Self.names, predictions: predictions)
        #expect(order.map(\.id) == [4, 2, 3, 1, 5])
    }
}

@Suite struct PredictionJobTests {
    static let sampling = SamplingSettings(frames: 3, height: 8, width: 8, channels: 1)

    /// A project of `paths` recorded as readable clips, and a checkpoint of the tiny model.
    func makeProject(_ paths: [String]) throws -> (TemporaryProject, [ClipRecord], URL) {
        let project = try TemporaryProject()
        let probe = ClipProbe(codec: "h264", width: 8, height: 8, fps: 25, duration: 1, frameCount: 25, frameCountIsExact: true)
        var scanned: [ScannedClip] = []
        for path in paths {
            let url = project.file(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(path.utf8).write(to: url)
            scanned.append(ScannedClip(path: path, stamp: ProjectStore.stamp(of: url)!, outcome: .readable(probe)))
        }
        let clips = try project.store.record(scanned)
        let checkpoint = project.file("model.safetensors")
        try Checkpoint.save(try ActionModel(spec: TinyData.settings().modelSpec, seed: 4), labels: ["bright", "dark", "striped"],
                            to: checkpoint)
        return (project, clips, checkpoint)
    }

    /// Frames made from the file name; a name with "broken" fails as an undecodable clip would.
    static let loader: ClipFrameLoader = { url, settings in
        if url.lastPathComponent.contains("broken") { throw TrainingError("\(url.lastPathComponent): no video stream") }
        let seed = UInt8(truncatingIfNeeded: url.lastPathComponent.utf8.reduce(0) { $0 &+ Int($1) })
        return ClipFrames(settings: settings, pixels: (0..<settings.byteCount).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) })
    }

    @Test func aJobPredictsInBatchesStoresEveryClipAndReportsTheOnesItCannotRead() throws {
        let (project, _, checkpoint) = try makeProject(["a.mp4", "b.mp4", "broken.mp4", "c.mp4", "d.mp4"])
        let job = PredictionJob(store: project.store, checkpoint: checkpoint, loader: Self.loader, batchSize: 2)
        let progress = LockedList<PredictionProgress>()
        let final = job.run { event in
            if case .progress(let p) = event { progress.append(p) }
        }
        guard case .finished(let summary, let stopped) = final else { Issue.record("\(final)"); return }
        #expect(!stopped)
        #expect(summary.saved == 4 && summary.done == 5 && summary.total == 5)
        #expect(summary.failures.map(\.id) == ["broken.mp4"])
        #expect(progress.values.map(\.done) == [2, 4, 5])

        let source = try #require(PredictionSource.checkpoint(checkpoint, in: project.store.layout))
        let stored = try project.store.predictions(source: source)
        #expect(stored.count == 4)
        #expect(stored.values.allSatisfy { $0.freshness == .current && $0.classNames == ["bright", "dark", "striped"] })
        #expect(stored.values.allSatisfy { abs($0.probabilities.reduce(0, +) - 1) < 1e-4 })
        // The same probabilities as predicting one clip alone.
        let classifier = try ClipClassifier(checkpoint: checkpoint)
        let a = try #require(try project.store.clip(path: "a.mp4"))
        let alone = try classifier.classify(clip: project.file("a.mp4"), loader: Self.loader)
        for (x, y) in zip(stored[a.id]!.probabilities, alone.probabilities) { #expect(abs(x - y) < 1e-5) }
        // Only the unreadable clip is left to do.
        #expect(try project.store.clipsNeedingPrediction(source: source).map(\.path) == ["broken.mp4"])
    }

    @Test func aStoppedJobKeepsTheBatchesItFinished() throws {
        let (project, _, checkpoint) = try makeProject(["a.mp4", "b.mp4", "c.mp4", "d.mp4"])
        let job = PredictionJob(store: project.store, checkpoint: checkpoint, loader: Self.loader, batchSize: 1)
        // Stop as the first batch reports: the job ends before the second.
        job.start { event in if case .progress = event { job.stop() } }
        let final = job.wait()
        guard case .finished(let summary, let stopped)? = final else { Issue.record("\(String(describing: final))"); return }
        #expect(stopped && summary.saved == 1)
        let source = try #require(PredictionSource.checkpoint(checkpoint, in: project.store.layout))
        #expect(try project.store.predictions(source: source).count == 1)
        #expect(try project.store.clipsNeedingPrediction(source: source).count == 3)
    }

    @Test func aFinishedJobDropsThePredictionsOfTheCheckpointAsItWasBefore() throws {
        let (project, _, checkpoint) = try makeProject(["a.mp4", "b.mp4"])
        let layout = project.store.layout
        guard case .finished = PredictionJob(store: project.store, checkpoint: checkpoint, loader: Self.loader).run() else {
            Issue.record("the first job did not finish"); return
        }
        let before = try #require(PredictionSource.checkpoint(checkpoint, in: layout))
        // Training writes the checkpoint again (a better epoch): the same file, a new time.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: checkpoint.path)
        let after = try #require(PredictionSource.checkpoint(checkpoint, in: layout))
        #expect(after != before)
        // Stopped after its first clip: the old prediction still stands in for the other.
        let stopping = PredictionJob(store: project.store, checkpoint: checkpoint, loader: Self.loader, batchSize: 1)
        stopping.start { event in if case .progress = event { stopping.stop() } }
        _ = stopping.wait()
        let partly = try project.store.predictions(source: after)
        #expect(Set(partly.values.map(\.source)) == [before, after])
        // Finished: every clip has the new one, and the old ones are gone.
        guard case .finished = PredictionJob(store: project.store, checkpoint: checkpoint, loader: Self.loader).run() else {
            Issue.record("the last job did not finish"); return
        }
        let shown = try project.store.predictions(source: after)
        #expect(shown.count == 2 && shown.values.allSatisfy { $0.source == after && $0.freshness == .current })
        #expect(try project.store.predictions(source: "checkpoint:elsewhere|1|1.000000").values.allSatisfy { $0.source == after })
        // The job pruned them itself: nothing is left to prune.
        #expect(try project.store.pruneSupersededPredictions() == 0)
    }

    @Test func aCheckpointThatCannotBeLoadedFailsTheJobStoringNothing() throws {
        let (project, _, _) = try makeProject(["a.mp4"])
        let bad = project.file("bad.safetensors")
        try Data("not a checkpoint".utf8).write(to: bad)
        let final = PredictionJob(store: project.store, checkpoint: bad, loader: Self.loader).run()
        guard case .failed(let message) = final else { Issue.record("\(final)"); return }
        #expect(message.contains("bad.safetensors"))
    }
}

/// Values appended from any thread.
final class LockedList<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Value] = []
    /// Appends `value`; returns how many values there are with it.
    @discardableResult
    func append(_ value: Value) -> Int {
        lock.withLock {
            items.append(value)
            return items.count
        }
    }
    var values: [Value] { lock.withLock { items } }
}
