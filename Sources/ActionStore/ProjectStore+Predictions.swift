import Foundation
import GRDB

/// The model whose predictions the project shows: a pinned checkpoint, or else the best
/// checkpoint of the latest finished run.
public struct ProjectModel: Sendable, Equatable {
    /// The checkpoint file.
    public let checkpoint: URL
    /// Its path as recorded: relative to the project folder when inside it.
    public let recordedPath: String
    /// Identifies this version of the file (see `PredictionSource.checkpoint(_:in:)`):
    /// predictions are stored under it.
    public let identity: String
    /// Shown next to its predictions: the run's name ("run 3" until named), or the
    /// file's name for a pinned checkpoint no run wrote.
    public let name: String
    public let isPinned: Bool
    /// The run that wrote the checkpoint, when one did.
    public let runID: Int64?

    public init(checkpoint: URL, recordedPath: String, identity: String, name: String, isPinned: Bool, runID: Int64?) {
        self.checkpoint = checkpoint
        self.recordedPath = recordedPath
        self.identity = identity
        self.name = name
        self.isPinned = isPinned
        self.runID = runID
    }
}

/// Where stored predictions came from, as the identity string they are stored under.
public enum PredictionSource {
    /// A checkpoint file as it is now: its recorded path, size and modification time, so a
    /// checkpoint written again (a better epoch, a resumed run) is another source. Nil
    /// when the file cannot be examined.
    public static func checkpoint(_ url: URL, in layout: ProjectLayout) -> String? {
        guard let stamp = ProjectStore.stamp(of: url) else { return nil }
        return checkpointPrefix + layout.relativePath(of: url) + "|\(stamp.size)|"
            + String(format: "%.6f", stamp.modified.timeIntervalSince1970)
    }

    /// Whether `identity` names a checkpoint file as it was (`checkpoint(_:in:)`).
    public static func isCheckpoint(_ identity: String) -> Bool { identity.hasPrefix(checkpointPrefix) }

    /// The out-of-fold predictions of `actionlab review` with `folds` folds.
    public static func review(folds: Int) -> String { reviewPrefix + "\(folds)" }

    /// The folds of a `review(folds:)` identity; nil for any other.
    public static func reviewFolds(_ identity: String) -> Int? {
        identity.hasPrefix(reviewPrefix) ? Int(identity.dropFirst(reviewPrefix.count)) : nil
    }

    /// How a source is named to the user: "review (5 folds)" for a review.
    public static func displayName(_ identity: String) -> String {
        if let folds = reviewFolds(identity) { return "review (\(folds) folds)" }
        guard identity.hasPrefix(checkpointPrefix) else { return identity }
        return checkpointPath(identity) ?? String(identity.dropFirst(checkpointPrefix.count))
    }

    /// The recorded path of a `checkpoint(_:in:)` identity (it may itself contain "|");
    /// nil for any other identity.
    static func checkpointPath(_ identity: String) -> String? {
        guard identity.hasPrefix(checkpointPrefix) else { return nil }
        let fields = identity.dropFirst(checkpointPrefix.count).split(separator: "|", omittingEmptySubsequences: false)
        let path = fields.dropLast(2).joined(separator: "|")
        return fields.count >= 3 && !path.isEmpty ? path : nil
    }

    static let checkpointPrefix = "checkpoint:"
    static let reviewPrefix = "review:"
}

/// One clip's predicted probabilities, ready to be stored.
public struct NewPrediction: Sendable, Equatable {
    public var clipID: Int64
    /// The clip file's size and time when it was read for this prediction.
    public var clipStamp: FileStamp
    /// In the order of the class names saved with them.
    public var probabilities: [Float]

    public init(clipID: Int64, clipStamp: FileStamp, probabilities: [Float]) {
        self.clipID = clipID
        self.clipStamp = clipStamp
        self.probabilities = probabilities
    }
}

/// A prediction read back from the database, with whether it still describes the clip.
public struct StoredPrediction: Sendable, Equatable {
    public enum Freshness: Sendable, Equatable {
        /// Made by the asked-for source from the clip as it is now.
        case current
        /// Made by the asked-for source, but the clip's file changed since.
        case clipChanged
        /// The asked-for source has none for this clip; this one came from another
        /// (`source`), e.g. the previous best checkpoint.
        case otherSource
    }

    public let clipID: Int64
    /// The identity it is stored under (`PredictionSource`).
    public let source: String
    public let classNames: [String]
    public let probabilities: [Float]
    public let computedAt: Date
    public let freshness: Freshness

    public init(clipID: Int64, source: String, classNames: [String], probabilities: [Float], computedAt: Date,
                freshness: Freshness) {
        self.clipID = clipID
        self.source = source
        self.classNames = classNames
        self.probabilities = probabilities
        self.computedAt = computedAt
        self.freshness = freshness
    }

