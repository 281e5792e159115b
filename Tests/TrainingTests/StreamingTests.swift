import ActionNet
import ActionStore
import ClipIO
import Foundation
import TestSupport
import Testing
@testable import Training

/// A project of synthetic clips, scanned and labelled: two clips of each of five actions.
struct SyntheticProject {
    let project: TemporaryProject
    static let sampling = SamplingSettings(frames: 4, height: 16, width: 16, channels: 1)

    init() throws {
        project = try TemporaryProject(classes: SyntheticAction.allCases.map(\.rawValue))
        try SyntheticActionSet(perClass: 2, frames: 8, size: 16).write(to: project.root)
        try ProjectScanner(store: project.store).scan()
        try project.store.importCSV(project.file("labels.csv"))
    }

    var store: ProjectStore { project.store }
    var loader: ClipFrameLoader { ProjectDataset.cached(store.layout) }

    /// The labelled clips read on demand from the clip cache.
    func streamed() throws -> SampleSet {
        let loaded = try ProjectDataset.load(store: store, sampling: Self.sampling, loader: loader)
        #expect(loaded.skipped.isEmpty)
        return loaded.set
    }

    /// The same clips decoded into memory, as sets held every sample before.
    func inMemory(like set: SampleSet) throws -> SampleSet {
        var pixels: [UInt8] = []
        for sample in set.samples {
            pixels += try ClipReader(url: project.file(sample.id)).sampledFrames(Self.sampling).pixels
        }
        return SampleSet(classNames: set.classNames, sampleShape: set.sampleShape, samples: set.samples, pixels: pixels)
    }
}

@Suite struct StreamingSampleTests {
    static let augmentation = Augmentation(randomCrop: true, temporalJitter: true, speedJitter: true, brightnessContrast: true)
    static let order = [[3, 0, 7], [9, 1, 4], [2, 8, 6], [5]]

    @Test func streamedClipsGiveTheSameBatchesAsClipsHeldInMemory() throws {
        let project = try SyntheticProject()
        let streamed = try project.streamed()
        #expect(streamed.isStreamed && streamed.count == 10 && streamed.byteCount == 0)
        let held = try project.inMemory(like: streamed)
        for input in [InputTransform.frames, .framesAndMotion] {
            var a = SeededGenerator(seed: 7), b = SeededGenerator(seed: 7)
            for indices in Self.order {
                let old = try held.batch(indices, augmentation: Self.augmentation, input: input, random: &a)
                let new = try streamed.batch(indices, augmentation: Self.augmentation, input: input, random: &b)
                #expect(old.x == new.x && old.y == new.y, "\(input) \(indices)")
            }
            // Without augmentation, motion inputs equal the transform applied to the whole batch.
            var plain = try held.batch([0, 5])
            input.apply(to: &plain.x)
            #expect(try streamed.batch([0, 5], input: input).x == plain.x)
        }
        #expect(try streamed.subset([4, 2]).batch([1]).x == (try held.batch([2]).x))
    }

    @Test func prefetchedBatchesEqualBatchesBuiltOneAfterAnother() throws {
        let project = try SyntheticProject()
        let streamed = try project.streamed()
        let held = try project.inMemory(like: streamed)
        var random = SeededGenerator(seed: 11)
        let expected = try Self.order.map { indices in
            try held.batch(indices, augmentation: Self.augmentation, input: .framesAndMotion, random: &random)
        }
        let batches = try streamed.prefetchedBatches(Self.order, augmentation: Self.augmentation, input: .framesAndMotion,
                                                     random: SeededGenerator(seed: 11))
        for batch in expected {
            let got = try #require(try batches.next())
            #expect(got.x == batch.x && got.y == batch.y)
        }
        #expect(try batches.next() == nil)
    }

