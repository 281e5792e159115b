@testable import ActionStore
import Foundation
import GRDB
import Testing

/// Databases changed behind ActionLab's back, symbolic links, leftovers of killed processes.
@Suite struct StoredValueTests {
    /// Changes the database with a plain SQLite connection, as another tool would
    /// (SQLite's own shell leaves foreign keys unchecked).
    private func tamper(_ project: TemporaryProject, _ sql: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: project.layout.databaseURL.path, configuration: configuration)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }

    @Test func aMistypedLabelTimeIsReportedByRowAndColumnNotATrap() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b.mp4"])
        try store.setLabel(clipID: clips["b.mp4"]!.id, classIndex: 1)
        try tamper(project, "UPDATE labels SET labelled_at = 'abc'")
        let before = try Data(contentsOf: project.layout.databaseURL)

        let error = #expect(throws: StoreError.self) { try store.clips() }
        let id = clips["b.mp4"]!.id
        #expect(error == .badStoredValue(file: project.layout.databaseURL.path, item: "clip \(id) (b.mp4)",
                                         column: "labels.labelled_at", found: "'abc'", expected: "a number"))
        #expect(error?.description.contains("Nothing was changed") == true)
        #expect(throws: StoreError.self) { try store.clip(path: "b.mp4") }
        #expect(try store.clip(path: "a.mp4")?.label == nil)
        #expect(try Data(contentsOf: project.layout.databaseURL) == before)
    }

    @Test func aBlobPathThatIsNotTextIsReported() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        try tamper(project, "UPDATE clips SET path = X'FF00FE'")
        let error = #expect(throws: StoreError.self) { try store.clips() }
        #expect(error == .badStoredValue(file: project.layout.databaseURL.path, item: "clip \(clips["a.mp4"]!.id)",
                                         column: "clips.path", found: "a 3-byte BLOB", expected: "UTF-8 text"))
        #expect(throws: StoreError.self) { try store.knownClips() }
    }

    @Test func mistypedRunsHistoryAndMetricsAreReportedToo() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        try store.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 0)
        let run = try store.createRun(settingsJSON: "{}", splitJSON: "{}")
        try store.appendMetrics(EpochMetrics(runID: run.id, epoch: 1, loss: 1, accuracy: 0.5, valLoss: nil,
                                             valAccuracy: nil, learningRate: 0.001, seconds: 1))
        try tamper(project, """
            UPDATE runs SET status = 'sideways'; UPDATE epoch_metrics SET loss = X'00';
            UPDATE label_history SET at = 'yesterday';
            """)
        let runError = #expect(throws: StoreError.self) { try store.runs() }
        #expect(runError?.description.contains("run \(run.id): runs.status holds 'sideways'") == true)
        let metricsError = #expect(throws: StoreError.self) { try store.metrics(runID: run.id) }
        #expect(metricsError?.description.contains("epoch 1 of run \(run.id): epoch_metrics.loss holds a 1-byte BLOB") == true)
        let historyError = #expect(throws: StoreError.self) { try store.history(for: clips["a.mp4"]!.id) }
        #expect(historyError?.description.contains("label_history.at holds 'yesterday' where a number belongs") == true)
        // Undo reads the history too; it reports rather than reverting from a bad row.
        try tamper(project, "UPDATE label_history SET clip_id = 'x'")
        #expect(throws: StoreError.self) { try store.undo() }
        #expect(try store.labelCounts().labelled == 1)
    }
}

@Suite struct StateFolderTests {
    @Test func aSymlinkedStateFolderIsRefusedAndNothingIsWrittenThroughIt() throws {
        let project = try TemporaryProject()
        let elsewhere = try TemporaryProject()
        try FileManager.default.createSymbolicLink(at: project.layout.stateDirectory,
                                                   withDestinationURL: elsewhere.root)
        let error = #expect(throws: StoreError.self) { try project.open() }
        #expect(error == .linkedStateDirectory(path: project.layout.stateDirectory.path, target: elsewhere.root.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.root.path).isEmpty)
    }

    @Test func aSymlinkedRunsFolderInsideTheStateFolderIsRefused() throws {
        let project = try TemporaryProject()
        let elsewhere = try TemporaryProject()
        try project.open().close()
        try FileManager.default.createSymbolicLink(at: project.layout.runsDirectory, withDestinationURL: elsewhere.root)
        let error = #expect(throws: StoreError.self) { try project.open() }
        #expect(error == .linkedStateDirectory(path: project.layout.runsDirectory.path, target: elsewhere.root.path))
    }

    @Test func staleTemporariesOfEndedProcessesAreRemovedOnOpenOthersKept() throws {
        let project = try TemporaryProject()
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/sh")
        ended.arguments = ["-c", "exit 0"]
        try ended.run()
        ended.waitUntilExit()
        let dead = ended.processIdentifier
        let live = ProcessInfo.processInfo.processIdentifier
        let stale = try project.write(".actionlab/runs/3/.best.safetensors.\(dead).1234567.tmp")
        let staleCache = try project.write(".actionlab/cache/.00ab.frames.\(dead).42.tmp")
        let writing = try project.write(".actionlab/runs/3/.last.safetensors.\(live).99.tmp")
        let kept = try project.write(".actionlab/runs/3/best.safetensors")
        let notOurs = try project.write(".actionlab/runs/3/.notes.tmp")

        try project.open().close()
        let exists = { (url: URL) in FileManager.default.fileExists(atPath: url.path) }
        #expect(!exists(stale))
        #expect(!exists(staleCache))
        #expect(exists(writing))
        #expect(exists(kept))
        #expect(exists(notOurs))
    }

    @Test func theTemporaryPatternIsRecognisedExactly() {
        #expect(StaleTemporaries.writer(ofTemporary: ".best.safetensors.123.456.tmp") == 123)
        #expect(StaleTemporaries.writer(ofTemporary: ".x.7.0.tmp") == 7)
        #expect(StaleTemporaries.writer(ofTemporary: "best.safetensors.123.456.tmp") == nil)
        #expect(StaleTemporaries.writer(ofTemporary: ".123.456.tmp") == nil)
        #expect(StaleTemporaries.writer(ofTemporary: ".best.abc.456.tmp") == nil)
        #expect(StaleTemporaries.writer(ofTemporary: ".best.1.456.tmp.bak") == nil)
    }
}

@Suite struct ChangeStampTests {
    @Test func theStampMovesWhenAnotherConnectionCommitsAndOnlyThen() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        let other = try project.open(user: "someone")
        let first = try store.changeStamp()
        #expect(try store.changeStamp() == first)
        _ = try store.clips()
        #expect(try store.changeStamp() == first)

        try other.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 2)
        let second = try store.changeStamp()
        #expect(second != first)
        try store.clearLabel(clipID: clips["a.mp4"]!.id)
        #expect(try store.changeStamp() != second)
    }
}