    public var isStale: Bool { freshness != .current }
    /// The index of the largest probability (the first of equals).
    public var topIndex: Int {
        var best = 0
        for i in probabilities.indices where probabilities[i] > probabilities[best] { best = i }
        return best
    }
    public var topClass: String { classNames.indices.contains(topIndex) ? classNames[topIndex] : "" }
    public var topProbability: Float { probabilities.isEmpty ? 0 : probabilities[topIndex] }
    /// The top probability minus the second (the top one alone when there is one class):
    /// small when the model hesitates between two classes.
    public var margin: Float {
        var first: Float = 0, second: Float = 0
        for p in probabilities {
            if p > first { second = first; first = p } else if p > second { second = p }
        }
        return first - second
    }
    /// The probability of class `name`; nil when the prediction has no such class.
    public func probability(of name: String) -> Float? {
        classNames.firstIndex(of: name).map { probabilities[$0] }
    }
}

extension ProjectStore {
    static let pinnedKey = "pinned_checkpoint"

    static func pinnedPath(_ db: Database) throws -> String? {
        try Row.fetchOne(db, sql: "SELECT value FROM project_settings WHERE key = ?", arguments: [pinnedKey])
            .map { try $0.stored(0, "project_settings.value", of: "the pinned checkpoint") }
    }

    /// A checkpoint path as recorded (relative to the project folder, or absolute) as a URL.
    public func checkpointURL(_ recordedPath: String) -> URL {
        recordedPath.hasPrefix("/") ? URL(fileURLWithPath: recordedPath) : layout.root.appendingPathComponent(recordedPath)
    }

    /// The recorded path of the pinned checkpoint, or nil when none is pinned.
    public func pinnedCheckpoint() throws -> String? {
        try wrapErrors { try database.read { db in try Self.pinnedPath(db) } }
    }

    /// Pins `checkpoint` as the project's model (nil unpins). The file must exist; whether
    /// it is a usable checkpoint is for the caller to check (it loads it anyway).
    public func pinCheckpoint(_ checkpoint: URL?) throws {
        guard let checkpoint else {
            try wrapErrors {
                try database.write { db in
                    try db.execute(sql: "DELETE FROM project_settings WHERE key = ?", arguments: [Self.pinnedKey])
                }
            }
            return
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: checkpoint.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw StoreError.pinnedCheckpointUnreadable(path: checkpoint.path, reason: "is not a file")
        }
        let recorded = layout.relativePath(of: checkpoint)
        try wrapErrors {
            try database.write { db in
                try db.execute(sql: """
                    INSERT INTO project_settings (key, value) VALUES (?, ?)
                    ON CONFLICT(key) DO UPDATE SET value = excluded.value
                    """, arguments: [Self.pinnedKey, recorded])
            }
        }
    }

    /// The project's model: the pinned checkpoint if there is one, else the best checkpoint
    /// (the last one when the run kept no best) of the newest run that ended (completed,
    /// stopped early or by the user) whose file exists; nil when there is none. A pinned
    /// checkpoint that is gone is an error, not a silent fallback to another model.
    public func currentModel() throws -> ProjectModel? {
        let runs = try runs()
        if let pinned = try pinnedCheckpoint() {
            let url = checkpointURL(pinned)
            guard let model = Self.model(url, layout: layout, runs: runs, isPinned: true) else {
                throw StoreError.pinnedCheckpointUnreadable(path: url.path, reason: "is missing")
            }
            return model
        }
        let ended: Set<RunStatus> = [.completed, .earlyStopped, .stopped]
        for run in runs where ended.contains(run.status) {
            guard let path = run.bestCheckpointPath ?? run.lastCheckpointPath else { continue }
            let url = checkpointURL(path)
            guard let identity = PredictionSource.checkpoint(url, in: layout) else { continue }
            return ProjectModel(checkpoint: url, recordedPath: path, identity: identity, name: run.displayName,
                                isPinned: false, runID: run.id)
        }
        return nil
    }

    /// `checkpoint` as a model of this project (not pinned): named after the run that wrote
    /// it, if one did ("run 3", "run 3 (last)"), else after the file. Nil when the file is missing.
    public func model(checkpoint: URL) throws -> ProjectModel? {
        Self.model(checkpoint, layout: layout, runs: try runs(), isPinned: try pinnedCheckpoint() == layout.relativePath(of: checkpoint))
    }

