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
        let decoding = ClipDecoding(clips: clips.map { (path: $0.path, url: store.layout.root.appendingPathComponent($0.path)) },
                                    sampling: sampling, loader: loader, cacheDirectory: store.layout.cacheDirectory,
                                    isCancelled: isCancelled, progress: progress)
        decoding.start(order: Array(clips.indices), threads: 2)
        decoding.waitUntilDone()
        if isCancelled() { throw TrainingError("loading the clips was cancelled") }
        var infos: [SampleInfo] = [], readable: [Int] = [], skipped = otherClasses
        for (row, clip) in clips.enumerated() {
            if let reason = decoding.failure(row) {
                skipped.append((clip.path, reason))
            } else {
                infos.append(SampleInfo(id: clip.path, classIndex: clip.classIndex))
                readable.append(row)
            }
        }
        let set = SampleSet(classNames: classNames ?? store.classes.map(\.name), samples: infos,
                            source: ClipSampleSource(decoding: decoding), rows: readable)
        return (set, skipped)
    }

    /// Every labelled, usable clip of `store` as a set at once, before any is decoded:
    /// sample i is clip i of `decoding`, which the caller starts in the order its batches
    /// will read the clips (`ClipDecoding.start`). A batch that needs a clip not decoded
    /// yet decodes it there (or waits for the decoder thread on it), so training starts as
    /// soon as its first batches' clips are decoded. A clip that turns out not to decode is
    /// left out of every batch from then on and reported once through `failed(path,
    /// reason)`; `progress(done, total)` counts the clips of the started order.
    static func decodingInBackground(store: ProjectStore, sampling: SamplingSettings, loader: @escaping ClipFrameLoader,
                                     progress: @escaping @Sendable (Int, Int) -> Void,
                                     failed: @escaping @Sendable (String, String) -> Void)
        throws -> (set: SampleSet, decoding: ClipDecoding) {
        let (clips, _) = try labelledClips(store)
        let decoding = ClipDecoding(clips: clips.map { (path: $0.path, url: store.layout.root.appendingPathComponent($0.path)) },
                                    sampling: sampling, loader: loader, cacheDirectory: store.layout.cacheDirectory,
                                    progress: progress, failed: failed)
        let set = SampleSet(classNames: store.classes.map(\.name),
                            samples: clips.map { SampleInfo(id: $0.path, classIndex: $0.classIndex) },
                            source: ClipSampleSource(decoding: decoding))
        return (set, decoding)
    }

    /// Why a clip could not be loaded, as the skip lists say it.
    static func reason(_ error: any Error) -> String {
        (error as? ClipIOError)?.reason ?? "\(error)"
    }
}

/// The clips of a project set decoded into the clip cache: by decoder threads in a given
/// order, and by whoever needs a clip first when they have not reached it. Each clip is
/// decoded once: a reader that needs a clip a decoder thread is on waits for it. The
/// outcome of each clip (where its cache entry is, or why it did not decode) is kept for
/// the rest of the run.
final class ClipDecoding: @unchecked Sendable {
    enum State {
        case waiting
        case decoding
        /// Decoded; the cache entry holding the loader's frames, nil when none does (read through the loader).
        case decoded(ClipCache.EntryLocation?)
        case failed(String)
    }

    let clips: [(path: String, url: URL)]
    let sampling: SamplingSettings
    let loader: ClipFrameLoader
    /// Only read here: entries are written by the loader.
    private let cache: ClipCache
    private let isCancelled: @Sendable () -> Bool
    private let progress: @Sendable (Int, Int) -> Void
    private let failed: @Sendable (String, String) -> Void

    // Guarded by `condition`'s lock; waiters are woken on every change.
    private let condition = NSCondition()
    private var states: [State]
    private var order: [Int] = []
    private var next = 0
    /// Clips of `order` not yet counted as done.
    private var counts: [Bool]
    private var done = 0
    private var stopped = false
    private var running = 0

    init(clips: [(path: String, url: URL)], sampling: SamplingSettings, loader: @escaping ClipFrameLoader,
         cacheDirectory: URL, isCancelled: @escaping @Sendable () -> Bool = { false },
         progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
         failed: @escaping @Sendable (String, String) -> Void = { _, _ in }) {
        self.clips = clips
        self.sampling = sampling
        self.loader = loader
        cache = ClipCache(directory: cacheDirectory)
        self.isCancelled = isCancelled
        self.progress = progress
        self.failed = failed
        states = Array(repeating: .waiting, count: clips.count)
        counts = Array(repeating: false, count: clips.count)
    }

    deinit { stop() }

    /// Starts `threads` decoder threads on the clips of `order`, in that order; progress
    /// counts those clips. Called once.
    func start(order: [Int], threads: Int) {
        condition.withLock {
            self.order = order
            for row in order where !counts[row] {
                counts[row] = true
                if case .decoded = states[row] { done += 1 } else if case .failed = states[row] { done += 1 }
            }
            running = order.isEmpty ? 0 : max(1, threads)
            if !order.isEmpty { progress(done, order.count) }
        }
        for _ in 0..<(order.isEmpty ? 0 : max(1, threads)) {
            Thread.detachNewThread { [self] in
                while let row = claimNext() { _ = decode(row) }
                condition.withLock {
                    running -= 1
                    condition.broadcast()
                }
            }
        }
    }

    /// The next clip of the order nobody has taken, marked as being decoded.
    private func claimNext() -> Int? {
        condition.withLock {
            while next < order.count && !stopped && !isCancelled() {
                let row = order[next]
                next += 1
                if case .waiting = states[row] {
                    states[row] = .decoding
                    return row
                }
            }
            return nil
        }
    }

    /// Decodes clip `row`, which the caller marked as being decoded, and keeps the outcome.
    private func decode(_ row: Int) -> State {
        let clip = clips[row]
        let outcome: State
        do {
            let frames = try loader(clip.url, sampling)
            guard frames.settings == sampling else {
                throw TrainingError("sampled as \(frames.settings) instead of \(sampling)")
            }
            outcome = .decoded(cache.location(of: clip.url, settings: sampling, holding: frames))
        } catch {
            outcome = .failed(ProjectDataset.reason(error))
        }
        condition.withLock {
            states[row] = outcome
            // Reported under the lock, so progress only counts up and a failure is told once.
            if case .failed(let reason) = outcome { failed(clip.path, reason) }
            if counts[row] {
                done += 1
                progress(done, order.count)
            }
            condition.broadcast()
        }
        return outcome
    }

    /// Clip `row` decoded: now by the caller when no one has started on it, after
    /// waiting when a decoder thread has.
    func outcome(_ row: Int) -> State {
        condition.lock()
        while true {
            switch states[row] {
            case .waiting:
                states[row] = .decoding
                condition.unlock()
                return decode(row)
            case .decoding:
                condition.wait()
            case let finished:
                condition.unlock()
                return finished
            }
        }
    }

    /// Why clip `row` did not decode; nil when it did or has not been tried yet.
    func failure(_ row: Int) -> String? {
        condition.withLock {
            if case .failed(let reason) = states[row] { return reason }
            return nil
        }
    }

    /// Blocks until the decoder threads have ended: every clip of the order done, or stopped.
    func waitUntilDone() {
        condition.withLock { while running > 0 { condition.wait() } }
    }

    /// Stops handing clips to the decoder threads and waits for the clips they are on, so
    /// nothing is reported after this returns (but what readers decode themselves).
    func stop() {
        condition.withLock {
            stopped = true
            while running > 0 { condition.wait() }
        }
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
