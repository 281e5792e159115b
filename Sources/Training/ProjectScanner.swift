import ActionStore
import ClipIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a scan stands: how many of the new or changed files have been probed.
public struct ScanProgress: Sendable, Equatable {
    public var probed: Int
    public var toProbe: Int

    public init(probed: Int, toProbe: Int) {
        self.probed = probed
        self.toProbe = toProbe
    }
}

/// What a finished scan did.
public struct ScanSummary: Sendable, Equatable {
    /// Clip files found in the folder.
    public var files = 0
    /// Files skipped because size and modification time matched the database.
    public var unchanged = 0
    /// Files probed (new or changed), and of those how many were new paths and unreadable.
    public var probed = 0
    public var added = 0
    public var unreadable = 0
    /// Clips newly marked missing, and missing clips found on disk again.
    public var missing = 0
    public var foundAgain = 0
    /// True when the scan was cancelled before probing everything.
    public var cancelled = false
    /// Wall-clock seconds.
    public var seconds = 0.0

    public init() {}
}

/// What a scan reports while it runs, in this order: `walked` once, `missingChanged` if any
/// clip disappeared or came back, `recorded` per batch of probed clips, then `finished`
/// (or `failed`). Events arrive on the scan's queue; the UI hands them to its own thread.
public enum ScanEvent: Sendable {
    /// The folder was walked; `toProbe` files are new or changed.
    case walked(ScanProgress)
    /// Clips marked missing, and missing ones found unchanged on disk again, by path.
    case missingChanged(nowMissing: [String], foundAgain: [String])
    /// Clips probed and committed to the database (new ones included).
    case recorded([ClipRecord], ScanProgress)
    case finished(ScanSummary)
    /// The scan stopped: the message names the folder or database and the problem.
    case failed(String)
}

/// A project folder that cannot be scanned.
public struct ScanError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// Keeps a project's clips in the database in step with its folder.
///
/// A scan walks the folder recursively for clip files (by extension; hidden files and
/// folders, `.actionlab/` among them, are skipped), probes with FFmpeg only files that
/// are new or whose size or modification time changed since the last scan, records
/// unreadable ones with the reason, and marks vanished ones missing (labels are kept).
/// Reopening a scanned project therefore costs one directory walk and one query.
public final class ProjectScanner: Sendable {
    /// Turns a file into what is recorded for it; `probeWithFFmpeg` unless a test supplies another.
    public typealias Probe = @Sendable (URL) -> ScannedClip.Outcome

    public let store: ProjectStore
    private let probe: Probe
    /// Probed clips are committed in batches of at most this many, or sooner when
    /// probing is slow, so the list fills in steadily without a transaction per file.
    private let batchSize: Int
    private static let batchInterval = 0.25

    public init(store: ProjectStore, batchSize: Int = 32, probe: @escaping Probe = ProjectScanner.probeWithFFmpeg) {
        self.store = store
        self.batchSize = max(1, batchSize)
        self.probe = probe
    }

    /// Opens the file with ClipIO and keeps its metadata, or the reason it cannot be read.
    public static func probeWithFFmpeg(_ url: URL) -> ScannedClip.Outcome {
        do {
            let metadata = try ClipReader(url: url).metadata
            return .readable(ClipProbe(codec: metadata.codec, width: metadata.width, height: metadata.height,
                                       fps: metadata.fps, duration: metadata.duration,
                                       frameCount: metadata.frameCount,
                                       frameCountIsExact: metadata.frameCountIsExact))
        } catch {
            return .unreadable(error.reason)
        }
    }

    /// Scans on the calling thread and returns what it did; `onEvent` sees progress as it goes.
    /// Stops early, keeping what it recorded, once `isCancelled` returns true.
    @discardableResult
    public func scan(isCancelled: () -> Bool = { false },
                     onEvent: (ScanEvent) -> Void = { _ in }) throws -> ScanSummary {
        let started = Date()
        var summary = ScanSummary()
        let onDisk = try clipFiles()
        let known = try store.knownClips()
        summary.files = onDisk.count

        var toProbe: [(path: String, stamp: FileStamp)] = []
        var foundAgain: [String] = []
        for (path, stamp) in onDisk {
            if let clip = known[path], clip.isProbed, clip.stamp.matches(stamp) {
                summary.unchanged += 1
                if clip.isMissing { foundAgain.append(path) }
            } else {
                toProbe.append((path, stamp))
            }
        }
        let nowMissing = known.filter { !$0.value.isMissing && onDisk[$0.key] == nil }.map(\.key).sorted()
        toProbe.sort { $0.path < $1.path }
        onEvent(.walked(ScanProgress(probed: 0, toProbe: toProbe.count)))

        if !nowMissing.isEmpty || !foundAgain.isEmpty {
            try store.markMissing(paths: nowMissing)
            try store.markMissing(paths: foundAgain.sorted(), false)
            summary.missing = nowMissing.count
            summary.foundAgain = foundAgain.count
            onEvent(.missingChanged(nowMissing: nowMissing, foundAgain: foundAgain.sorted()))
        }

        var batch: [ScannedClip] = []
        var lastFlush = Date()
        func flush() throws {
            guard !batch.isEmpty else { return }
            let records = try store.record(batch)
            batch.removeAll(keepingCapacity: true)
            lastFlush = Date()
            onEvent(.recorded(records, ScanProgress(probed: summary.probed, toProbe: toProbe.count)))
        }
        for (path, stamp) in toProbe {
            if isCancelled() {
                summary.cancelled = true
                break
            }
            let outcome = probe(store.layout.root.appendingPathComponent(path))
            summary.probed += 1
            if known[path] == nil { summary.added += 1 }
            if case .unreadable = outcome { summary.unreadable += 1 }
            batch.append(ScannedClip(path: path, stamp: stamp, outcome: outcome))
            if batch.count >= batchSize || Date().timeIntervalSince(lastFlush) >= Self.batchInterval {
                try flush()
            }
        }
        try flush()
        summary.seconds = Date().timeIntervalSince(started)
        onEvent(.finished(summary))
        return summary
    }