    static func model(_ url: URL, layout: ProjectLayout, runs: [RunRecord], isPinned: Bool) -> ProjectModel? {
        guard let identity = PredictionSource.checkpoint(url, in: layout) else { return nil }
        let recorded = layout.relativePath(of: url)
        let owner = runs.first { $0.bestCheckpointPath == recorded || $0.lastCheckpointPath == recorded }
        let name = owner.map { $0.bestCheckpointPath == recorded ? $0.displayName : $0.displayName + " (last)" }
            ?? url.lastPathComponent
        return ProjectModel(checkpoint: url, recordedPath: recorded, identity: identity, name: name,
                            isPinned: isPinned, runID: owner?.id)
    }

    /// Keeps the JSON of the latest learning curve (`actionlab train-curve`) for the app.
    public func saveTrainCurve(json: String) throws {
        try wrapErrors {
            try database.write { db in
                try db.execute(sql: """
                    INSERT INTO project_settings (key, value) VALUES ('train_curve', ?)
                    ON CONFLICT(key) DO UPDATE SET value = excluded.value
                    """, arguments: [json])
            }
        }
    }

    /// The JSON saved by `saveTrainCurve`, or nil.
    public func trainCurveJSON() throws -> String? {
        try wrapErrors {
            try database.read { db in
                try Row.fetchOne(db, sql: "SELECT value FROM project_settings WHERE key = 'train_curve'")
                    .map { try $0.stored(0, "project_settings.value", of: "the learning curve") }
            }
        }
    }

