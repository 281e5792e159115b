import ActionStore
import Foundation
import TestSupport

/// A project folder under the temporary directory, removed when the value is released.
final class TemporaryProject {
    let folder: TemporaryFolder
    var root: URL { folder.url }
    var layout: ProjectLayout { ProjectLayout(root: root) }

    init() throws { folder = try TemporaryFolder() }

    /// Writes `contents` to `relativePath`, creating folders as needed.
    @discardableResult
    func write(_ relativePath: String, _ contents: String = "not really a video") throws -> URL {
        try folder.write(contents, to: relativePath)
    }

    func open(config: ProjectConfig? = nil, user: String = "tester") throws -> ProjectStore {
        try ProjectStore.open(layout, config: config, user: user)
    }

    /// Records `paths` as probed, readable clips and returns them by path.
    func storeWithClips(_ paths: [String], config: ProjectConfig? = nil) throws -> (ProjectStore, [String: ClipRecord]) {
        let store = try open(config: config)
        let probe = ClipProbe(codec: "h264", width: 64, height: 48, fps: 25, duration: 2.4, frameCount: 60,
                              frameCountIsExact: true)
        var scanned: [ScannedClip] = []
        for path in paths {
            let url = try write(path)
            scanned.append(ScannedClip(path: path, stamp: ProjectStore.stamp(of: url)!, outcome: .readable(probe)))
        }
        let records = try store.record(scanned)
        return (store, Dictionary(uniqueKeysWithValues: records.map { ($0.path, $0) }))
    }
}
