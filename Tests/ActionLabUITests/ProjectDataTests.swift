import ActionStore
import Foundation
import TestSupport
import Testing
@testable import ActionLabUI
@testable import Training

// The app's adapters on a real project database: what they refuse and what they read.

@Suite struct ProjectDataTests {
    @Test func resumingACompletedRunIsRefusedAndLeavesItsRecordAlone() throws {
        let folder = try TemporaryFolder()
        let store = try ProjectStore.open(ProjectLayout(root: folder.url))
        defer { try? store.close() }
        let settings = TrainingPreset.tiny.settings(classes: 2)
        let settingsJSON = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        let split = DatasetSplit(seed: 1, validationFraction: 0.2, groupBy: .none, training: ["a.mp4"], validation: [])
        var run = try store.createRun(settingsJSON: settingsJSON, splitJSON: split.json)
        run.status = .completed
        run.statusDetail = "all 2 epochs"
        run.epochs = 2
        run.lastCheckpointPath = "runs/1/last.json"
        try store.updateRun(run)

        let training = ProjectTraining(store: store)
        #expect {
            try training.resume(runID: run.id) { _ in }
        } throws: { error in
            "\(error)" == "run \(run.id) has nothing to resume: it completed all its epochs"
        }
        #expect(!training.isRunning)
        let after = try #require(try store.run(id: run.id))
        #expect(after.status == .completed && after.statusDetail == "all 2 epochs" && after.epochs == 2)
    }

    @Test func theLearningCurveTrainCurveKeptIsReadBackAndADamagedOneNamesTheDatabase() throws {
        let folder = try TemporaryFolder()
        let store = try ProjectStore.open(ProjectLayout(root: folder.url))
        defer { try? store.close() }
        let training = ProjectTraining(store: store)
        #expect(try training.learningCurve() == nil)
        let curve = LearningCurve.Result(points: [LearningCurve.Point(fraction: 1, trainClips: 8, valAccuracy: 0.5)],
                                         validationClips: 4, preset: "quick")
        try store.saveTrainCurve(json: String(decoding: try JSONEncoder().encode(curve), as: UTF8.self))
        #expect(try training.learningCurve() == curve)
        try store.saveTrainCurve(json: "{\"points\": 3}")
        #expect {
            try training.learningCurve()
        } throws: { error in
            "\(error)".contains(store.layout.databaseURL.path) && "\(error)".contains("learning curve")
        }
    }

    @Test func theWatcherReportsWhatAnotherProcessChangesAndNothingElse() throws {
        let folder = try TemporaryFolder()
        let layout = ProjectLayout(root: folder.url)
        let store = try ProjectStore.open(layout)
        defer { try? store.close() }
        let probe = ClipProbe(codec: "h264", width: 64, height: 48, fps: 25, duration: 2, frameCount: 50,
                              frameCountIsExact: true)
        let stamp = FileStamp(size: 10, modified: Date(timeIntervalSince1970: 1_000_000))
        let recorded = try store.record(["a.mp4", "b.mp4"].map { ScannedClip(path: $0, stamp: stamp, outcome: .readable(probe)) })
        let watcher = ProjectWatcher(store: store)
        #expect(watcher.changes(labelEdits: 0).isEmpty, "nothing changed since it started")

        _ = try store.setLabel(clipID: recorded[0].id, classIndex: 0)
        #expect(watcher.changes(labelEdits: 1).isEmpty, "this app's own label is on screen already")

        // Another process: its own connection to the database.
        let other = try ProjectStore.open(layout)
        _ = try other.setLabel(clipID: recorded[1].id, classIndex: 1)
        try other.close()
        let events = watcher.changes(labelEdits: 1)
        let expectedRows = try store.clips().map { ClipRow($0, layout: layout) }
        #expect(events == [.clipsReloaded(expectedRows, labelEdits: 1), .runsLoaded([])])
        #expect(expectedRows.map(\.label) == [0, 1])
        #expect(watcher.changes(labelEdits: 1).isEmpty, "reported once")

        // A run folder appearing (a run started from the command line) is a change too.
        try FileManager.default.createDirectory(at: layout.runsDirectory.appendingPathComponent("1"),
                                                withIntermediateDirectories: true)
        #expect(watcher.changes(labelEdits: 1).count == 2)
        watcher.stop()
        let inbox = EventInbox()
        try FileManager.default.createDirectory(at: layout.runsDirectory.appendingPathComponent("2"),
                                                withIntermediateDirectories: true)
        watcher.check(labelEdits: 1, inbox: inbox)
        watcher.stop()
        #expect(inbox.drain().isEmpty, "a stopped watcher looks no more")
    }

    @Test func anAcceptedLabelIsRecordedAsAcceptedFromTheModelAndUndoes() throws {
        let folder = try TemporaryFolder()
        let layout = ProjectLayout(root: folder.url)
        let store = try ProjectStore.open(layout)
        defer { try? store.close() }
        let stamp = FileStamp(size: 10, modified: Date(timeIntervalSince1970: 1_000_000))
        let probe = ClipProbe(codec: "h264", width: 64, height: 48, fps: 25, duration: 2, frameCount: 50,
                              frameCountIsExact: true)
        let clip = try store.record([ScannedClip(path: "a.mp4", stamp: stamp, outcome: .readable(probe))])[0]
        let labels = ProjectLabelStore(store)
        try labels.setLabel(clipID: clip.id, classIndex: 1, watchedSeconds: 2, acceptedFrom: "run 3")
        #expect(try store.history(for: clip.id).last?.acceptedFrom == "run 3")
        try labels.setLabel(clipID: clip.id, classIndex: 2, watchedSeconds: 1, acceptedFrom: nil)
        #expect(try store.history(for: clip.id).last?.acceptedFrom == nil)
        #expect(try labels.undoLastChange()?.classIndex == 1)
    }

    @Test func aValidationClipThatDoesNotDecodeIsSkippedAsTheRunSkippedIt() throws {
        let folder = try TemporaryFolder()
        let layout = ProjectLayout(root: folder.url)
        let store = try ProjectStore.open(layout)
        defer { try? store.close() }
        // Listed as readable when scanned, replaced by something that does not decode since.
        try Data("not a video".utf8).write(to: folder.file("bad.mp4"))
        let stamp = FileStamp(size: 11, modified: Date(timeIntervalSince1970: 1_000_000))
        let probe = ClipProbe(codec: "h264", width: 12, height: 12, fps: 25, duration: 2, frameCount: 50, frameCountIsExact: true)
        let clip = try store.record([ScannedClip(path: "bad.mp4", stamp: stamp, outcome: .readable(probe))])[0]
        _ = try store.setLabel(clipID: clip.id, classIndex: 0)
        let split = DatasetSplit(seed: 1, validationFraction: 0.5, groupBy: .none, training: [], validation: ["bad.mp4"])
        var run = try store.createRun(settingsJSON: "{}", splitJSON: split.json)
        let directory = RunFiles.directory(runID: run.id, in: layout)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let checkpoint = directory.appendingPathComponent("best.safetensors")
        try FileManager.default.copyItem(at: Fixtures.kerasGray, to: checkpoint)
        run.status = .completed
        run.bestCheckpointPath = RunFiles.recordedPath(checkpoint, in: layout)
        try store.updateRun(run)

        let training = ProjectTraining(store: store)
        let result = LockedValue<Result<RunValidation, TrainingError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        training.validation(runID: run.id) { outcome in
            result.set(outcome)
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 600) == .success)
        let validation = try #require(try result.get()?.get())
        #expect(validation.clips.isEmpty && validation.skipped == 1)
    }

    @Test func runsAreNamedPinnedAndDeletedAndTheModelsPredictionsRead() throws {
        let folder = try TemporaryFolder()
        let layout = ProjectLayout(root: folder.url)
        let store = try ProjectStore.open(layout)
        defer { try? store.close() }
        let stamp = FileStamp(size: 10, modified: Date(timeIntervalSince1970: 1_000_000))
        let probe = ClipProbe(codec: "h264", width: 64, height: 48, fps: 25, duration: 2, frameCount: 50,
                              frameCountIsExact: true)
        let clip = try store.record([ScannedClip(path: "a.mp4", stamp: stamp, outcome: .readable(probe))])[0]
        var settings = TrainingPreset.tiny.settings(classes: store.classes.count)
        settings.learningRate = 0.004
        let settingsJSON = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        let split = DatasetSplit(seed: 1, validationFraction: 0.2, groupBy: .none, training: ["a.mp4"], validation: [])
        var run = try store.createRun(settingsJSON: settingsJSON, splitJSON: split.json)
        let directory = RunFiles.directory(runID: run.id, in: layout)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let checkpoint = directory.appendingPathComponent("best.safetensors")
        try Data("weights".utf8).write(to: checkpoint)
        run.status = .completed
        run.bestCheckpointPath = RunFiles.recordedPath(checkpoint, in: layout)
        try store.updateRun(run)

        let training = ProjectTraining(store: store)
        var row = try #require(try training.runs().first)
        #expect(row.displayName == "run \(run.id)" && row.learningRate == 0.004 && row.isCurrentModel && !row.isPinned)
        #expect(row.recipe == "frames · flatten · no aug.")
        #expect(row.checkpointPath == ".actionlab/runs/\(run.id)/best.safetensors")
        #expect(row.metricsPath == ".actionlab/runs/\(run.id)/metrics.csv")

        try training.describeRun(id: run.id, name: "first try", note: "lr doubled")
        try training.pinCheckpoint(row.checkpointPath)
        row = try #require(try training.runs().first)
        #expect(row.displayName == "first try" && row.note == "lr doubled" && row.isPinned)

        // The model's stored predictions, named as the model.
        let model = try #require(try store.currentModel())
        let classNames = store.classes.map(\.name)
        var probabilities = [Float](repeating: 0, count: classNames.count)
        probabilities[1] = 1
        try store.savePredictions([NewPrediction(clipID: clip.id, clipStamp: stamp, probabilities: probabilities)],
                                  classNames: classNames, source: model.identity)
        let suggestions = try training.suggestions()
        #expect(suggestions.modelName == "first try")
        #expect(suggestions.byClip[clip.id]?.topClass == classNames[1])
        #expect(suggestions.byClip[clip.id]?.isStale == false)

        try training.deleteRun(id: run.id)
        #expect(try training.runs().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: checkpoint.path), "its checkpoint goes with it")
        #expect(try training.suggestions().modelName == nil, "no model is left")
    }
}

/// A value set from another thread.
private final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
    func get() -> Value { lock.withLock { value } }
}
