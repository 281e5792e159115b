import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A lock file, `.actionlab/open.lock`, held while one connection sets the database up:
/// WAL mode, the schema, the classes. SQLite's busy wait cannot cover that stretch. The
/// pool turns WAL on and writes its first WAL frame in a transaction that begins by
/// reading; when two connections do that on a new file, the second finds its snapshot
/// stale once it gets the write lock and SQLite answers "busy" at once, however long it
/// was told to wait. Opens therefore take turns here.
///
/// `flock` locks belong to an open file description, so this serialises threads of one
/// process (each opens the file itself) as well as processes. The lock goes with the
/// descriptor, so a process that dies while holding it frees it.
enum DatabaseSetupLock {
    /// Runs `body` holding the lock, waiting at most `seconds` for another open to finish.
    static func holding<T>(in directory: URL, database file: String, waitingAtMost seconds: Int,
                           _ body: () throws -> T) throws -> T {
        let path = directory.appendingPathComponent("open.lock").path
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw StoreError.databaseFailure(file: file, reason: "cannot open \(path) (\(reason))")
        }
        defer { close(descriptor) }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds)) * 1_000_000_000
        var pause: useconds_t = 1_000
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let reason = String(cString: strerror(errno))
                throw StoreError.databaseFailure(file: file, reason: "cannot lock \(path) (\(reason))")
            }
            // Another open holds it for milliseconds; poll as SQLite's own busy handler does.
            guard DispatchTime.now().uptimeNanoseconds < deadline else {
                throw StoreError.databaseBusy(file: file, waitedSeconds: seconds)
            }
            usleep(pause)
            pause = min(pause * 2, 50_000)
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
