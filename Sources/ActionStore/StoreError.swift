import Foundation

/// A problem with the project database or a request to it. Every case names the
/// file or the item involved, so the message alone tells the user what is wrong.
public enum StoreError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The project folder itself does not exist (it is never created by opening).
    case noSuchProjectFolder(String)
    /// The database was written by a newer ActionLab; it was left untouched.
    case newerSchema(file: String, found: Int, supported: Int)
    /// SQLite could not open or read the file (not a database, no permission, ...).
    case unusableDatabase(file: String, reason: String)
    case unknownClip(id: Int64)
    case unknownClassIndex(Int, classCount: Int)
    /// An export format cannot represent `item`.
    case unexportable(item: String, reason: String)

    public var description: String {
        switch self {
        case let .noSuchProjectFolder(path):
            return "\(path): no such project folder"
        case let .newerSchema(file, found, supported):
            return "\(file): written by a newer ActionLab (schema version \(found); this version reads up to "
                + "\(supported)); left unchanged. Update ActionLab, or move the file away to start over."
        case let .unusableDatabase(file, reason):
            return "\(file): cannot be used as a project database: \(reason)"
        case let .unknownClip(id):
            return "no clip with id \(id) in the project database"
        case let .unknownClassIndex(index, count):
            return "no class with index \(index): the project has \(count) classes"
        case let .unexportable(item, reason):
            return "cannot export \(item): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