    @Test func aChangedCacheEntryIsDecodedAgainAndAClipGoneWithItsEntryIsNamed() throws {
        let project = try SyntheticProject()
        let set = try project.streamed()
        let before = try set.batch([0, 1]).x
        let cache = ClipCache(directory: project.store.layout.cacheDirectory)
        let first = project.project.file(set.samples[0].id), second = project.project.file(set.samples[1].id)
        // Another process truncates one entry and rewrites the other with other frames.
        let handle = try FileHandle(forWritingTo: try cache.entryURL(for: first, settings: SyntheticProject.sampling))
        try handle.truncate(atOffset: 64)
        try handle.close()
        let entry = try cache.entryURL(for: second, settings: SyntheticProject.sampling)
        var bytes = try Data(contentsOf: entry)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: entry)
        #expect(try set.batch([0, 1]).x == before, "both clips are decoded again")

        try FileManager.default.removeItem(at: try cache.entryURL(for: first, settings: SyntheticProject.sampling))
        try FileManager.default.removeItem(at: first)
        do {
            _ = try set.batch([1, 0])
            Issue.record("a clip that is gone was read")
        } catch {
            #expect(error.description.hasPrefix(set.samples[0].id + ": its clip-cache entry"), "\(error)")
            #expect(error.description.contains("can no longer be read"), "\(error)")
        }
    }

    @Test func aStreamedProjectTrainsExactlyAsTheSameClipsHeldInMemory() throws {
        let project = try SyntheticProject()
        let held = try project.inMemory(like: try project.streamed())
        var settings = TrainingSettings(model: ModelConfig(frames: 4, height: 16, width: 16, channels: 1, filters: [2, 2, 2],
                                                           denseUnits: 4, classes: 5, dropout: 0, recurrentDropout: 0),
                                        epochs: 2, batchSize: 3, learningRate: 1e-2, validationFraction: 0.3, seed: 5)
        settings.augmentation = Self.augmentation
        settings.input = .framesAndMotion
        var fromMemory = TrainingJob(source: .samples(held), settings: settings)
        fromMemory.speed = TinyData.speed
        var fromCache = TrainingJob(source: .project(project.store, loader: project.loader), settings: settings)
        fromCache.speed = TinyData.speed
        let a = TinyData.run(fromMemory).epochs, b = TinyData.run(fromCache).epochs
        #expect(a.count == 2)
        #expect(a.map(\.loss) == b.map(\.loss) && a.map(\.validationLoss) == b.map(\.validationLoss))
    }
}

@Suite struct TensorFileStreamingTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tensor-rows-\(UUID().uuidString)")

    /// Six samples (2, 4, 4, 1) of smooth ramps (as smooth along H as along W and in time,
    /// as video is) and their integer labels.
    func write() throws -> URL {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent("data.safetensors")
        let x = Tensor(shape: [6, 2, 4, 4, 1], data: (0..<192).map { i in
            let (n, t, h, w) = (i / 32, i / 16 % 2, i / 4 % 4, i % 4)
            return Float(t + h + w) / 10 + Float(n) / 100
        })
        let y = Tensor(shape: [6], data: [0, 1, 2, 0, 1, 2])
        try SafeTensors.write([("x", x), ("y", y)], to: url)
        return url
    }

    @Test func rowsReadFromTheFileEqualTheFileHeldInMemory() throws {
        let url = try write()
        defer { try? FileManager.default.removeItem(at: folder) }
        let held = try SampleSet(tensors: try TensorDataset.load(url))
        let streamed = try SampleSet(tensorFile: try TensorFileRows.open(url))
        #expect(streamed.isStreamed && streamed.samples == held.samples && streamed.classNames == held.classNames)
        #expect(try streamed.batch([5, 0, 3]).x == (try held.batch([5, 0, 3]).x))
    }

    @Test func predictionsOfRowsReadFromTheFileEqualThoseOfTheFileHeldInMemory() throws {
        let url = Fixtures.kerasGray
        let classifier = try ClipClassifier(checkpoint: url)
        let held = try TensorDataset.load(url, expected: classifier.spec.inputShape, requireLabels: false)
        let rows = try TensorFileRows.open(url, expected: classifier.spec.inputShape, requireLabels: false)
        #expect(rows.count == held.count && rows.count > 1)
        for batchSize in [1, 2, 8] {
            #expect(try classifier.predict(rows: rows, batchSize: batchSize) == (try classifier.predict(held.x, batchSize: batchSize)))
        }
    }

    @Test func aTensorFileTruncatedDuringARunIsAnErrorWithAMessage() throws {
        let url = try write()
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try SampleSet(tensorFile: try TensorFileRows.open(url))
        let firstRow = try set.batch([0]).x
        // Re-saved in place by another program: cut after the header and two rows.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(size - 4 * 128 - 24))
        try handle.close()
        #expect(try set.batch([0]).x == firstRow)
        do {
            _ = try set.batch([0, 5])
            Issue.record("a row past the end was read")
        } catch {
            #expect(error.description.hasPrefix(url.path + ": the file shrank while it was read: sample 5"), "\(error)")
        }
    }

    @Test func openingChecksValuesAsLoadingDoes() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("nan.safetensors")
        var values = [Float](repeating: 0.5, count: 64)
        values[40] = .nan
        try SafeTensors.write([("x", Tensor(shape: [2, 2, 4, 4, 1], data: values)), ("y", Tensor(shape: [2], data: [0, 1]))],
                              to: url)
        #expect(throws: TensorFileError(url, tensor: "x", "1 values are NaN or infinite (the first in sample 1, value nan); "
                                        + "replace them, e.g. x = np.nan_to_num(x)")) {
            _ = try TensorFileRows.open(url)
        }
        #expect(throws: TensorFileError.self) { _ = try TensorFileRows.open(url, xName: "missing") }
    }
}

