import Foundation

/// Where ActionLab keeps what it writes inside a project folder. Everything lives
/// under `DIR/.actionlab/`, so deleting that one folder starts the project over.
public struct ProjectLayout: Sendable, Equatable {
    /// The project folder the user opened.
    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    public var stateDirectory: URL { root.appendingPathComponent(".actionlab", isDirectory: true) }
    public var databaseURL: URL { stateDirectory.appendingPathComponent("project.sqlite") }
    public var cacheDirectory: URL { stateDirectory.appendingPathComponent("cache", isDirectory: true) }
    public var runsDirectory: URL { stateDirectory.appendingPathComponent("runs", isDirectory: true) }
    public var configURL: URL { root.appendingPathComponent("actionlab.toml") }

    /// File extensions taken for video clips, lower case.
    public static let clipExtensions: Set<String> = ["mp4", "m4v", "mov", "mkv", "webm", "avi", "mpg", "mpeg"]

    /// True when `path` names a clip by its extension (any case).
    public static func isClipPath(_ path: String) -> Bool {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        return clipExtensions.contains(name[name.index(after: dot)...].lowercased())
    }

    /// Where a path inside the project folder really leads once symbolic links are followed.
    public enum Resolution: Sendable, Equatable {
        /// The real file, by its path relative to the project folder's real path.
        case inside(String)
        /// A file outside the project folder, by its absolute real path.
        case outside(String)
        /// Nothing: a missing file or a dangling link.
        case unresolved
    }

    /// Follows the symbolic links in `relative` (a path relative to `root`): one file
    /// reached through linked folders has one real path, so it is one clip.
    public func resolve(_ relative: String) -> Resolution {
        guard let real = Self.realPath(root.appendingPathComponent(relative).path) else { return .unresolved }
        let realRoot = Self.realPath(root.path) ?? root.path
        let base = realRoot.hasSuffix("/") ? realRoot : realRoot + "/"
        return real.hasPrefix(base) ? .inside(String(real.dropFirst(base.count))) : .outside(real)
    }

    /// `path` with every symbolic link, `.` and `..` resolved; nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(validatingCString: resolved)
    }

    /// The path of `url` relative to the project root, as stored in the database.
    public func relativePath(of url: URL) -> String {
        let full = url.standardizedFileURL.path
        let base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return full.hasPrefix(base) ? String(full.dropFirst(base.count)) : full
    }
}
