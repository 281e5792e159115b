import Foundation
import GRDB

/// The project database in `DIR/.actionlab/project.sqlite`: clips, classes, labels
/// and their history, training runs and their metrics.
///
/// SQLite in WAL mode through a GRDB `DatabasePool`: any thread may read while one
/// writes (the scanner fills in clips while the UI lists them). Every method that
/// changes data commits its transaction before it returns, so a label the screen shows
/// is already on disk.
public final class ProjectStore: Sendable {
    public let layout: ProjectLayout
    /// The classes of `actionlab.toml`, in key order.
    public let classes: [ClassInfo]
    /// Recorded as the author of label changes: `USER` from the environment (else the login name).
    public let user: String
    let database: DatabasePool
    /// A connection that only asks SQLite whether anything was committed (`changeStamp`).
    private let watcher: DatabaseQueue

    private init(layout: ProjectLayout, classes: [ClassInfo], user: String, database: DatabasePool,
                 watcher: DatabaseQueue, busyTimeout: Int) {
        self.busyTimeout = busyTimeout
        self.layout = layout
        self.classes = classes
        self.user = user
        self.database = database
        self.watcher = watcher
    }

    /// The newest database schema this build reads and writes.
    public static var schemaVersion: Int { Schema.version }

    /// How long an operation waits for another process (the UI, a second command)
    /// that holds the database's write lock before giving up.
    static let busyTimeoutSeconds = 10
    /// This store's wait: `busyTimeoutSeconds` but in tests of giving up.
    let busyTimeout: Int

    /// Opens the project's database, creating `.actionlab/` and the database if needed,
    /// migrating an older schema, and taking the classes from `config` (by default read
    /// from `actionlab.toml`). A database from a newer schema is refused untouched.
    ///
    /// Safe to call from several processes at once on one project: each waits for the
    /// others' writes, and the schema is created or migrated by exactly one of them.
    ///
    /// - Parameter user: the author recorded on label changes; defaults to `USER`.
    public static func open(_ layout: ProjectLayout, config: ProjectConfig? = nil,
                            user: String? = nil) throws -> ProjectStore {
        try open(layout, config: config, user: user, busyTimeout: busyTimeoutSeconds)
    }

    /// `open` waiting at most `busyTimeout` seconds for another connection's lock.
    static func open(_ layout: ProjectLayout, config: ProjectConfig?, user: String?,
                     busyTimeout: Int) throws -> ProjectStore {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: layout.root.path, isDirectory: &isDirectory),
              isDirectory.boolValue
        else { throw StoreError.noSuchProjectFolder(layout.root.path) }
        let config = try config ?? ProjectConfig.load(layout)
        try refuseLinkedState(layout)
        let file = layout.databaseURL.path
        do {
            try FileManager.default.createDirectory(at: layout.stateDirectory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.databaseFailure(file: file, reason: "cannot create \(layout.stateDirectory.path)")
        }
        let store = try DatabaseSetupLock.holding(in: layout.stateDirectory, database: file,
                                                  waitingAtMost: busyTimeout) {
            try setUp(layout, config: config, file: file, user: user, busyTimeout: busyTimeout)
        }
        StaleTemporaries.remove(under: layout.runsDirectory)
        StaleTemporaries.remove(under: layout.cacheDirectory)
        return store
    }