    /// Stores `predictions` made by `source` (a `PredictionSource` identity) with
    /// probabilities in the order of `classNames`, replacing that source's earlier ones for
    /// the same clips, in one transaction. Clips deleted from the project meanwhile are skipped.
    public func savePredictions(_ predictions: [NewPrediction], classNames: [String], source: String,
                                computedAt: Date = Date()) throws {
        for p in predictions where p.probabilities.count != classNames.count {
            throw StoreError.badPrediction(clipID: p.clipID,
                                           reason: "\(p.probabilities.count) probabilities for \(classNames.count) classes")
        }
        let names = Self.jsonText(classNames)
        try wrapErrors {
            try database.write { db in
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO predictions (checkpoint, clip_id, clip_size, clip_mtime, class_names, probabilities, computed_at)
                    SELECT ?, id, ?, ?, ?, ?, ? FROM clips WHERE id = ?
                    ON CONFLICT(checkpoint, clip_id) DO UPDATE SET clip_size = excluded.clip_size,
                        clip_mtime = excluded.clip_mtime, class_names = excluded.class_names,
                        probabilities = excluded.probabilities, computed_at = excluded.computed_at
                    """)
                for p in predictions {
                    try insert.execute(arguments: [source, p.clipStamp.size, p.clipStamp.modified.timeIntervalSince1970,
                                                   names, Self.jsonText(p.probabilities.map(Double.init)),
                                                   computedAt.timeIntervalSince1970, p.clipID])
                }
            }
        }
    }

    /// The prediction of every clip that has one, by clip id, as `source` sees it: its own
    /// prediction (`.current`, or `.clipChanged` when the file changed since), else the
    /// newest one of any other checkpoint, marked `.otherSource`. Review predictions stand
    /// in only for the same review source.
    public func predictions(source: String) throws -> [Int64: StoredPrediction] {
        try wrapErrors {
            try database.read { db in
                var result: [Int64: StoredPrediction] = [:]
                let rows = try Row.fetchAll(db, sql: """
                    SELECT p.clip_id, p.checkpoint, p.class_names, p.probabilities, p.computed_at,
                           p.clip_size = c.size AND abs(p.clip_mtime - c.mtime) < 1e-6 AS same_file
                    FROM predictions p JOIN clips c ON c.id = p.clip_id
                    WHERE p.checkpoint = ? OR (? AND substr(p.checkpoint, 1, ?) = ?)
                    ORDER BY p.computed_at
                    """, arguments: [source, source.hasPrefix(PredictionSource.checkpointPrefix),
                                     PredictionSource.checkpointPrefix.count, PredictionSource.checkpointPrefix])
                for row in rows {
                    let clipID: Int64 = try row.stored(0, "predictions.clip_id", of: "a prediction")
                    let item = "the prediction of clip \(clipID)"
                    let identity: String = try row.stored(1, "predictions.checkpoint", of: item)
                    let sameFile: Bool = try row.stored(5, "predictions.clip_size", of: item)
                    let freshness: StoredPrediction.Freshness = identity == source ? (sameFile ? .current : .clipChanged)
                        : .otherSource
                    // The source's own row wins; among others the newest (rows come oldest first).
                    if let kept = result[clipID], kept.freshness != .otherSource, freshness == .otherSource { continue }
                    let classNames: [String] = try Self.jsonArray(try row.stored(2, "predictions.class_names", of: item),
                                                                  column: "predictions.class_names", item: item)
                    let values: [Double] = try Self.jsonArray(try row.stored(3, "predictions.probabilities", of: item),
                                                              column: "predictions.probabilities", item: item)
                    guard values.count == classNames.count else {
                        throw BadStoredValue(item: item, column: "predictions.probabilities", found: "\(values.count) numbers",
                                             expected: "one number per class (\(classNames.count))")
                    }
                    let at: Double = try row.stored(4, "predictions.computed_at", of: item)
                    result[clipID] = StoredPrediction(clipID: clipID, source: identity, classNames: classNames,
                                                      probabilities: values.map(Float.init),
                                                      computedAt: Date(timeIntervalSince1970: at), freshness: freshness)
                }
                return result
            }
        }
    }

    /// The usable clips (readable at the last scan, on disk) that have no current
    /// prediction from `source`, sorted by path: what a prediction job still has to do.
    public func clipsNeedingPrediction(source: String) throws -> [ClipRecord] {
        try wrapErrors {
            try database.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT \(Self.clipColumns)
                    WHERE c.missing = 0 AND c.codec IS NOT NULL AND c.unreadable_reason IS NULL
                      AND NOT EXISTS (SELECT 1 FROM predictions p WHERE p.checkpoint = ? AND p.clip_id = c.id
                                      AND p.clip_size = c.size AND abs(p.clip_mtime - c.mtime) < 1e-6)
                    ORDER BY c.path
                    """, arguments: [source]).map(Self.clipRecord)
            }
        }
    }

    /// The review sources (`PredictionSource.review`) with stored predictions, fewest folds first.
    public func reviewSources() throws -> [String] {
        try wrapErrors {
            try database.read { db in
                try String.fetchAll(db, sql: "SELECT DISTINCT checkpoint FROM predictions WHERE substr(checkpoint, 1, ?) = ?",
                                    arguments: [PredictionSource.reviewPrefix.count, PredictionSource.reviewPrefix])
                    .sorted { (PredictionSource.reviewFolds($0) ?? 0) < (PredictionSource.reviewFolds($1) ?? 0) }
            }
        }
    }

    /// Deletes the checkpoint predictions nothing can show any more, and returns how many.
    /// A checkpoint identity names a file as it was; once the file is written again (a
    /// better epoch, another run) or deleted, that identity can never be the project's
    /// model again, and its predictions only stand in, for a model that has none of its own
    /// yet, where they are a clip's newest (`predictions(source:)`). So the predictions of
    /// such identities go, except each clip's newest checkpoint prediction (all of them
    /// when several share its time); those of files still as they were stay, as any of
    /// them may be pinned again. Without this every better epoch's predictions would be
    /// kept for good.
    @discardableResult
    public func pruneSupersededPredictions() throws -> Int {
        let prefix = PredictionSource.checkpointPrefix
        let identities = try wrapErrors {
            try database.read { db in
                try String.fetchAll(db, sql: "SELECT DISTINCT checkpoint FROM predictions WHERE substr(checkpoint, 1, ?) = ?",
                                    arguments: [prefix.count, prefix])
            }
        }
        let gone = identities.filter { identity in
            guard let path = PredictionSource.checkpointPath(identity) else { return false }
            return PredictionSource.checkpoint(checkpointURL(path), in: layout) != identity
        }
        guard !gone.isEmpty else { return 0 }
        return try wrapErrors {
            try database.write { db in
                try db.execute(sql: """
                    DELETE FROM predictions
                    WHERE checkpoint IN (\(databaseQuestionMarks(count: gone.count)))
                      AND computed_at < (SELECT max(newest.computed_at) FROM predictions newest
                                         WHERE newest.clip_id = predictions.clip_id
                                           AND substr(newest.checkpoint, 1, ?) = ?)
                    """, arguments: StatementArguments(gone) + [prefix.count, prefix])
                return db.changesCount
            }
        }
    }

    /// Deletes every prediction stored under `source`.
    public func deletePredictions(source: String) throws {
        try wrapErrors {
            try database.write { db in
                try db.execute(sql: "DELETE FROM predictions WHERE checkpoint = ?", arguments: [source])
            }
        }
    }

    static func jsonText<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? JSONEncoder().encode(value)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func jsonArray<T: Decodable>(_ text: String, column: String, item: String) throws -> [T] {
        guard let value = try? JSONDecoder().decode([T].self, from: Data(text.utf8)) else {
            throw BadStoredValue(item: item, column: column, found: Row.describe(text.databaseValue),
                                 expected: T.self == String.self ? "a JSON array of text" : "a JSON array of numbers")
        }
        return value
    }
}