@Suite struct BatchPrefetcherTests {
    @Test func anErrorReachesTheCallerAtItsBatchAfterTheBatchesBeforeIt() throws {
        let prefetcher = BatchPrefetcher(count: 4) { index throws(TrainingError) in
            if index == 2 { throw TrainingError("batch 2 cannot be read") }
            return (Tensor(shape: [1], data: [Float(index)]), Tensor(shape: [1], data: [0]))
        }
        #expect(try prefetcher.next()?.x.data == [0])
        #expect(try prefetcher.next()?.x.data == [1])
        #expect(throws: TrainingError("batch 2 cannot be read")) { _ = try prefetcher.next() }
        #expect(try prefetcher.next() == nil)
    }

    @Test func cancellingStopsBuildingAndWaitsForTheBatchInProgress() throws {
        let built = LockedList<Int>()
        let prefetcher = BatchPrefetcher(count: 100) { index throws(TrainingError) in
            built.append(index)
            return (Tensor(shape: [1], data: [Float(index)]), Tensor(shape: [1], data: [0]))
        }
        #expect(try prefetcher.next()?.x.data == [0])
        prefetcher.cancel()
        let count = built.values.count
        // At most the batch taken, one waiting and one in progress when cancelled.
        #expect(count <= 3)
        #expect(try prefetcher.next() == nil)
        #expect(built.values.count == count, "nothing is built after cancel returns")
    }
}

/// A project's clips decode while its first epoch trains.
@Suite struct OverlappedDecodingTests {
    static func settings(epochs: Int = 2) -> TrainingSettings {
        var settings = TrainingSettings(model: ModelConfig(frames: 4, height: 16, width: 16, channels: 1, filters: [2, 2, 2],
                                                           denseUnits: 4, classes: 5, dropout: 0, recurrentDropout: 0),
                                        epochs: epochs, batchSize: 3, learningRate: 1e-2, validationFraction: 0.3, seed: 5)
        settings.augmentation = StreamingSampleTests.augmentation
        settings.input = .framesAndMotion
        return settings
    }

    static func job(_ source: TrainingJob.Source) -> TrainingJob {
        var job = TrainingJob(source: source, settings: settings())
        job.speed = TinyData.speed
        return job
    }

    /// The project's labelled clips decoded straight from their files, leaving the clip cache empty.
    static func decodedFirst(_ project: SyntheticProject) throws -> SampleSet {
        let clips = try ProjectDataset.labelledClips(project.store).clips
        var pixels: [UInt8] = []
        for clip in clips {
            pixels += try ClipReader(url: project.project.file(clip.path)).sampledFrames(SyntheticProject.sampling).pixels
        }
        return SampleSet(classNames: project.store.classes.map(\.name), sampleShape: [4, 16, 16, 1],
                         samples: clips.map { SampleInfo(id: $0.path, classIndex: $0.classIndex) }, pixels: pixels)
    }

