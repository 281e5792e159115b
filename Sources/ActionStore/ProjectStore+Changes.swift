import Foundation
import GRDB

extension ProjectStore {
    /// A number that changes whenever another connection to the database commits, such
    /// as `actionlab labels import` in another shell; this store's own writes leave it
    /// as it is. Reads no table, so it is cheap enough to ask every second.
    ///
    /// SQLite's `PRAGMA data_version` on the connection that writes: it counts the
    /// commits of every other connection, and the only other connections of this store
    /// are its readers, which never commit.
    public func outsideChangeCount() throws -> Int {
        try wrapErrors {
            try database.writeWithoutTransaction { db in
                try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0
            }
        }
    }
}
