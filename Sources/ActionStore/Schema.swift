import GRDB

/// The database schema, built by numbered migrations. Each migration also sets
/// SQLite's `user_version` to its number, so any SQLite tool shows which version
/// wrote a file and an older ActionLab can refuse a newer file before touching it.
enum Schema {
    /// The newest schema this build writes and understands.
    static let version = 4

    static let firstMigration = "v1: clips, classes, labels, history, runs, metrics"

    /// The migrations in order, by the identifier GRDB's migrator records in `grdb_migrations`.
    static let steps: [(identifier: String, sql: String)] = [
        (firstMigration, """
                CREATE TABLE clips (
                    id INTEGER PRIMARY KEY,
                    path TEXT NOT NULL UNIQUE,         -- relative to the project folder
                    size INTEGER NOT NULL,             -- bytes, at the last scan
                    mtime REAL NOT NULL,               -- seconds since 1970, at the last scan
                    probed INTEGER NOT NULL DEFAULT 0, -- 1 once metadata/unreadable_reason match size+mtime
                    codec TEXT,
                    width INTEGER,
                    height INTEGER,
                    fps REAL,
                    duration REAL,                     -- seconds
                    frame_count INTEGER,
                    frame_count_exact INTEGER,
                    unreadable_reason TEXT,
                    missing INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE classes (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    position INTEGER UNIQUE,           -- index in actionlab.toml; NULL once no longer listed
                    key TEXT,
                    colour TEXT NOT NULL
                );
                CREATE TABLE labels (
                    clip_id INTEGER PRIMARY KEY REFERENCES clips(id) ON DELETE CASCADE,
                    class_id INTEGER NOT NULL REFERENCES classes(id),
                    labelled_by TEXT NOT NULL,
                    labelled_at REAL NOT NULL,
                    watched_seconds REAL NOT NULL
                );
                CREATE INDEX labels_by_class ON labels(class_id);
                -- Every change of a label. The old_* columns keep the label being replaced so
                -- undo can restore it exactly; an undo is itself a row (kind 'undo', reverts = id).
                CREATE TABLE label_history (
                    id INTEGER PRIMARY KEY,
                    clip_id INTEGER NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('set', 'clear', 'imported', 'undo')),
                    old_class_id INTEGER REFERENCES classes(id),
                    old_labelled_by TEXT,
                    old_labelled_at REAL,
                    old_watched_seconds REAL,
                    new_class_id INTEGER REFERENCES classes(id),
                    who TEXT NOT NULL,
                    at REAL NOT NULL,
                    watched_seconds REAL NOT NULL,
                    undone INTEGER NOT NULL DEFAULT 0,
                    reverts INTEGER REFERENCES label_history(id)
                );
                CREATE INDEX label_history_by_clip ON label_history(clip_id);
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY,
                    started_at REAL NOT NULL,
                    settings_json TEXT NOT NULL,
                    split_json TEXT NOT NULL,
                    status TEXT NOT NULL,
                    status_detail TEXT,
                    epochs INTEGER NOT NULL DEFAULT 0,
                    best_val_accuracy REAL,
                    duration_seconds REAL NOT NULL DEFAULT 0,
                    last_checkpoint_path TEXT,
                    best_checkpoint_path TEXT
                );
                CREATE TABLE epoch_metrics (
                    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    epoch INTEGER NOT NULL,
                    loss REAL NOT NULL,
                    accuracy REAL NOT NULL,
                    val_loss REAL,
                    val_accuracy REAL,
                    learning_rate REAL NOT NULL,
                    seconds REAL NOT NULL,
                    PRIMARY KEY (run_id, epoch)
                );
                PRAGMA user_version = 1;
                """),
        // Several processes may open one project (the UI training while `labels export`
        // runs); a run is only cut off when the process that owns it is gone.
        ("v2: the process running each run", """
                ALTER TABLE runs ADD COLUMN process_id INTEGER;
                PRAGMA user_version = 2;
                """),
        // Class colours come from the UI's theme; the colour stored per class was never read.
        ("v3: classes without a stored colour", """
                ALTER TABLE classes DROP COLUMN colour;
                PRAGMA user_version = 3;
                """),
        // The model in the loop: what each checkpoint predicted for each clip, the run a
        // user names or pins, and labels accepted from a model's suggestion.
        ("v4: predictions, run names and notes, pinned checkpoint, accepted labels", """
                -- One row per (checkpoint, clip). `checkpoint` is the checkpoint's identity (its
                -- path, size and modification time, so a rewritten file is another checkpoint);
                -- clip_size and clip_mtime are the clip's at prediction time: when the clips row
                -- differs, the file changed and the prediction is stale.
                CREATE TABLE predictions (
                    checkpoint TEXT NOT NULL,
                    clip_id INTEGER NOT NULL REFERENCES clips(id) ON DELETE CASCADE,
                    clip_size INTEGER NOT NULL,
                    clip_mtime REAL NOT NULL,
                    class_names TEXT NOT NULL,         -- JSON array, the order of probabilities
                    probabilities TEXT NOT NULL,       -- JSON array of numbers
                    computed_at REAL NOT NULL,
                    PRIMARY KEY (checkpoint, clip_id)
                );
                CREATE INDEX predictions_by_clip ON predictions(clip_id);
                ALTER TABLE runs ADD COLUMN name TEXT;
                ALTER TABLE runs ADD COLUMN note TEXT;
                -- The name of the model whose suggestion a label was accepted from; NULL when typed.
                ALTER TABLE label_history ADD COLUMN accepted_from TEXT;
                -- Project-wide choices: 'pinned_checkpoint' = path of the checkpoint the user pinned.
                CREATE TABLE project_settings (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                PRAGMA user_version = 4;
                """),
    ]

    /// The migrations as a GRDB migrator: how earlier versions created their files.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for step in steps {
            migrator.registerMigration(step.identifier) { db in try db.execute(sql: step.sql) }
        }
        return migrator
    }

    /// Applies the migrations `db` lacks, recording them in `grdb_migrations` as GRDB's
    /// migrator does. Runs inside the caller's transaction, which must be immediate: the
    /// applied ones are read under the write lock, so two processes opening a new project
    /// at once never both create the tables (GRDB's migrator reads them before locking).
    static func migrate(_ db: Database) throws {
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
        let applied = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
        for step in steps where !applied.contains(step.identifier) {
            try db.execute(sql: step.sql)
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [step.identifier])
        }
    }

    /// True when `db` records a migration this build does not know: a newer ActionLab wrote it.
    static func hasUnknownMigrations(_ db: Database) throws -> Bool {
        guard try db.tableExists("grdb_migrations") else { return false }
        let known = Set(steps.map(\.identifier))
        return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations").contains { !known.contains($0) }
    }
}
