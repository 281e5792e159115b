import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ProjectStore {
    /// Starts a run record with status `.running`; returns it with its new id. Ids are
    /// never reused: a new run's id is above every recorded run's and every folder in
    /// `.actionlab/runs/`, so a deleted run's kept files are never mistaken for a new run's.
    public func createRun(settingsJSON: String, splitJSON: String, startedAt: Date = Date()) throws -> RunRecord {
        let folders = ((try? FileManager.default.contentsOfDirectory(atPath: layout.runsDirectory.path)) ?? [])
            .compactMap { Int64($0) }
        return try wrapErrors {
            try database.write { db in
                let recorded = try Int64.fetchOne(db, sql: "SELECT max(id) FROM runs") ?? 0
                let id = max(recorded, folders.max() ?? 0) + 1
                try db.execute(sql: """
                    INSERT INTO runs (id, started_at, settings_json, split_json, status, process_id) VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [id, startedAt.timeIntervalSince1970, settingsJSON, splitJSON,
                                     RunStatus.running.rawValue, Int(getpid())])
                return RunRecord(id: db.lastInsertedRowID, startedAt: startedAt, settingsJSON: settingsJSON,
                                 splitJSON: splitJSON, status: .running)
            }
        }
    }

    /// Saves every field of `run` (found by its id) but its name and note (see `describeRun`).
    public func updateRun(_ run: RunRecord) throws {
        try wrapErrors {
            try database.write { db in
                try db.execute(sql: """
                    UPDATE runs SET started_at = ?, settings_json = ?, split_json = ?, status = ?, status_detail = ?,
                        epochs = ?, best_val_accuracy = ?, duration_seconds = ?, last_checkpoint_path = ?,
                        best_checkpoint_path = ?
                    WHERE id = ?
                    """, arguments: [run.startedAt.timeIntervalSince1970, run.settingsJSON, run.splitJSON,
                                     run.status.rawValue, run.statusDetail, run.epochs, run.bestValAccuracy,
                                     run.durationSeconds, run.lastCheckpointPath, run.bestCheckpointPath, run.id])
                if db.changesCount == 0 { throw RunNotFound(id: run.id) }
            }
        }
    }

    /// Every run, newest first.
    public func runs() throws -> [RunRecord] {
        try wrapErrors {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY id DESC").map(Self.runRecord)
            }
        }
    }

    public func run(id: Int64) throws -> RunRecord? {
        try wrapErrors {
            try database.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Self.runRecord)
            }
        }
    }

    /// Deletes a run and its metrics. With `deletingFiles`, also its checkpoints and its
    /// folder `.actionlab/runs/<id>/` (files the run recorded outside `.actionlab/runs/` are
    /// left alone); without, every file stays. A run still training in a live process is
    /// refused. A pinned checkpoint of the run is unpinned when its file goes.
    public func deleteRun(id: Int64, deletingFiles: Bool = false) throws {
        guard let run = try run(id: id) else { throw RunNotFound(id: id) }
        if run.status == .running {
            throw StoreError.runInProgress(id: id)
        }
        try wrapErrors {
            try database.write { db in
                try db.execute(sql: "DELETE FROM runs WHERE id = ?", arguments: [id])
                guard deletingFiles else { return }
                let files = [run.bestCheckpointPath, run.lastCheckpointPath].compactMap { $0 }
                if let pinned = try Self.pinnedPath(db), files.contains(pinned) {
                    try db.execute(sql: "DELETE FROM project_settings WHERE key = ?", arguments: [Self.pinnedKey])
                }
            }
        }
        guard deletingFiles else { return }
        let runs = layout.runsDirectory.standardizedFileURL.path + "/"
        for path in [run.bestCheckpointPath, run.lastCheckpointPath].compactMap({ $0 }) {
            let url = checkpointURL(path)
            if url.standardizedFileURL.path.hasPrefix(runs) { try? FileManager.default.removeItem(at: url) }
        }
        try? FileManager.default.removeItem(at: layout.runsDirectory.appendingPathComponent(String(id), isDirectory: true))
    }

    /// Gives run `id` a name and a note (nil or empty clears them).
    public func describeRun(id: Int64, name: String?, note: String?) throws {
        func cleaned(_ text: String?) -> String? {
            guard let trimmed = text?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
            return trimmed
        }
        try wrapErrors {
            try database.write { db in
                try db.execute(sql: "UPDATE runs SET name = ?, note = ? WHERE id = ?",
                               arguments: [cleaned(name), cleaned(note), id])
                if db.changesCount == 0 { throw RunNotFound(id: id) }
            }
        }
    }

    /// Records one epoch's metrics; recording the same epoch again replaces it.
    public func appendMetrics(_ metrics: EpochMetrics) throws {
        try wrapErrors {
            try database.write { db in
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [metrics.runID]) != nil
                else { throw RunNotFound(id: metrics.runID) }
                try db.execute(sql: """
                    INSERT OR REPLACE INTO epoch_metrics
                        (run_id, epoch, loss, accuracy, val_loss, val_accuracy, learning_rate, seconds)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [metrics.runID, metrics.epoch, metrics.loss, metrics.accuracy, metrics.valLoss,
                                     metrics.valAccuracy, metrics.learningRate, metrics.seconds])
            }
        }
    }

    /// The metrics of run `runID`, by epoch.
    public func metrics(runID: Int64) throws -> [EpochMetrics] {
        try wrapErrors {
            try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM epoch_metrics WHERE run_id = ? ORDER BY epoch",
                                 arguments: [runID]).map { row in
                    let epoch: Int = try row.stored("epoch", "epoch_metrics.epoch", of: "an epoch of run \(runID)")
                    let item = "epoch \(epoch) of run \(runID)"
                    return EpochMetrics(runID: runID, epoch: epoch,
                                        loss: try row.stored("loss", "epoch_metrics.loss", of: item),
                                        accuracy: try row.stored("accuracy", "epoch_metrics.accuracy", of: item),
                                        valLoss: try row.stored("val_loss", "epoch_metrics.val_loss", of: item),
                                        valAccuracy: try row.stored("val_accuracy", "epoch_metrics.val_accuracy", of: item),
                                        learningRate: try row.stored("learning_rate", "epoch_metrics.learning_rate", of: item),
                                        seconds: try row.stored("seconds", "epoch_metrics.seconds", of: item))
                }
            }
        }
    }

    /// Marks `running` runs whose process has ended as `interrupted`: the program
    /// stopped (crash, kill, power) before the run could record how it ended.
    func markInterruptedRuns(_ db: Database) throws {
        let running = try Row.fetchAll(db, sql: "SELECT id, process_id FROM runs WHERE status = ?",
                                       arguments: [RunStatus.running.rawValue])
        for row in running {
            let id: Int64 = try row.stored("id", "runs.id", of: "a run")
            let processID: Int? = try row.stored("process_id", "runs.process_id", of: "run \(id)")
            if let processID, Self.isProcessAlive(processID) { continue }
            try db.execute(sql: "UPDATE runs SET status = ? WHERE id = ?",
                           arguments: [RunStatus.interrupted.rawValue, id])
        }
    }

    /// True when a process with this id exists (signal 0 only checks).
    static func isProcessAlive(_ processID: Int) -> Bool {
        guard processID > 0, let id = pid_t(exactly: processID) else { return false }
        return kill(id, 0) == 0 || errno == EPERM
    }

    static func runRecord(_ row: Row) throws -> RunRecord {
        let id: Int64 = try row.stored("id", "runs.id", of: "a run")
        let item = "run \(id)"
        let statusName: String = try row.stored("status", "runs.status", of: item)
        guard let status = RunStatus(rawValue: statusName) else {
            throw BadStoredValue(item: item, column: "runs.status", found: "'\(statusName)'",
                                 expected: RunStatus.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return RunRecord(id: id, startedAt: Date(timeIntervalSince1970: try row.stored("started_at", "runs.started_at", of: item)),
                         settingsJSON: try row.stored("settings_json", "runs.settings_json", of: item),
                         splitJSON: try row.stored("split_json", "runs.split_json", of: item),
                         status: status, statusDetail: try row.stored("status_detail", "runs.status_detail", of: item),
                         epochs: try row.stored("epochs", "runs.epochs", of: item),
                         bestValAccuracy: try row.stored("best_val_accuracy", "runs.best_val_accuracy", of: item),
                         durationSeconds: try row.stored("duration_seconds", "runs.duration_seconds", of: item),
                         lastCheckpointPath: try row.stored("last_checkpoint_path", "runs.last_checkpoint_path", of: item),
                         bestCheckpointPath: try row.stored("best_checkpoint_path", "runs.best_checkpoint_path", of: item),
                         name: try row.stored("name", "runs.name", of: item),
                         note: try row.stored("note", "runs.note", of: item))
    }
}

/// A run id that is not in the database.
public struct RunNotFound: Error, CustomStringConvertible, Equatable {
    public let id: Int64
    public init(id: Int64) { self.id = id }
    public var description: String { "no training run with id \(id) in the project database" }
}
