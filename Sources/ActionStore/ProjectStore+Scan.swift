import Foundation
import GRDB

/// A file's size and modification time: a scan probes a file again only when these change.
public struct FileStamp: Sendable, Equatable {
    /// Bytes.
    public var size: Int64
    public var modified: Date

    public init(size: Int64, modified: Date) {
        self.size = size
        self.modified = modified
    }

    /// True when both describe the same file version. Times are compared to a microsecond:
    /// they pass through `Double` seconds in the database, which may round the last bit.
    public func matches(_ other: FileStamp) -> Bool {
        size == other.size && abs(modified.timeIntervalSince1970 - other.modified.timeIntervalSince1970) < 1e-6
    }
}

/// What a scan needs to know about a clip already in the database.
public struct KnownClip: Sendable, Equatable {
    public let id: Int64
    public let stamp: FileStamp
    /// True once the file was probed at this stamp (readable or not).
    public let isProbed: Bool
    public let isMissing: Bool

    public init(id: Int64, stamp: FileStamp, isProbed: Bool, isMissing: Bool) {
        self.id = id
        self.stamp = stamp
        self.isProbed = isProbed
        self.isMissing = isMissing
    }
}

/// The outcome of probing one file, ready to be recorded.
public struct ScannedClip: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case readable(ClipProbe)
        /// The reason it cannot be decoded, e.g. "no video stream".
        case unreadable(String)
        /// The file could not be examined for a passing reason (no file descriptor left):
        /// shown as unreadable with the reason, and probed again by the next scan.
        case retryLater(String)
    }

    /// Relative to the project folder.
    public var path: String
    public var stamp: FileStamp
    public var outcome: Outcome

    public init(path: String, stamp: FileStamp, outcome: Outcome) {
        self.path = path
        self.stamp = stamp
        self.outcome = outcome
    }
}

extension ProjectStore {
    /// Every clip in the database by relative path, with what a scan compares against.
    public func knownClips() throws -> [String: KnownClip] {
        try wrapErrors {
            try database.read { db in
                var known: [String: KnownClip] = [:]
                let rows = try Row.fetchCursor(db, sql: "SELECT id, path, size, mtime, probed, missing FROM clips")
                while let row = try rows.next() {
                    let id: Int64 = try row.stored(0, "clips.id", of: "a clip")
                    let path: String = try row.stored(1, "clips.path", of: "clip \(id)")
                    let item = "clip \(id) (\(path))"
                    known[path] = KnownClip(
                        id: id,
                        stamp: FileStamp(size: try row.stored(2, "clips.size", of: item),
                                         modified: Date(timeIntervalSince1970: try row.stored(3, "clips.mtime", of: item))),
                        isProbed: try row.stored(4, "clips.probed", of: item),
                        isMissing: try row.stored(5, "clips.missing", of: item))
                }
                return known
            }
        }
    }

    /// Records probed files in one transaction: new paths are added, known ones updated
    /// (their labels kept), and all are marked present. Returns the records in input order.
    @discardableResult
    public func record(_ scanned: [ScannedClip]) throws -> [ClipRecord] {
        guard !scanned.isEmpty else { return [] }
        return try wrapErrors {
            try database.write { db in
                let upsert = try db.cachedStatement(sql: """
                    INSERT INTO clips (path, size, mtime, probed, codec, width, height, fps, duration,
                                       frame_count, frame_count_exact, unreadable_reason, missing)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
                    ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, probed = excluded.probed,
                        codec = excluded.codec, width = excluded.width, height = excluded.height,
                        fps = excluded.fps, duration = excluded.duration, frame_count = excluded.frame_count,
                        frame_count_exact = excluded.frame_count_exact,
                        unreadable_reason = excluded.unreadable_reason, missing = 0
                    RETURNING id
                    """)
                return try scanned.map { clip in
                    var probe: ClipProbe?
                    var reason: String?
                    var probed = true
                    switch clip.outcome {
                    case let .readable(found): probe = found
                    case let .unreadable(why): reason = why
                    case let .retryLater(why):
                        reason = why
                        probed = false
                    }
                    guard let id = try Int64.fetchOne(upsert, arguments: [
                        clip.path, clip.stamp.size, clip.stamp.modified.timeIntervalSince1970, probed, probe?.codec,
                        probe?.width, probe?.height, probe?.fps, probe?.duration, probe?.frameCount,
                        probe?.frameCountIsExact, reason]),
                        let record = try Self.clip(db, id: id)
                    else { throw BadStoredValue(item: clip.path, column: "clips.id", found: "no row after writing it",
                                                expected: "the row just written") }
                    return record
                }
            }
        }
    }

    /// Records one probed file; see `record(_:)`.
    @discardableResult
    public func upsertClip(_ scanned: ScannedClip) throws -> ClipRecord {
        guard let record = try record([scanned]).first else { throw StoreError.unknownClip(id: 0) }
        return record
    }

    /// Marks clips as missing from disk (or, with `false`, found again), keeping their labels.
    public func markMissing(paths: [String], _ isMissing: Bool = true) throws {
        guard !paths.isEmpty else { return }
        try wrapErrors {
            try database.write { db in
                for path in paths {
                    try db.execute(sql: "UPDATE clips SET missing = ? WHERE path = ?", arguments: [isMissing, path])
                }
            }
        }
    }

    /// Adds files not yet in the database without probing them (a later scan will), so
    /// labels can be imported before the first scan. Known paths are left as they are.
    func addUnprobed(_ db: Database, path: String, stamp: FileStamp) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO clips (path, size, mtime, probed) VALUES (?, ?, ?, 0) ON CONFLICT(path) DO NOTHING
            """, arguments: [path, stamp.size, stamp.modified.timeIntervalSince1970])
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM clips WHERE path = ?", arguments: [path]) else {
            throw BadStoredValue(item: path, column: "clips.id", found: "no row after writing it",
                                 expected: "the row just written")
        }
        return id
    }
}
