import Foundation

/// A problem with the project database or a request to it. Every case names the
/// file or the item involved, so the message alone tells the user what is wrong.
public enum StoreError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The project folder itself does not exist (it is never created by opening).
    case noSuchProjectFolder(String)
    /// The database was written by a newer ActionLab; it was left untouched.
    case newerSchema(file: String, found: Int, supported: Int)
    /// The file is not an SQLite database, or SQLite found it damaged.
    case unusableDatabase(file: String, reason: String)
    /// Another process kept the database locked for longer than ActionLab waits.
    case databaseBusy(file: String, waitedSeconds: Int)
    /// SQLite failed on an intact database: full disk, no permission, I/O error.
    case databaseFailure(file: String, reason: String)
    /// A stored value does not have its column's type (edited with another tool, say);
    /// `item` names the row, `column` is `table.column`.
    case badStoredValue(file: String, item: String, column: String, found: String, expected: String)
    /// `.actionlab` (or a file ActionLab keeps in it) is a symbolic link, which would put
    /// the project's state outside the project folder.
    case linkedStateDirectory(path: String, target: String)
    case unknownClip(id: Int64)
    case unknownClassIndex(Int, classCount: Int)
    /// An export format cannot represent `item`.
    case unexportable(item: String, reason: String)
    /// Predictions to store that do not fit their class names.
    case badPrediction(clipID: Int64, reason: String)
    /// The run is still training in a live process.
    case runInProgress(id: Int64)
    /// The checkpoint the project pins cannot be read.
    case pinnedCheckpointUnreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .noSuchProjectFolder(path):
            return "\(path): no such project folder"
        case let .newerSchema(file, found, supported):
            return "\(file): written by a newer ActionLab (schema version \(found); this version reads up to "
                + "\(supported)); left unchanged. Update ActionLab, or move the file away to start over."
        case let .unusableDatabase(file, reason):
            return "\(file): cannot be used as a project database: \(reason)"
        case let .databaseBusy(file, seconds):
            return "\(file): still locked by another ActionLab process after \(seconds) s; "
                + "nothing was changed. Try again when it has finished."
        case let .databaseFailure(file, reason):
            return "\(file): \(reason); nothing was changed"
        case let .badStoredValue(file, item, column, found, expected):
            return "\(file): \(item): \(column) holds \(found) where \(expected) belongs. "
                + "Nothing was changed; correct or delete that value with an SQLite tool."
        case let .linkedStateDirectory(path, target):
            return "\(path): is a symbolic link (to \(target)); ActionLab keeps a project's database, "
                + "cache and runs inside the project folder. Replace the link with a folder."
        case let .unknownClip(id):
            return "no clip with id \(id) in the project database"
        case let .unknownClassIndex(index, count):
            return "no class with index \(index): the project has \(count) classes"
        case let .unexportable(item, reason):
            return "cannot export \(item): \(reason)"
        case let .badPrediction(clipID, reason):
            return "the prediction of clip \(clipID) cannot be stored: \(reason)"
        case let .runInProgress(id):
            return "run \(id) is still training; stop it first"
        case let .pinnedCheckpointUnreadable(path, reason):
            return "\(path): the project's pinned checkpoint \(reason); pin another or unpin it"
        }
    }

    public var errorDescription: String? { description }
}
