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
    /// Folders that could not be listed, by relative path ("." for the project folder's
    /// own entries), with the reason. Clips known under them are kept as they were.
    public var unlistedFolders: [String: String] = [:]
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
        let listing = try clipFiles()
        let onDisk = listing.files
        let known = try store.knownClips()
        summary.files = onDisk.count
        summary.unlistedFolders = listing.unlistedFolders

        var toProbe: [(path: String, found: FoundFile)] = []
        var foundAgain: [String] = []
        for (path, found) in onDisk {
            if let clip = known[path], clip.isProbed, clip.stamp.matches(found.stamp) {
                summary.unchanged += 1
                if clip.isMissing { foundAgain.append(path) }
            } else {
                toProbe.append((path, found))
            }
        }
        // A clip under a folder that could not be listed is not known to be gone.
        let unlisted = listing.unlistedFolders.keys.map { $0 + "/" }
        let nowMissing = known.filter { entry in
            !entry.value.isMissing && onDisk[entry.key] == nil && !unlisted.contains { entry.key.hasPrefix($0) }
        }.map(\.key).sorted()
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
        for (path, found) in toProbe {
            if isCancelled() {
                summary.cancelled = true
                break
            }
            let outcome = found.unreadableReason.map(ScannedClip.Outcome.unreadable)
                ?? Self.probeUnlessOutOfFiles(store.layout.root.appendingPathComponent(path), with: probe)
            summary.probed += 1
            if known[path] == nil { summary.added += 1 }
            switch outcome {
            case .unreadable, .retryLater: summary.unreadable += 1
            case .readable: break
            }
            batch.append(ScannedClip(path: path, stamp: found.stamp, outcome: outcome))
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

    /// A clip file the walk found: its size and time, and why it cannot be used when
    /// that is known without probing (a name that is not UTF-8, a link leading outside).
    struct FoundFile: Equatable {
        var stamp: FileStamp
        var unreadableReason: String?
    }

    /// What walking the project folder found.
    struct Listing {
        var files: [String: FoundFile] = [:]
        var unlistedFolders: [String: String] = [:]
    }

    /// Probes `url`, unless the process has no file descriptor left: that says nothing
    /// about the file, so it is recorded unreadable for now and probed by the next scan.
    ///
    /// - Parameter openError: the errno of opening `url` now, nil when it opens.
    static func probeUnlessOutOfFiles(_ url: URL, with probe: Probe,
                                      openError: (URL) -> Int32? = openError) -> ScannedClip.Outcome {
        let outcome = probe(url)
        guard case .unreadable = outcome, let error = openError(url), error == EMFILE || error == ENFILE
        else { return outcome }
        return .retryLater("could not be opened: ActionLab has as many files open as the system allows "
                           + "(see `ulimit -n`); it is probed again at the next scan")
    }

    /// The errno of opening `url` for reading, nil when it opens.
    static func openError(_ url: URL) -> Int32? {
        // Non-blocking: opening a named pipe (or a link to one) for reading would wait for a writer.
        let descriptor = open(url.path, O_RDONLY | O_NONBLOCK)
        guard descriptor < 0 else {
            close(descriptor)
            return nil
        }
        return errno
    }

    /// Every clip file under the project folder by relative path, with its size and time.
    func clipFiles() throws -> Listing {
        let rootPath = store.layout.root.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rootPath, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw ScanError(description: "\(rootPath): no such project folder") }
        let listing = Self.walk(root: rootPath, realRoot: Self.realPath(Array(rootPath.utf8CString)) ?? rootPath)
        if let reason = listing.unlistedFolders["."] {
            throw ScanError(description: "\(rootPath): cannot be listed (\(reason))")
        }
        return listing
    }

    /// Walks the folder `root` for clip files.
    ///
    /// readdir and one `stat` per clip file rather than FileManager's enumerator: folder
    /// entries say whether they are folders, and only clip names are stat'ed, which makes
    /// listing 10,000 clips several times faster, and listing is most of what reopening
    /// a scanned project costs. Each folder is read whole and closed before its subfolders
    /// are opened, so the walk holds one descriptor however deep the tree (a folder that
    /// cannot be opened is reported, not silently skipped). Paths are kept as bytes:
    /// a name that is not UTF-8 is listed, escaped, as unreadable. Hidden entries
    /// (`.actionlab/` among them) are skipped. Symbolic links to folders are not followed
    /// (no cycles); a link to a clip inside the project is the clip under its real path,
    /// listed there; a link leading outside the project or nowhere is listed as unreadable.
    static func walk(root: String, realRoot: String) -> Listing {
        var listing = Listing()
        // Folders still to read: path bytes (no NUL), relative path, and why clips under
        // them cannot be used (a folder name that is not UTF-8).
        var pending: [(path: [CChar], relative: String, problem: String?)] = [(Array(root.utf8CString.dropLast()), "", nil)]
        while let folder = pending.popLast() {
            guard let entries = readFolder(folder.path) else {
                listing.unlistedFolders[folder.relative.isEmpty ? "." : folder.relative] = String(cString: strerror(errno))
                continue
            }
            for (nameBytes, entryType) in entries {
                guard nameBytes.first != CChar(UInt8(ascii: ".")) else { continue }
                let fullPath = folder.path + [CChar(UInt8(ascii: "/"))] + nameBytes
                let decoded = String(validatingCString: nameBytes + [0])
                let name = decoded ?? escapedName(nameBytes)
                let relativePath = folder.relative.isEmpty ? name : folder.relative + "/" + name
                var problem = folder.problem
                if decoded == nil {
                    problem = problem ?? "its name is not valid UTF-8 text; rename it to use it"
                }
                var type = entryType
                if type == UInt8(DT_UNKNOWN) {
                    var status = stat()
                    guard lstat(fullPath + [0], &status) == 0 else { continue }
                    switch status.st_mode & S_IFMT {
                    case S_IFDIR: type = UInt8(DT_DIR)
                    case S_IFLNK: type = UInt8(DT_LNK)
                    default: type = UInt8(DT_REG)
                    }
                }
                if type == UInt8(DT_DIR) {
                    let folderProblem = decoded == nil
                        ? (folder.problem ?? "the name of its folder \(relativePath) is not valid UTF-8 text; rename it to use it")
                        : folder.problem
                    pending.append((fullPath, relativePath, folderProblem))
                    continue
                }
                guard type == UInt8(DT_REG) || type == UInt8(DT_LNK), ProjectLayout.isClipPath(name) else { continue }
                if type == UInt8(DT_LNK) {
                    guard let found = link(fullPath, realRoot: realRoot, problem: problem) else { continue }
                    listing.files[relativePath] = found
                    continue
                }
                guard let stamp = stamp(fullPath, followingLinks: true) else { continue }
                listing.files[relativePath] = FoundFile(stamp: stamp, unreadableReason: problem)
            }
        }
        return listing
    }

    /// A symbolic link named like a clip: nil when it leads to a clip the walk lists under
    /// its real path (or to a folder, not followed); else what to list for it.
    private static func link(_ path: [CChar], realRoot: String, problem: String?) -> FoundFile? {
        guard let linkStamp = stamp(path, followingLinks: false) else { return nil }
        guard let real = realPath(path + [0]) else {
            return FoundFile(stamp: linkStamp, unreadableReason: problem ?? "a symbolic link to a file that does not exist")
        }
        guard let target = stamp(path, followingLinks: true) else { return nil }  // a folder
        let base = realRoot.hasSuffix("/") ? realRoot : realRoot + "/"
        guard real.hasPrefix(base) else {
            return FoundFile(stamp: linkStamp, unreadableReason: problem
                             ?? "a symbolic link to \(real), outside the project folder; ActionLab does not follow it")
        }
        let relative = String(real.dropFirst(base.count))
        let listedThere = ProjectLayout.isClipPath(relative)
            && !relative.split(separator: "/").contains { $0.hasPrefix(".") }
        if listedThere { return nil }
        return FoundFile(stamp: target, unreadableReason: problem
                         ?? "a symbolic link to \(relative), which ActionLab does not list (hidden, or not named like a clip)")
    }

    /// The entries of a folder as (name bytes without NUL, d_type), or nil with errno set.
    private static func readFolder(_ path: [CChar]) -> [([CChar], UInt8)]? {
        guard let directory = opendir(path + [0]) else { return nil }
        defer { closedir(directory) }
        var entries: [([CChar], UInt8)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                Array(bytes.bindMemory(to: CChar.self).prefix { $0 != 0 })
            }
            entries.append((name, entry.pointee.d_type))
        }
        return entries
    }

    /// Size and modification time of the regular file at `path` (bytes, no NUL), or nil.
    private static func stamp(_ path: [CChar], followingLinks: Bool) -> FileStamp? {
        var status = stat()
        let result = followingLinks ? stat(path + [0], &status) : lstat(path + [0], &status)
        guard result == 0 else { return nil }
        let kind = status.st_mode & S_IFMT
        guard kind == S_IFREG || (!followingLinks && kind == S_IFLNK) else { return nil }
        let seconds = Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9
        return FileStamp(size: Int64(status.st_size), modified: Date(timeIntervalSince1970: seconds))
    }

    /// `path` (NUL-terminated) with every link resolved, or nil when it leads nowhere.
    private static func realPath(_ path: [CChar]) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(validatingCString: resolved)
    }

    /// A name that is not UTF-8, shown with its bytes above 0x7F as `\xNN`.
    static func escapedName(_ bytes: [CChar]) -> String {
        bytes.map { byte in
            let value = UInt8(bitPattern: byte)
            return value < 0x80 ? String(UnicodeScalar(value)) : "\\x" + String(value, radix: 16, uppercase: true)
        }.joined()
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
        // The scan's queue sets the result before it leaves the group.
        guard let outcome = lock.withLock({ result }) else {
            throw ScanError(description: "the scan ended without a result")
        }
        return try outcome.get()
    }
}
