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

    /// The path of `url` relative to the project root, as stored in the database.
    public func relativePath(of url: URL) -> String {
        let full = url.standardizedFileURL.path
        let base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return full.hasPrefix(base) ? String(full.dropFirst(base.count)) : full
    }
}
