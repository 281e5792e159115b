import ActionNet
import ActionStore
import ClipIO
import Foundation

/// Decodes one clip to sampled frames: from the project's clip cache in the app, or
/// straight from the file.
public typealias ClipFrameLoader = @Sendable (URL, SamplingSettings) throws -> ClipFrames

/// The labelled, readable clips of a project as a `SampleSet`.
public enum ProjectDataset {
    /// Decodes with FFmpeg every time.
    public static let decodeEveryTime: ClipFrameLoader = { url, settings in
        try ClipReader(url: url).sampledFrames(settings)
    }

    /// Reads through the project's clip cache (`DIR/.actionlab/cache`), decoding a clip
    /// only the first time it is needed at a sampling, within the size limit of
    /// `actionlab.toml` (its errors were reported when the project opened).
    public static func cached(_ layout: ProjectLayout) -> ClipFrameLoader {
        let limit = (try? ProjectConfig.load(layout))?.cacheSizeLimit ?? ClipCache.defaultSizeLimit
        let cache = ClipCache(directory: layout.cacheDirectory, sizeLimit: limit)
        return { url, settings in try cache.frames(for: url, settings: settings) }
    }

    /// Clips whose label names a current class and whose file was readable at the last
    /// scan, sorted by path, with their class index in the project's classes, or in
    /// `classNames` (matched by name) when given.
    /// With `only`, just the clips of those paths.
    public static func labelledClips(_ store: ProjectStore, classNames: [String]? = nil, only: Set<String>? = nil)
        throws -> (clips: [(path: String, classIndex: Int)], otherClasses: [(path: String, reason: String)]) {
        var clips: [(path: String, classIndex: Int)] = [], other: [(path: String, reason: String)] = []
        for clip in try store.clips() {
            guard clip.isUsable, let label = clip.label, let index = label.classIndex,
                  only?.contains(clip.path) ?? true else { continue }
            if let classNames {
                guard let mapped = classNames.firstIndex(of: label.className) else {
                    other.append((clip.path, "its class \(label.className) is not one of \(classNames.joined(separator: ", "))"))
                    continue
                }
                clips.append((clip.path, mapped))
            } else {
                clips.append((clip.path, index))
            }
        }
        return (clips.sorted { $0.path < $1.path }, other.sorted { $0.path < $1.path })
    }

    /// The labelled clips of `store` (those of `only`'s paths, when given) at `sampling`, as a set that reads each clip's frames
    /// when a batch needs them, so memory does not grow with the number of clips. Each clip
    /// goes through `loader` once here, two at a time (decoding it into the project's clip
    /// cache the first time, with the cached loader); the set then reads the cache entry
    /// that holds the frames the loader gave, or asks the loader again when there is none.
    /// A clip that does not decode (or, with `classNames`, whose class is not among them)
    /// is left out and listed in `skipped` with the reason.
    /// `progress(done, total)` is called as clips finish, from the worker threads.
    public static func load(store: ProjectStore, sampling: SamplingSettings, loader: @escaping ClipFrameLoader,
                            classNames: [String]? = nil, only: Set<String>? = nil,
                            isCancelled: @escaping @Sendable () -> Bool = { false },
                            progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in })
        throws -> (set: SampleSet, skipped: [(path: String, reason: String)]) {
        let (clips, otherClasses) = try labelledClips(store, classNames: classNames, only: only)
        let root = store.layout.root
        // Only read here: entries are written by the loader.
        let cache = ClipCache(directory: store.layout.cacheDirectory)
        let results = LockedResults<Result<ClipCache.EntryLocation?, Error>?>(count: clips.count, initial: nil)
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for i in stride(from: worker, to: clips.count, by: 2) {
                if isCancelled() { return }
                let url = root.appendingPathComponent(clips[i].path)
                let outcome = Result { () throws -> ClipCache.EntryLocation? in
                    let frames = try loader(url, sampling)
                    guard frames.settings == sampling else {
                        throw TrainingError("sampled as \(frames.settings) instead of \(sampling)")
                    }
                    return cache.location(of: url, settings: sampling, holding: frames)
                }
                let done = results.set(i, outcome)
                progress(done, clips.count)
            }
        }
        if isCancelled() { throw TrainingError("loading the clips was cancelled") }
        var infos: [SampleInfo] = [], readable: [ClipSampleSource.Clip] = [], skipped = otherClasses
        for (clip, outcome) in zip(clips, results.values) {
            switch outcome {
            case .success(let entry)?:
                infos.append(SampleInfo(id: clip.path, classIndex: clip.classIndex))
                readable.append(ClipSampleSource.Clip(path: clip.path, url: root.appendingPathComponent(clip.path), entry: entry))
            case .failure(let error)?:
                skipped.append((clip.path, (error as? ClipIOError)?.reason ?? "\(error)"))
            case nil:
                skipped.append((clip.path, "not loaded"))
            }
        }
        let set = SampleSet(classNames: classNames ?? store.classes.map(\.name), samples: infos,
                            source: ClipSampleSource(clips: readable, sampling: sampling, loader: loader))
        return (set, skipped)
    }
}

/// A fixed number of slots filled from several threads.
final class LockedResults<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value]
    private var filled = 0

    init(count: Int, initial: Value) { slots = Array(repeating: initial, count: count) }

    /// Stores `value` in slot `index`; returns how many slots are filled.
    func set(_ index: Int, _ value: Value) -> Int {
        lock.withLock {
            slots[index] = value
            filled += 1
            return filled
        }
    }

    var values: [Value] { lock.withLock { slots } }
}
