@testable import ActionStore
import Foundation
import GRDB
import Testing

@Suite struct PredictionStoreTests {
    static let names = ["run", "walk", "jump", "wave", "spin"]

    /// A file standing in for a checkpoint (the store only looks at its size and time).
    func writeCheckpoint(_ project: TemporaryProject, _ path: String, modified: Date) throws -> URL {
        let url = try project.write(path, "weights")
        try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: url.path)
        return url
    }

    func prediction(_ clip: ClipRecord, _ probabilities: [Float]) -> NewPrediction {
        NewPrediction(clipID: clip.id, clipStamp: FileStamp(size: clip.size, modified: clip.modified),
                      probabilities: probabilities)
    }

    @Test func predictionsGoStaleWhenTheCheckpointIsWrittenAgain() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b.mp4"])
        let url = try writeCheckpoint(project, ".actionlab/runs/1/best.safetensors", modified: Date(timeIntervalSince1970: 1000))
        let first = try #require(PredictionSource.checkpoint(url, in: project.layout))
        try store.savePredictions([prediction(clips["a.mp4"]!, [0.7, 0.1, 0.1, 0.05, 0.05])],
                                  classNames: Self.names, source: first)
        let fresh = try store.predictions(source: first)
        #expect(fresh.count == 1)
        #expect(fresh[clips["a.mp4"]!.id]?.freshness == .current)
        #expect(fresh[clips["a.mp4"]!.id]?.topClass == "run")
        #expect(try store.clipsNeedingPrediction(source: first).map(\.path) == ["b.mp4"])

        // A better epoch rewrites best.safetensors: same path and size, a new time.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 2000)], ofItemAtPath: url.path)
        let second = try #require(PredictionSource.checkpoint(url, in: project.layout))
        #expect(second != first)
        let seen = try store.predictions(source: second)
        #expect(seen[clips["a.mp4"]!.id]?.freshness == .otherSource)
        #expect(seen[clips["a.mp4"]!.id]?.isStale == true)
        #expect(seen[clips["a.mp4"]!.id]?.source == first)
        #expect(try store.clipsNeedingPrediction(source: second).map(\.path) == ["a.mp4", "b.mp4"])

        // Its own prediction replaces the stand-in.
        try store.savePredictions([prediction(clips["a.mp4"]!, [0.1, 0.6, 0.1, 0.1, 0.1])],
                                  classNames: Self.names, source: second)
        let now = try store.predictions(source: second)
        #expect(now[clips["a.mp4"]!.id]?.freshness == .current)
        #expect(now[clips["a.mp4"]!.id]?.topClass == "walk")
    }

    @Test func aPredictionGoesStaleWhenItsClipFileChanges() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        let source = PredictionSource.review(folds: 3)
        try store.savePredictions([prediction(clips["a.mp4"]!, [0.2, 0.2, 0.2, 0.2, 0.2])],
                                  classNames: Self.names, source: source)
        #expect(try store.predictions(source: source)[clips["a.mp4"]!.id]?.freshness == .current)

        let probe = ClipProbe(codec: "h264", width: 64, height: 48, fps: 25, duration: 2.4, frameCount: 60,
                              frameCountIsExact: true)
        let replaced = FileStamp(size: 999, modified: Date(timeIntervalSince1970: 5000))
        _ = try store.record([ScannedClip(path: "a.mp4", stamp: replaced, outcome: .readable(probe))])
        #expect(try store.predictions(source: source)[clips["a.mp4"]!.id]?.freshness == .clipChanged)
        #expect(try store.clipsNeedingPrediction(source: source).map(\.path) == ["a.mp4"])
    }

    @Test func reviewPredictionsAreNotMixedWithACheckpointsOnes() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        let url = try writeCheckpoint(project, "model.safetensors", modified: Date(timeIntervalSince1970: 1000))
        let checkpoint = try #require(PredictionSource.checkpoint(url, in: project.layout))
        try store.savePredictions([prediction(clips["a.mp4"]!, [0.2, 0.2, 0.2, 0.2, 0.2])],
                                  classNames: Self.names, source: PredictionSource.review(folds: 5))
        #expect(try store.predictions(source: checkpoint).isEmpty)
        #expect(try store.predictions(source: PredictionSource.review(folds: 4)).isEmpty)
        #expect(PredictionSource.displayName(PredictionSource.review(folds: 5)) == "review (5 folds)")
        #expect(PredictionSource.displayName(checkpoint) == "model.safetensors")
    }

    /// Rows per source, to see what pruning removed.
    func storedRows(_ store: ProjectStore) throws -> [String: Set<Int64>] {
        try store.database.read { db in
            var rows: [String: Set<Int64>] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT checkpoint, clip_id FROM predictions") {
                rows[row[0], default: []].insert(row[1])
            }
            return rows
        }
    }

    @Test func pruningDropsOnlyPredictionsOfCheckpointsAsTheyNoLongerAreThatNoClipStillShows() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b.mp4", "c.mp4", "d.mp4"])
        let (a, b, c, d) = (clips["a.mp4"]!, clips["b.mp4"]!, clips["c.mp4"]!, clips["d.mp4"]!)
        let even: [Float] = [0.2, 0.2, 0.2, 0.2, 0.2]
        func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }
        // Run 1's best checkpoint predicted a, b and c, then a better epoch rewrote it.
        let best = try writeCheckpoint(project, ".actionlab/runs/1/best.safetensors", modified: at(1000))
        let first = try #require(PredictionSource.checkpoint(best, in: project.layout))
        try store.savePredictions([a, b, c].map { prediction($0, even) }, classNames: Self.names, source: first, computedAt: at(10))
        try FileManager.default.setAttributes([.modificationDate: at(2000)], ofItemAtPath: best.path)
        let second = try #require(PredictionSource.checkpoint(best, in: project.layout))
        try store.savePredictions([prediction(a, even)], classNames: Self.names, source: second, computedAt: at(20))
        // Another file, unchanged since it predicted: it may be pinned again.
        let other = try writeCheckpoint(project, "other.safetensors", modified: at(500))
        let kept = try #require(PredictionSource.checkpoint(other, in: project.layout))
        try store.savePredictions([a, d].map { prediction($0, even) }, classNames: Self.names, source: kept, computedAt: at(5))
        // A deleted checkpoint whose prediction of c is older than the first one's, and of
        // d newer than the kept file's; and a review, never pruned.
        let deleted = try writeCheckpoint(project, "deleted.safetensors", modified: at(700))
        let gone = try #require(PredictionSource.checkpoint(deleted, in: project.layout))
        try store.savePredictions([prediction(c, even)], classNames: Self.names, source: gone, computedAt: at(8))
        try store.savePredictions([prediction(d, even)], classNames: Self.names, source: gone, computedAt: at(9))
        try FileManager.default.removeItem(at: deleted)
        let review = PredictionSource.review(folds: 3)
        try store.savePredictions([prediction(a, even)], classNames: Self.names, source: review, computedAt: at(1))

        let newModel = "checkpoint:never-seen.safetensors|1|1.000000"
        let shownBefore = try [second, kept, newModel, review].map { try store.predictions(source: $0).mapValues(\.source) }
        #expect(try store.pruneSupersededPredictions() == 2)
        // Gone: first's a (second's is newer) and the deleted file's c (first's is newer).
        // Kept: first's b and c (each clip's newest), the deleted file's d (newest for d),
        // the unchanged file's rows, second's, the review's.
        #expect(try storedRows(store) == [first: [b.id, c.id], second: [a.id], kept: [a.id, d.id], gone: [d.id],
                                           review: [a.id]])
        // What any model shows is what it showed before.
        let shownAfter = try [second, kept, newModel, review].map { try store.predictions(source: $0).mapValues(\.source) }
        #expect(shownAfter == shownBefore)
        #expect(try store.pruneSupersededPredictions() == 0)
    }

    @Test func probabilitiesThatDoNotFitTheClassesAreRefused() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        #expect(throws: StoreError.self) {
            try store.savePredictions([prediction(clips["a.mp4"]!, [1])], classNames: Self.names, source: "x")
        }
        #expect(try store.predictions(source: "x").isEmpty)
    }

    @Test func aDamagedStoredPredictionIsReportedByRowAndColumn() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        try store.savePredictions([prediction(clips["a.mp4"]!, [0.2, 0.2, 0.2, 0.2, 0.2])],
                                  classNames: Self.names, source: "x")
        try store.database.write { db in try db.execute(sql: "UPDATE predictions SET probabilities = 'oops'") }
        let error = #expect(throws: StoreError.self) { try store.predictions(source: "x") }
        #expect(error?.description.contains("predictions.probabilities holds 'oops'") == true)
    }

    @Test func marginIsTheTopProbabilityMinusTheSecond() {
        let p = StoredPrediction(clipID: 1, source: "x", classNames: ["a", "b", "c"], probabilities: [0.3, 0.5, 0.2],
                                 computedAt: Date(), freshness: .current)
        #expect(abs(p.margin - 0.2) < 1e-6)
        #expect(p.topClass == "b")
        #expect(p.probability(of: "c") == 0.2)
        #expect(p.probability(of: "z") == nil)
    }

    @Test func acceptingASuggestionWritesTheLabelAndItsHistory() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        let id = clips["a.mp4"]!.id
        let change = try #require(try store.setLabel(clipID: id, classIndex: 1, acceptedFrom: "run 3"))
        #expect(change.acceptedFrom == "run 3")
        #expect(change.newClass == "walk")
        #expect(try store.clip(id: id)?.label?.className == "walk")
        try store.setLabel(clipID: id, classIndex: 2)
        let history = try store.history(for: id)
        #expect(history.map(\.acceptedFrom) == ["run 3", nil])
        // Undo of the typed label brings back the accepted one.
        try store.undo()
        #expect(try store.clip(id: id)?.label?.className == "walk")
    }

    func finishedRun(_ store: ProjectStore, best: String?, last: String? = nil, status: RunStatus = .completed) throws -> RunRecord {
        var run = try store.createRun(settingsJSON: "{}", splitJSON: "{}")
        run.status = status
        run.bestCheckpointPath = best
        run.lastCheckpointPath = last ?? best
        try store.updateRun(run)
        return run
    }

    @Test func theCurrentModelIsTheLatestFinishedRunsBestCheckpointUnlessOneIsPinned() throws {
        let project = try TemporaryProject()
        let store = try project.open()
        #expect(try store.currentModel() == nil)
        _ = try writeCheckpoint(project, ".actionlab/runs/1/best.safetensors", modified: Date(timeIntervalSince1970: 10))
        let first = try finishedRun(store, best: ".actionlab/runs/1/best.safetensors")
        let model = try #require(try store.currentModel())
        #expect(model.runID == first.id)
        #expect(model.name == "run \(first.id)")
        #expect(!model.isPinned)
        #expect(model.identity == PredictionSource.checkpoint(model.checkpoint, in: project.layout))

        // A failed run, a running one and one whose file is gone do not replace it.
        _ = try finishedRun(store, best: nil, last: nil, status: .failed)
        _ = try finishedRun(store, best: ".actionlab/runs/3/best.safetensors", status: .stopped)
        _ = try store.createRun(settingsJSON: "{}", splitJSON: "{}")
        #expect(try store.currentModel()?.runID == first.id)

        try store.describeRun(id: first.id, name: "  wide lr ", note: "lr 3e-3")
        #expect(try store.currentModel()?.name == "wide lr")
        #expect(try store.run(id: first.id)?.note == "lr 3e-3")

        let outside = try writeCheckpoint(project, "keras.safetensors", modified: Date(timeIntervalSince1970: 20))
        try store.pinCheckpoint(outside)
        let pinned = try #require(try store.currentModel())
        #expect(pinned.isPinned)
        #expect(pinned.recordedPath == "keras.safetensors")
        #expect(pinned.name == "keras.safetensors")
        #expect(pinned.runID == nil)

        try FileManager.default.removeItem(at: outside)
        #expect(throws: StoreError.pinnedCheckpointUnreadable(path: outside.path, reason: "is missing")) {
            try store.currentModel()
        }
        try store.pinCheckpoint(nil)
        #expect(try store.currentModel()?.runID == first.id)
        #expect(throws: StoreError.self) { try store.pinCheckpoint(outside) }
    }

    @Test func deletingARunRemovesItsFilesOnlyWhenAsked() throws {
        let project = try TemporaryProject()
        let store = try project.open()
        let kept = try writeCheckpoint(project, ".actionlab/runs/1/best.safetensors", modified: Date())
        let first = try finishedRun(store, best: ".actionlab/runs/1/best.safetensors")
        try store.deleteRun(id: first.id)
        #expect(FileManager.default.fileExists(atPath: kept.path))

        // The kept folder of run 1 is not given to the next run.
        let second = try finishedRun(store, best: ".actionlab/runs/2/best.safetensors", last: "mine.safetensors")
        #expect(second.id == 2)
        let best = try writeCheckpoint(project, ".actionlab/runs/2/best.safetensors", modified: Date())
        let csv = try project.write(".actionlab/runs/2/metrics.csv", "epoch\n")
        let outside = try writeCheckpoint(project, "mine.safetensors", modified: Date())
        try store.pinCheckpoint(best)
        try store.deleteRun(id: second.id, deletingFiles: true)
        #expect(!FileManager.default.fileExists(atPath: best.path))
        #expect(!FileManager.default.fileExists(atPath: csv.path))
        #expect(FileManager.default.fileExists(atPath: outside.path))
        #expect(try store.pinnedCheckpoint() == nil)
        #expect(throws: RunNotFound(id: second.id)) { try store.deleteRun(id: second.id) }
    }
}
