import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A chain of folders whose full path is longer than the system accepts (PATH_MAX), so
/// that its deepest levels cannot be opened by path, not even by root. It is built one
/// level at a time, each relative to the last.
public struct TooDeepFolder {
    /// The name of every level.
    public static let level = String(repeating: "d", count: 200)
    public static let levels = 25

    public let root: URL
    /// The deepest level's path relative to `root`.
    public let relativePath: String

    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Builds the chain inside the existing folder `root`.
    public init(in root: URL) throws {
        self.root = root
        var descriptor = open(root.path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw Failed(description: "\(root.path): cannot open (errno \(errno))") }
        defer { close(descriptor) }
        for depth in 1...Self.levels {
            guard mkdirat(descriptor, Self.level, 0o755) == 0 else {
                throw Failed(description: "level \(depth) of a too-deep folder: mkdirat failed (errno \(errno))")
            }
            let next = openat(descriptor, Self.level, O_RDONLY | O_DIRECTORY)
            guard next >= 0 else {
                throw Failed(description: "level \(depth) of a too-deep folder: openat failed (errno \(errno))")
            }
            close(descriptor)
            descriptor = next
        }
        relativePath = Array(repeating: Self.level, count: Self.levels).joined(separator: "/")
    }

    /// Moves the lower half of the chain up to `root` (as "lower") so that both halves
    /// have paths short enough to be removed; true when it moved.
    @discardableResult
    public func splitForRemoval() -> Bool {
        let half = Array(repeating: Self.level, count: Self.levels / 2).joined(separator: "/")
        return rename(root.path + "/" + half + "/" + Self.level, root.path + "/lower") == 0
    }
}