    @Test func batchesWhileClipsDecodeEqualTheBatchesOfClipsDecodedFirst() throws {
        let project = try SyntheticProject()
        let decodedFirst = TinyData.run(Self.job(.samples(try Self.decodedFirst(project))))
        let overlapped = TinyData.run(Self.job(.project(project.store, loader: project.loader)))
        #expect(decodedFirst.summary?.epochsCompleted == 2 && overlapped.summary?.epochsCompleted == 2)
        #expect(decodedFirst.batches.count == 4)
        #expect(overlapped.batches.map(\.loss) == decodedFirst.batches.map(\.loss))
        #expect(overlapped.epochs.map(\.validationLoss) == decodedFirst.epochs.map(\.validationLoss))
        // Every clip was decoded into the cache, reported after the run started.
        let letters = overlapped.letters
        #expect(letters.hasPrefix("S") && !letters.contains("K"), "\(letters)")
        #expect(overlapped.events.last { if case .loading = $0 { true } else { false } }
                == .loading(LoadingProgress(done: 10, total: 10)))
        let cache = ClipCache(directory: project.store.layout.cacheDirectory)
        for sample in try Self.decodedFirst(project).samples {
            #expect(cache.cachedFrames(for: project.project.file(sample.id), settings: SyntheticProject.sampling) != nil)
        }
    }

    @Test func theFirstBatchTrainsBeforeTheLastClipIsDecoded() throws {
        let project = try SyntheticProject()
        let log = TrainingLog()
        let calls = LockedList<String>(), cached = project.loader
        let clipCount = try ProjectDataset.labelledClips(project.store).clips.count
        // The last clip to decode waits for a batch: decoding everything before the first
        // batch would wait here until the log gives up (60 s) and then fail the order below.
        let loader: ClipFrameLoader = { url, sampling in
            if calls.append(url.path) == clipCount {
                log.waitFor { if case .batch = $0 { true } else { false } }
            }
            return try cached(url, sampling)
        }
        let events = TinyData.run(Self.job(.project(project.store, loader: loader)), log: log).events
        #expect(calls.values.count == clipCount, "each clip is decoded once")
        let firstBatch = try #require(events.firstIndex { if case .batch = $0 { true } else { false } })
        let allDecoded = try #require(events.firstIndex { $0 == .loading(LoadingProgress(done: clipCount, total: clipCount)) })
        #expect(firstBatch < allDecoded)
        #expect(events.last.map { if case .finished = $0 { true } else { false } } == true)
    }

    @Test func aClipThatDoesNotDecodeIsReportedLeftOutAndTheRunFinishes() throws {
        let project = try SyntheticProject()
        let clips = try ProjectDataset.labelledClips(project.store).clips
        // Replaced after the scan: the database still lists it as a readable clip.
        let broken = clips[4].path
        try Data("not a video".utf8).write(to: project.project.file(broken))
        let calls = LockedList<String>(), cached = project.loader
        let loader: ClipFrameLoader = { url, sampling in
            calls.append(url.lastPathComponent)
            return try cached(url, sampling)
        }
        let log = TinyData.run(Self.job(.project(project.store, loader: loader)))
        #expect(log.summary?.status == .completed && log.summary?.epochsCompleted == 2, "\(log.failure?.message ?? "")")
        let skipped = log.events.compactMap { if case .skipped(let s) = $0 { s } else { nil } }
        // Reported once, as loading the clips first lists it, and never tried again.
        let upFront = try ProjectDataset.load(store: project.store, sampling: SyntheticProject.sampling, loader: project.loader)
        #expect(upFront.skipped.map(\.path) == [broken])
        #expect(skipped == upFront.skipped.map { SkippedSample(id: $0.path, reason: $0.reason) })
        #expect(calls.values.filter { $0 == URL(fileURLWithPath: broken).lastPathComponent }.count == 1)
        #expect(log.letters.hasPrefix("S"))
    }
}