    /// Checks the schema, creates or migrates it and syncs the classes: the part of `open`
    /// that runs under the setup lock.
    private static func setUp(_ layout: ProjectLayout, config: ProjectConfig, file: String, user: String?,
                              busyTimeout: Int) throws -> ProjectStore {
        if let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int, size > 0 {
            try refuseNewerSchema(file: file, busyTimeout: busyTimeout)
        }

        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Another ActionLab process (say `labels import` while the UI is open) may hold
        // the write lock for a moment: wait for it rather than fail.
        configuration.busyMode = .timeout(TimeInterval(busyTimeout))
        let database: DatabasePool
        let watcher: DatabaseQueue
        do {
            database = try DatabasePool(path: file, configuration: configuration)
            // One immediate transaction takes the write lock before looking at the schema,
            // so of two processes opening a new project one creates it and the other
            // then finds it created.
            try database.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try checkSchemaVersion(db, file: file)
                    try Schema.migrate(db)
                    return .commit
                }
            }
            var watching = configuration
            watching.readonly = true
            watcher = try DatabaseQueue(path: file, configuration: watching)
        } catch {
            throw storeError(error, file: file, waited: busyTimeout)
        }

        let classes = config.classes.enumerated().map { index, name in
            ClassInfo(index: index, name: name, key: Character(String(index + 1)))
        }
        let store = ProjectStore(layout: layout, classes: classes,
                                 user: user ?? ProcessInfo.processInfo.environment["USER"] ?? NSUserName(),
                                 database: database, watcher: watcher, busyTimeout: busyTimeout)
        try store.wrapErrors {
            try database.write { db in
                try store.syncClasses(db)
                try store.markInterruptedRuns(db)
            }
        }
        return store
    }

    /// Refuses a `.actionlab` that is a symbolic link, and links in place of the files
    /// and folders ActionLab keeps in it: the project's state must stay in its folder.
    private static func refuseLinkedState(_ layout: ProjectLayout) throws {
        for url in [layout.stateDirectory, layout.databaseURL, layout.cacheDirectory, layout.runsDirectory] {
            var status = stat()
            guard lstat(url.path, &status) == 0, (status.st_mode & S_IFMT) == S_IFLNK else { continue }
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: url.path)) ?? "an unreadable target"
            throw StoreError.linkedStateDirectory(path: url.path, target: target)
        }
    }

    /// Reads the schema version through a read-only connection, so a newer file is never written to.
    private static func refuseNewerSchema(file: String, busyTimeout: Int) throws {
        var configuration = Configuration()
        configuration.readonly = true
        // A process creating or migrating the database holds its lock for a moment.
        configuration.busyMode = .timeout(TimeInterval(busyTimeout))
        do {
            let reader = try DatabaseQueue(path: file, configuration: configuration)
            try reader.read { db in try checkSchemaVersion(db, file: file) }
            try reader.close()
        } catch {
            throw storeError(error, file: file, waited: busyTimeout)
        }
    }

    private static func checkSchemaVersion(_ db: Database, file: String) throws {
        let found = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        if found > Schema.version {
            throw StoreError.newerSchema(file: file, found: found, supported: Schema.version)
        }
        if try Schema.hasUnknownMigrations(db) {
            throw StoreError.newerSchema(file: file, found: found, supported: Schema.version)
        }
    }

    /// `error` as a `StoreError` naming `file`: only SQLite's own verdict makes a file
    /// "not a project database"; a lock held too long or a full disk says so.
    static func storeError(_ error: any Error, file: String, waited: Int) -> any Error {
        switch error {
        case let bad as BadStoredValue:
            return StoreError.badStoredValue(file: file, item: bad.item, column: bad.column, found: bad.found,
                                             expected: bad.expected)
        case let error as DatabaseError:
            let message = error.message ?? "\(error.resultCode)"
            switch error.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return StoreError.databaseBusy(file: file, waitedSeconds: waited)
            case .SQLITE_NOTADB:
                return StoreError.unusableDatabase(file: file, reason: "not an SQLite database")
            case .SQLITE_CORRUPT:
                return StoreError.unusableDatabase(file: file, reason: "damaged (\(message))")
            case .SQLITE_FULL:
                return StoreError.databaseFailure(file: file, reason: "the disk is full")
            case .SQLITE_READONLY:
                return StoreError.databaseFailure(file: file, reason: "cannot be written (\(message))")
            case .SQLITE_PERM, .SQLITE_CANTOPEN, .SQLITE_AUTH:
                return StoreError.databaseFailure(file: file, reason: "cannot be opened (\(message))")
            default:
                return StoreError.databaseFailure(file: file, reason: message)
            }
        default:
            return error
        }
    }

    /// A number that differs from the one returned before whenever anything was committed
    /// to the database in between, by this store, another store or another process. One
    /// `PRAGMA data_version` on a connection that never writes: cheap enough to poll.
    public func changeStamp() throws -> Int64 {
        try wrapErrors {
            try watcher.inDatabase { db in try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
        }
    }

    /// Makes the classes table match the configuration. Classes dropped from the
    /// configuration keep their row (labels may refer to them) with no position.
    private func syncClasses(_ db: Database) throws {
        try db.execute(sql: "UPDATE classes SET position = NULL, key = NULL")
        for info in classes {
            try db.execute(sql: """
                INSERT INTO classes (name, position, key) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET position = excluded.position, key = excluded.key
                """, arguments: [info.name, info.index, String(info.key)])
        }
    }

    /// Closes the database; the store must not be used afterwards.
    public func close() throws {
        try wrapErrors {
            try watcher.close()
            try database.close()
        }
    }

    /// Runs `body`, turning SQLite errors and badly typed stored values into a
    /// `StoreError` that names the database file.
    func wrapErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw Self.storeError(error, file: layout.databaseURL.path, waited: busyTimeout)
        }
    }

    // MARK: - Clips

    /// The columns `clipRecord` reads, by position (positions are faster than names for
    /// the 10,000-row lists the UI loads).
    static let clipColumns = """
        c.id, c.path, c.size, c.mtime, c.probed, c.codec, c.width, c.height, c.fps, c.duration,
        c.frame_count, c.frame_count_exact, c.unreadable_reason, c.missing,
        k.name AS class_name, k.position AS class_position,
        l.labelled_by, l.labelled_at, l.watched_seconds
        FROM clips c
        LEFT JOIN labels l ON l.clip_id = c.id
        LEFT JOIN classes k ON k.id = l.class_id
        """

    static func clipRecord(_ row: Row) throws -> ClipRecord {
        let id: Int64 = try row.stored(0, "clips.id", of: "a clip")
        let path: String = try row.stored(1, "clips.path", of: "clip \(id)")
        let item = "clip \(id) (\(path))"
        var probe: ClipProbe?
        if let codec: String = try row.stored(5, "clips.codec", of: item) {
            probe = ClipProbe(codec: codec, width: try row.stored(6, "clips.width", of: item),
                              height: try row.stored(7, "clips.height", of: item),
                              fps: try row.stored(8, "clips.fps", of: item),
                              duration: try row.stored(9, "clips.duration", of: item),
                              frameCount: try row.stored(10, "clips.frame_count", of: item),
                              frameCountIsExact: try row.stored(11, "clips.frame_count_exact", of: item))
        }
        var label: ClipLabel?
        if let className: String = try row.stored(14, "classes.name", of: item) {
            label = ClipLabel(className: className, classIndex: try row.stored(15, "classes.position", of: item),
                              labelledBy: try row.stored(16, "labels.labelled_by", of: item),
                              labelledAt: Date(timeIntervalSince1970: try row.stored(17, "labels.labelled_at", of: item)),
                              watchedSeconds: try row.stored(18, "labels.watched_seconds", of: item))
        }
        return ClipRecord(id: id, path: path, size: try row.stored(2, "clips.size", of: item),
                          modified: Date(timeIntervalSince1970: try row.stored(3, "clips.mtime", of: item)),
                          probe: probe, unreadableReason: try row.stored(12, "clips.unreadable_reason", of: item),
                          isMissing: try row.stored(13, "clips.missing", of: item), label: label)
    }

    /// Every clip the project knows, missing ones included, sorted by path.
    public func clips() throws -> [ClipRecord] {
        try wrapErrors {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT \(Self.clipColumns) ORDER BY c.path").map(Self.clipRecord)
            }
        }
    }

    public func clip(id: Int64) throws -> ClipRecord? {
        try wrapErrors {
            try database.read { db in try Self.clip(db, id: id) }
        }
    }

    /// The clip at `path` relative to the project folder.
    public func clip(path: String) throws -> ClipRecord? {
        try wrapErrors {
            try database.read { db in
                try Row.fetchOne(db, sql: "SELECT \(Self.clipColumns) WHERE c.path = ?", arguments: [path])
                    .map(Self.clipRecord)
            }
        }
    }

    static func clip(_ db: Database, id: Int64) throws -> ClipRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(clipColumns) WHERE c.id = ?"), arguments: [id])
            .map(clipRecord)
    }

    // MARK: - Labels

    /// Labels clip `clipID` with class `classIndex` (an index into `classes`), committed
    /// before returning. Returns the recorded change, or nil if the clip already had that label.
    ///
    /// - Parameter watchedSeconds: how long the clip was watched before this label.
    @discardableResult
    /// - Parameter acceptedFrom: the name of the model (`ProjectModel.name`) whose suggestion
    ///   the user accepted, recorded in the history; nil for a label typed by key.
    public func setLabel(clipID: Int64, classIndex: Int, watchedSeconds: Double = 0,
                         acceptedFrom: String? = nil) throws -> LabelChange? {
        guard classes.indices.contains(classIndex) else {
            throw StoreError.unknownClassIndex(classIndex, classCount: classes.count)
        }
        return try wrapErrors {
            try database.write { db in
                let classID = try classID(db, position: classIndex)
                return try applyLabel(db, clipID: clipID, classID: classID, kind: .set, watchedSeconds: watchedSeconds,
                                      acceptedFrom: acceptedFrom)
            }
        }
    }

    /// Removes the label of clip `clipID`, committed before returning. Returns the
    /// recorded change, or nil if the clip had no label.
    @discardableResult
    public func clearLabel(clipID: Int64, watchedSeconds: Double = 0) throws -> LabelChange? {
        try wrapErrors {
            try database.write { db in
                try applyLabel(db, clipID: clipID, classID: nil, kind: .clear, watchedSeconds: watchedSeconds)
            }
        }
    }

    func classID(_ db: Database, position: Int) throws -> Int64 {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM classes WHERE position = ?", arguments: [position])
        else { throw StoreError.unknownClassIndex(position, classCount: classes.count) }
        return id
    }

    /// The one place a label changes: updates `labels` and appends to `label_history`.
    func applyLabel(_ db: Database, clipID: Int64, classID: Int64?, kind: LabelChange.Kind,
                    watchedSeconds: Double, at date: Date = Date(), acceptedFrom: String? = nil) throws -> LabelChange? {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM clips WHERE id = ?", arguments: [clipID]) != nil else {
            throw StoreError.unknownClip(id: clipID)
        }
        let old = try Row.fetchOne(db, sql: """
            SELECT class_id, labelled_by, labelled_at, watched_seconds FROM labels WHERE clip_id = ?
            """, arguments: [clipID])
        let oldClassID: Int64? = try old?.stored(0, "labels.class_id", of: "the label of clip \(clipID)")
        if oldClassID == classID { return nil }

        let now = date.timeIntervalSince1970
        if let classID {
            try db.execute(sql: """
                INSERT INTO labels (clip_id, class_id, labelled_by, labelled_at, watched_seconds)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(clip_id) DO UPDATE SET class_id = excluded.class_id, labelled_by = excluded.labelled_by,
                    labelled_at = excluded.labelled_at, watched_seconds = excluded.watched_seconds
                """, arguments: [clipID, classID, user, now, watchedSeconds])
        } else {
            try db.execute(sql: "DELETE FROM labels WHERE clip_id = ?", arguments: [clipID])
        }
        try db.execute(sql: """
            INSERT INTO label_history (clip_id, kind, old_class_id, old_labelled_by, old_labelled_at,
                                       old_watched_seconds, new_class_id, who, at, watched_seconds, accepted_from)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [clipID, kind.rawValue, oldClassID, old?["labelled_by"], old?["labelled_at"],
                             old?["watched_seconds"], classID, user, now, watchedSeconds, acceptedFrom])
        return try Self.change(db, id: db.lastInsertedRowID)
    }

    /// Reverts the most recent label change that has not been reverted yet, committed
    /// before returning; repeated calls step further back. Returns the revert as a
    /// change (kind `.undo`), or nil when there is nothing to undo. Undo steps back
    /// through key presses only: it stops at the last `labels import`, which is
    /// undone by importing again.
    @discardableResult
    public func undo() throws -> LabelChange? {
        try wrapErrors {
            try database.write { db in
                guard let latest = try Row.fetchOne(db, sql: """
                    SELECT * FROM label_history WHERE undone = 0 AND kind != 'undo' ORDER BY id DESC LIMIT 1
                    """) else { return nil }
                let latestID: Int64 = try latest.stored("id", "label_history.id", of: "a label change")
                let item = "label change \(latestID)"
                let kind: String = try latest.stored("kind", "label_history.kind", of: item)
                guard kind != LabelChange.Kind.imported.rawValue else { return nil }
                let clipID: Int64 = try latest.stored("clip_id", "label_history.clip_id", of: item)
                let current = try Row.fetchOne(db, sql: """
                    SELECT class_id, labelled_by, labelled_at, watched_seconds FROM labels WHERE clip_id = ?
                    """, arguments: [clipID])
                let restoredClassID: Int64? = try latest.stored("old_class_id", "label_history.old_class_id", of: item)
                if let restoredClassID {
                    // Restore the earlier label exactly as it was, author and time included.
                    try db.execute(sql: """
                        INSERT INTO labels (clip_id, class_id, labelled_by, labelled_at, watched_seconds)
                        VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT(clip_id) DO UPDATE SET class_id = excluded.class_id,
                            labelled_by = excluded.labelled_by, labelled_at = excluded.labelled_at,
                            watched_seconds = excluded.watched_seconds
                        """, arguments: [clipID, restoredClassID, latest["old_labelled_by"],
                                         latest["old_labelled_at"], latest["old_watched_seconds"]])
                } else {
                    try db.execute(sql: "DELETE FROM labels WHERE clip_id = ?", arguments: [clipID])
                }
                try db.execute(sql: "UPDATE label_history SET undone = 1 WHERE id = ?", arguments: [latestID])
                try db.execute(sql: """
                    INSERT INTO label_history (clip_id, kind, old_class_id, old_labelled_by, old_labelled_at,
                                               old_watched_seconds, new_class_id, who, at, watched_seconds, reverts)
                    VALUES (?, 'undo', ?, ?, ?, ?, ?, ?, ?, 0, ?)
                    """, arguments: [clipID, current?["class_id"], current?["labelled_by"], current?["labelled_at"],
                                     current?["watched_seconds"], restoredClassID, user,
                                     Date().timeIntervalSince1970, latestID])
                return try Self.change(db, id: db.lastInsertedRowID)
            }
        }
    }

    static let changeColumns = """
        h.id, h.clip_id, c.path, h.kind, o.name AS old_name, n.name AS new_name, h.who, h.at,
        h.watched_seconds, h.undone, h.accepted_from
        FROM label_history h
        JOIN clips c ON c.id = h.clip_id
        LEFT JOIN classes o ON o.id = h.old_class_id
        LEFT JOIN classes n ON n.id = h.new_class_id
        """

    static func change(_ db: Database, id: Int64) throws -> LabelChange? {
        try Row.fetchOne(db, sql: "SELECT \(changeColumns) WHERE h.id = ?", arguments: [id]).map(labelChange)
    }

    static func labelChange(_ row: Row) throws -> LabelChange {
        let id: Int64 = try row.stored(0, "label_history.id", of: "a label change")
        let item = "label change \(id)"
        let kindName: String = try row.stored(3, "label_history.kind", of: item)
        guard let kind = LabelChange.Kind(rawValue: kindName) else {
            throw BadStoredValue(item: item, column: "label_history.kind", found: "'\(kindName)'",
                                 expected: "set, clear, imported or undo")
        }
        return LabelChange(id: id, clipID: try row.stored(1, "label_history.clip_id", of: item),
                           path: try row.stored(2, "clips.path", of: item), kind: kind,
                           previousClass: try row.stored(4, "classes.name", of: item),
                           newClass: try row.stored(5, "classes.name", of: item),
                           who: try row.stored(6, "label_history.who", of: item),
                           at: Date(timeIntervalSince1970: try row.stored(7, "label_history.at", of: item)),
                           watchedSeconds: try row.stored(8, "label_history.watched_seconds", of: item),
                           isUndone: try row.stored(9, "label_history.undone", of: item),
                           acceptedFrom: try row.stored(10, "label_history.accepted_from", of: item))
    }

    /// Every change of clip `clipID`'s label, oldest first.
    public func history(for clipID: Int64) throws -> [LabelChange] {
        try wrapErrors {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT \(Self.changeColumns) WHERE h.clip_id = ? ORDER BY h.id",
                                 arguments: [clipID]).map(Self.labelChange)
            }
        }
    }

    /// The most recent label changes of the whole project, newest first.
    public func recentChanges(limit: Int = 100) throws -> [LabelChange] {
        try wrapErrors {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT \(Self.changeColumns) ORDER BY h.id DESC LIMIT ?",
                                 arguments: [limit]).map(Self.labelChange)
            }
        }
    }

    /// How many clips there are and how they are labelled, counting only clips found on disk.
    public struct LabelCounts: Sendable, Equatable {
        /// Clips present on disk (readable or not).
        public var clips: Int
        /// Of those, how many carry a label.
        public var labelled: Int
        /// Labelled clips per class, indexed like `classes`.
        public var perClass: [Int]

        public init(clips: Int, labelled: Int, perClass: [Int]) {
            self.clips = clips
            self.labelled = labelled
            self.perClass = perClass
        }
    }

    public func labelCounts() throws -> LabelCounts {
        try wrapErrors {
            try database.read { db in
                let clips = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM clips WHERE missing = 0") ?? 0
                let labelled = try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM labels l JOIN clips c ON c.id = l.clip_id WHERE c.missing = 0
                    """) ?? 0
                var perClass = Array(repeating: 0, count: classes.count)
                for row in try Row.fetchAll(db, sql: """
                    SELECT k.position, COUNT(*) AS n FROM labels l
                    JOIN clips c ON c.id = l.clip_id JOIN classes k ON k.id = l.class_id
                    WHERE c.missing = 0 AND k.position IS NOT NULL GROUP BY k.position
                    """) {
                    let position: Int = try row.stored(0, "classes.position", of: "a class")
                    if perClass.indices.contains(position) { perClass[position] = try row.stored(1, "count", of: "a class") }
                }
                return LabelCounts(clips: clips, labelled: labelled, perClass: perClass)
            }
        }
    }
}
