import ActionStore
import Foundation
import GRDB
import Testing

@Suite struct MigrationTests {
    @Test func freshProjectGetsTheCurrentSchemaInWALMode() throws {
        let project = try TemporaryProject()
        let store = try project.open()
        #expect(store.classes.map(\.name) == ProjectConfig.defaultClasses)
        #expect(store.classes.map(\.key) == ["1", "2", "3", "4", "5"])
        try store.close()

        let queue = try DatabaseQueue(path: project.layout.databaseURL.path)
        let (version, journal, tables) = try queue.read { db in
            (try Int.fetchOne(db, sql: "PRAGMA user_version"), try String.fetchOne(db, sql: "PRAGMA journal_mode"),
             try ["clips", "classes", "labels", "label_history", "runs", "epoch_metrics"].filter { try db.tableExists($0) })
        }
        #expect(version == ProjectStore.schemaVersion)
        #expect(journal == "wal")
        #expect(tables.count == 6)
    }

    @Test func reopeningKeepsClipsLabelsAndHistory() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b/c.mp4"])
        try store.setLabel(clipID: clips["b/c.mp4"]!.id, classIndex: 2, watchedSeconds: 1.5)
        try store.close()

        let reopened = try project.open()
        let again = try reopened.clips()
        #expect(again.map(\.path) == ["a.mp4", "b/c.mp4"])
        #expect(again[1].label?.className == "jump")
        #expect(again[1].label?.watchedSeconds == 1.5)
        #expect(try reopened.history(for: again[1].id).count == 1)
    }

    @Test func databaseFromANewerVersionIsRefusedAndLeftUnchanged() throws {
        let project = try TemporaryProject()
        try project.open().close()
        let file = project.layout.databaseURL.path
        let queue = try DatabaseQueue(path: file)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = 99") }
        try queue.close()
        let before = try Data(contentsOf: project.layout.databaseURL)

        let error = #expect(throws: StoreError.self) { try project.open() }
        #expect(error == .newerSchema(file: file, found: 99, supported: ProjectStore.schemaVersion))
        #expect(error?.description.hasPrefix(file + ": written by a newer ActionLab") == true)
        #expect(try Data(contentsOf: project.layout.databaseURL) == before)
    }

    @Test func databaseWithMigrationsThisVersionDoesNotKnowIsRefused() throws {
        let project = try TemporaryProject()
        try project.open().close()
        let file = project.layout.databaseURL.path
        let queue = try DatabaseQueue(path: file)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v9: from the future')")
        }
        try queue.close()

        let error = #expect(throws: StoreError.self) { try project.open() }
        #expect(error == .newerSchema(file: file, found: ProjectStore.schemaVersion,
                                      supported: ProjectStore.schemaVersion))
    }

    @Test func aMissingProjectFolderIsRefusedNotCreated() throws {
        let project = try TemporaryProject()
        let nowhere = project.root.appendingPathComponent("nowhere")
        #expect(throws: StoreError.noSuchProjectFolder(nowhere.path)) {
            try ProjectStore.open(ProjectLayout(root: nowhere))
        }
        #expect(!FileManager.default.fileExists(atPath: nowhere.path))
    }

    @Test func aFileThatIsNotADatabaseIsReportedByName() throws {
        let project = try TemporaryProject()
        try project.write(".actionlab/project.sqlite", String(repeating: "not sqlite ", count: 100))
        let error = #expect(throws: StoreError.self) { try project.open() }
        guard case let .unusableDatabase(file, _) = error else {
            Issue.record("expected unusableDatabase, got \(String(describing: error))")
            return
        }
        #expect(file == project.layout.databaseURL.path)
    }

    @Test func classesFollowTheConfigurationAndKeepLabelsOfDroppedOnes() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b.mp4"])
        try store.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 0)  // run
        try store.setLabel(clipID: clips["b.mp4"]!.id, classIndex: 1)  // walk
        try store.close()

        let renamed = try project.open(config: ProjectConfig(classes: ["walk", "sprint"]))
        #expect(renamed.classes.map(\.name) == ["walk", "sprint"])
        let labels = try renamed.clips().map(\.label)
        #expect(labels[0]?.className == "run")
        #expect(labels[0]?.classIndex == nil)
        #expect(labels[1]?.className == "walk")
        #expect(labels[1]?.classIndex == 0)
        #expect(try renamed.labelCounts() == .init(clips: 2, labelled: 2, perClass: [1, 0]))
    }

    @Test func aRunLeftRunningIsMarkedInterruptedOnOpen() throws {
        let project = try TemporaryProject()
        let store = try project.open()
        let run = try store.createRun(settingsJSON: "{}", splitJSON: "{}")
        try store.close()
        #expect(try project.open().run(id: run.id)?.status == .interrupted)
    }
}
