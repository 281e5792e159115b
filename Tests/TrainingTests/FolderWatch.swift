import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The names of files created in or renamed into one folder, as inotify reports them,
/// so that a test waits for a file to appear instead of polling for it.
final class FolderWatch {
    private let descriptor: Int32
    private var names: [String] = []

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    init(_ folder: URL) throws {
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0 else { throw Failed(description: "inotify_init1: errno \(errno)") }
        guard inotify_add_watch(descriptor, folder.path, UInt32(IN_CREATE | IN_MOVED_TO)) >= 0 else {
            let error = errno
            close(descriptor)
            throw Failed(description: "inotify_add_watch \(folder.path): errno \(error)")
        }
    }

    deinit { close(descriptor) }

    /// The next name created or renamed into the folder, in the order it happened; nil
    /// when none comes before `deadline`.
    func nextName(before deadline: Date) -> String? {
        while names.isEmpty {
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(max(0, min(deadline.timeIntervalSinceNow, 3600)) * 1000)
            let count = poll(&ready, 1, milliseconds)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            let length = read(descriptor, &buffer, buffer.count)
            guard length > 0 else { return nil }
            // Each record: wd, mask, cookie, len (4 bytes each), then len bytes of name, NUL-padded.
            var offset = 0
            while offset + 16 <= length {
                let nameLength = buffer.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)) }
                let name = buffer[(offset + 16)..<min(offset + 16 + nameLength, length)].prefix { $0 != 0 }
                if !name.isEmpty { names.append(String(decoding: name, as: UTF8.self)) }
                offset += 16 + nameLength
            }
        }
        return names.removeFirst()
    }
}
