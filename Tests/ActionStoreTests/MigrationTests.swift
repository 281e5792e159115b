@testable import ActionStore
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
             try ["clips", "classes", "labels", "label_history", "runs", "epoch_metrics", "predictions",
                   "project_settings"].filter { try db.tableExists($0) })
        }
        #expect(version == ProjectStore.schemaVersion)
        #expect(journal == "wal")
        #expect(tables.count == 8)
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

    @Test func aRunWhoseProcessEndedIsMarkedInterruptedOnOpenButALiveOneIsNot() throws {
        let project = try TemporaryProject()
        let store = try project.open()
        let live = try store.createRun(settingsJSON: "{}", splitJSON: "{}")
        let orphan = try store.createRun(settingsJSON: "{}", splitJSON: "{}")
        try store.close()

        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/sh")
        ended.arguments = ["-c", "exit 0"]
        try ended.run()
        ended.waitUntilExit()
        let queue = try DatabaseQueue(path: project.layout.databaseURL.path)
        try queue.write { db in
            try db.execute(sql: "UPDATE runs SET process_id = ? WHERE id = ?",
                           arguments: [Int(ended.processIdentifier), orphan.id])
        }
        try queue.close()

        let reopened = try project.open()
        #expect(try reopened.run(id: live.id)?.status == .running)
        #expect(try reopened.run(id: orphan.id)?.status == .interrupted)
    }

    @Test func aVersion1DatabaseIsMigratedKeepingItsData() throws {
        let project = try TemporaryProject()
        try FileManager.default.createDirectory(at: project.layout.stateDirectory, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: project.layout.databaseURL.path)
        try Schema.migrator.migrate(queue, upTo: Schema.firstMigration)
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO clips (path, size, mtime, probed) VALUES ('a.mp4', 1, 0, 0);
                INSERT INTO classes (name, position, key, colour) VALUES ('run', 0, '1', '#E69F00');
                INSERT INTO labels VALUES (1, 1, 'old', 10, 2);
                INSERT INTO runs (started_at, settings_json, split_json, status) VALUES (0, '{}', '{}', 'running');
                """)
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") } == 1)
        try queue.close()

        let store = try project.open()
        #expect(try store.clip(path: "a.mp4")?.label?.labelledBy == "old")
        // A run from before process ids were kept cannot still be running in this process.
        #expect(try store.runs().first?.status == .interrupted)
        try store.close()
        let check = try DatabaseQueue(path: project.layout.databaseURL.path)
        #expect(try check.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") } == Schema.version)
    }

    @Test func aVersion2DatabaseLosesTheUnusedClassColourAndKeepsItsLabels() throws {
        let project = try TemporaryProject()
        try FileManager.default.createDirectory(at: project.layout.stateDirectory, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: project.layout.databaseURL.path)
        try Schema.migrator.migrate(queue, upTo: "v2: the process running each run")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO clips (path, size, mtime, probed) VALUES ('a.mp4', 1, 0, 0);
                INSERT INTO classes (name, position, key, colour) VALUES ('run', 0, '1', '#E69F00');
                INSERT INTO labels VALUES (1, 1, 'old', 10, 2);
                """)
        }
        try queue.close()

        let store = try project.open()
        #expect(try store.clip(path: "a.mp4")?.label?.labelledBy == "old")
        try store.close()
        let check = try DatabaseQueue(path: project.layout.databaseURL.path)
        let (version, columns) = try check.read { db in
            (try Int.fetchOne(db, sql: "PRAGMA user_version"), try db.columns(in: "classes").map(\.name))
        }
        #expect(version == Schema.version)
        #expect(!columns.contains("colour"))
        #expect(columns.contains("name") && columns.contains("key"))
    }

    @Test func aVersion3DatabaseGainsPredictionsAndRunNamesKeepingItsHistoryAndRuns() throws {
        let project = try TemporaryProject()
        try FileManager.default.createDirectory(at: project.layout.stateDirectory, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: project.layout.databaseURL.path)
        try Schema.migrator.migrate(queue, upTo: "v3: classes without a stored colour")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO clips (path, size, mtime, probed) VALUES ('a.mp4', 1, 0, 0);
                INSERT INTO classes (name, position, key) VALUES ('run', 0, '1');
                INSERT INTO labels VALUES (1, 1, 'old', 10, 2);
                INSERT INTO label_history (clip_id, kind, new_class_id, who, at, watched_seconds)
                    VALUES (1, 'set', 1, 'old', 10, 2);
                INSERT INTO runs (started_at, settings_json, split_json, status, best_checkpoint_path)
                    VALUES (0, '{}', '{}', 'completed', 'gone.safetensors');
                """)
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") } == 3)
        try queue.close()

        let store = try project.open()
        let clip = try #require(try store.clip(path: "a.mp4"))
        #expect(clip.label?.labelledBy == "old")
        #expect(try store.history(for: clip.id).map(\.acceptedFrom) == [nil])
        let run = try #require(try store.runs().first)
        #expect(run.name == nil && run.note == nil && run.displayName == "run \(run.id)")
        #expect(try store.pinnedCheckpoint() == nil)
        #expect(try store.predictions(source: "anything").isEmpty)
        // Its checkpoint file is gone: no model to predict with, and no error.
        #expect(try store.currentModel() == nil)
        try store.close()
        let check = try DatabaseQueue(path: project.layout.databaseURL.path)
        #expect(try check.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") } == 4)
    }
}
