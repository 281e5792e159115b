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

    private init(layout: ProjectLayout, classes: [ClassInfo], user: String, database: DatabasePool) {
        self.layout = layout
        self.classes = classes
        self.user = user
        self.database = database
    }

    /// The newest database schema this build reads and writes.
    public static var schemaVersion: Int { Schema.version }

    /// Opens the project's database, creating `.actionlab/` and the database if needed,
    /// migrating an older schema, and taking the classes from `config` (by default read
    /// from `actionlab.toml`). A database from a newer schema is refused untouched.
    ///
    /// - Parameter user: the author recorded on label changes; defaults to `USER`.
    public static func open(_ layout: ProjectLayout, config: ProjectConfig? = nil,
                            user: String? = nil) throws -> ProjectStore {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: layout.root.path, isDirectory: &isDirectory),
              isDirectory.boolValue
        else { throw StoreError.noSuchProjectFolder(layout.root.path) }
        let config = try config ?? ProjectConfig.load(layout)
        let file = layout.databaseURL.path
        if FileManager.default.fileExists(atPath: file) {
            try refuseNewerSchema(file: file)
        } else {
            do {
                try FileManager.default.createDirectory(at: layout.stateDirectory, withIntermediateDirectories: true)
            } catch {
                throw StoreError.unusableDatabase(file: file, reason: "cannot create \(layout.stateDirectory.path)")
            }
        }

        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Another ActionLab process (say `labels import` while the UI is open) may hold
        // the write lock for a moment: wait for it rather than fail.
        configuration.busyMode = .timeout(10)
        let database: DatabasePool
        do {
            database = try DatabasePool(path: file, configuration: configuration)
            // Checked again through the pool, in case another process migrated meanwhile.
            try database.read { db in try checkSchemaVersion(db, file: file) }
            try Schema.migrator.migrate(database)
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError.unusableDatabase(file: file, reason: error.message ?? "\(error.resultCode)")
        }

        let classes = config.classes.enumerated().map { index, name in
            ClassInfo(index: index, name: name, key: Character(String(index + 1)),
                      colour: ClassInfo.palette[index % ClassInfo.palette.count])
        }
        let store = ProjectStore(layout: layout, classes: classes,
                                 user: user ?? ProcessInfo.processInfo.environment["USER"] ?? NSUserName(),
                                 database: database)
        try store.wrapErrors {
            try database.write { db in
                try store.syncClasses(db)
                try store.markInterruptedRuns(db)
            }
        }
        return store
    }

    /// Reads the schema version through a read-only connection, so a newer file is never written to.
    private static func refuseNewerSchema(file: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let reader = try DatabaseQueue(path: file, configuration: configuration)
            try reader.read { db in try checkSchemaVersion(db, file: file) }
            try reader.close()
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError.unusableDatabase(file: file, reason: error.message ?? "\(error.resultCode)")
        }
    }

    private static func checkSchemaVersion(_ db: Database, file: String) throws {
        let found = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        if found > Schema.version {
            throw StoreError.newerSchema(file: file, found: found, supported: Schema.version)
        }
        let tableExists = try db.tableExists("grdb_migrations")
        if tableExists, try Schema.migrator.hasBeenSuperseded(db) {
            throw StoreError.newerSchema(file: file, found: found, supported: Schema.version)
        }
    }

    /// Makes the classes table match the configuration. Classes dropped from the
    /// configuration keep their row (labels may refer to them) with no position.
    private func syncClasses(_ db: Database) throws {
        try db.execute(sql: "UPDATE classes SET position = NULL, key = NULL")
        for info in classes {
            try db.execute(sql: """
                INSERT INTO classes (name, position, key, colour) VALUES (?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET position = excluded.position, key = excluded.key,
                                                colour = excluded.colour
                """, arguments: [info.name, info.index, String(info.key), info.colour])
        }
    }

    /// Closes the database; the store must not be used afterwards.
    public func close() throws {
        try wrapErrors { try database.close() }
    }

    /// Runs `body`, turning SQLite errors into a `StoreError` that names the database file.
    func wrapErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw StoreError.unusableDatabase(file: layout.databaseURL.path, reason: error.message ?? "\(error.resultCode)")
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

    static func clipRecord(_ row: Row) -> ClipRecord {
        var probe: ClipProbe?
        if let codec: String = row[5] {
            probe = ClipProbe(codec: codec, width: row[6], height: row[7], fps: row[8], duration: row[9],
                              frameCount: row[10], frameCountIsExact: row[11])
        }
        var label: ClipLabel?
        if let className: String = row[14] {
            label = ClipLabel(className: className, classIndex: row[15], labelledBy: row[16],
                              labelledAt: Date(timeIntervalSince1970: row[17]), watchedSeconds: row[18])
        }
        return ClipRecord(id: row[0], path: row[1], size: row[2], modified: Date(timeIntervalSince1970: row[3]),
                          probe: probe, unreadableReason: row[12], isMissing: row[13], label: label)
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
    public func setLabel(clipID: Int64, classIndex: Int, watchedSeconds: Double = 0) throws -> LabelChange? {
        guard classes.indices.contains(classIndex) else {
            throw StoreError.unknownClassIndex(classIndex, classCount: classes.count)
        }
        return try wrapErrors {
            try database.write { db in
                let classID = try classID(db, position: classIndex)
                return try applyLabel(db, clipID: clipID, classID: classID, kind: .set, watchedSeconds: watchedSeconds)
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
                    watchedSeconds: Double, at date: Date = Date()) throws -> LabelChange? {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM clips WHERE id = ?", arguments: [clipID]) != nil else {
            throw StoreError.unknownClip(id: clipID)
        }
        let old = try Row.fetchOne(db, sql: """
            SELECT class_id, labelled_by, labelled_at, watched_seconds FROM labels WHERE clip_id = ?
            """, arguments: [clipID])
        let oldClassID: Int64? = old?["class_id"]
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
                                       old_watched_seconds, new_class_id, who, at, watched_seconds)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [clipID, kind.rawValue, oldClassID, old?["labelled_by"], old?["labelled_at"],
                             old?["watched_seconds"], classID, user, now, watchedSeconds])
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
                    """), latest["kind"] != LabelChange.Kind.imported.rawValue
                else { return nil }
                let clipID: Int64 = latest["clip_id"]
                let current = try Row.fetchOne(db, sql: """
                    SELECT class_id, labelled_by, labelled_at, watched_seconds FROM labels WHERE clip_id = ?
                    """, arguments: [clipID])
                let restoredClassID: Int64? = latest["old_class_id"]
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
                let latestID: Int64 = latest["id"]
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
        h.watched_seconds, h.undone
        FROM label_history h
        JOIN clips c ON c.id = h.clip_id
        LEFT JOIN classes o ON o.id = h.old_class_id
        LEFT JOIN classes n ON n.id = h.new_class_id
        """

    static func change(_ db: Database, id: Int64) throws -> LabelChange? {
        try Row.fetchOne(db, sql: "SELECT \(changeColumns) WHERE h.id = ?", arguments: [id]).map(labelChange)
    }

    static func labelChange(_ row: Row) -> LabelChange {
        LabelChange(id: row["id"], clipID: row["clip_id"], path: row["path"],
                    kind: LabelChange.Kind(rawValue: row["kind"]) ?? .set,
                    previousClass: row["old_name"], newClass: row["new_name"], who: row["who"],
                    at: Date(timeIntervalSince1970: row["at"]), watchedSeconds: row["watched_seconds"],
                    isUndone: row["undone"])
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
                    let position: Int = row["position"]
                    if perClass.indices.contains(position) { perClass[position] = row["n"] }
                }
                return LabelCounts(clips: clips, labelled: labelled, perClass: perClass)
            }
        }
    }
}