    /// Starts a scan on `queue` and returns at once; `onEvent` receives its events on that queue.
    public func start(on queue: DispatchQueue = DispatchQueue(label: "ActionLab.ProjectScanner", qos: .utility),
                      onEvent: @escaping @Sendable (ScanEvent) -> Void) -> ScanTask {
        let task = ScanTask()
        task.group.enter()
        queue.async {
            defer { task.group.leave() }
            do {
                let summary = try self.scan(isCancelled: { task.isCancelled }, onEvent: onEvent)
                task.finish(.success(summary))
            } catch {
                onEvent(.failed(String(describing: error)))
                task.finish(.failure(ScanError(description: String(describing: error))))
            }
        }
        return task
    }

    /// Every clip file under the project folder by relative path, with its size and time.
    func clipFiles() throws -> [String: FileStamp] {
        let rootPath = store.layout.root.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rootPath, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw ScanError(description: "\(rootPath): no such project folder") }
        guard let root = opendir(rootPath) else { throw ScanError(description: "\(rootPath): cannot be listed") }
        var files: [String: FileStamp] = [:]
        Self.walk(root, path: rootPath, relative: "", into: &files)
        return files
    }

    /// Adds the clip files under the open folder `directory` (closed here) to `files`.
    ///
    /// readdir and one `stat` per clip file rather than FileManager's enumerator: folder
    /// entries say whether they are folders, and only clip names are stat'ed, which makes
    /// listing 10,000 clips several times faster, and listing is most of what reopening
    /// a scanned project costs. Hidden entries (`.actionlab/` among them) are skipped;
    /// symbolic links to files count, links to folders are not followed (no cycles);
    /// unreadable folders are skipped.
    private static func walk(_ directory: OpaquePointer, path: String, relative: String,
                             into files: inout [String: FileStamp]) {
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(cString: bytes.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            guard !name.hasPrefix(".") else { continue }
            let fullPath = path + "/" + name
            let relativePath = relative.isEmpty ? name : relative + "/" + name
            var type = Int32(entry.pointee.d_type)
            if type == Int32(DT_UNKNOWN) {
                var status = stat()
                guard lstat(fullPath, &status) == 0 else { continue }
                type = (status.st_mode & S_IFMT) == S_IFDIR ? Int32(DT_DIR) : Int32(DT_REG)
            }
            if type == Int32(DT_DIR) {
                if let child = opendir(fullPath) { walk(child, path: fullPath, relative: relativePath, into: &files) }
                continue
            }
            guard type == Int32(DT_REG) || type == Int32(DT_LNK), ProjectLayout.isClipPath(name) else { continue }
            var status = stat()
            guard stat(fullPath, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { continue }
            let seconds = Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9
            files[relativePath] = FileStamp(size: Int64(status.st_size), modified: Date(timeIntervalSince1970: seconds))
        }
    }
}

/// A scan running in the background: cancel it, or wait for its summary.
public final class ScanTask: @unchecked Sendable {
    // `cancelled` and `result` are guarded by `lock`; `group` is left when the scan ends.
    private let lock = NSLock()
    private var cancelled = false
    private var result: Result<ScanSummary, ScanError>?
    fileprivate let group = DispatchGroup()

    fileprivate init() {}

    /// Asks the scan to stop after the file it is probing; what it probed stays recorded.
    public func cancel() { lock.withLock { cancelled = true } }

    public var isCancelled: Bool { lock.withLock { cancelled } }

    fileprivate func finish(_ outcome: Result<ScanSummary, ScanError>) { lock.withLock { result = outcome } }

    /// Blocks until the scan ends; returns its summary or throws why it failed.
    @discardableResult
    public func wait() throws -> ScanSummary {
        group.wait()
        return try lock.withLock { result! }.get()
    }
}
