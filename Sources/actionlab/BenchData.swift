import ActionNet
import ActionStore
import ArgumentParser
import ClipIO
import Foundation
import Training

/// The data path on a project: how fast samples are read back from the clip cache (as a
/// training run reads them, batch by batch on the prefetching thread), with and without
/// optical flow, and how much memory reading them takes per 1,000 clips.
struct DataBenchmark: ParsableArguments {
    @Option(name: .customLong("data"), help: "Project folder whose labelled clips to read through the clip cache.")
    var directory: String?

    @Option(name: .customLong("data-frames"), help: "Frames to sample (T) for --data.")
    var frames = 32

    @Option(name: .customLong("data-size"), help: "Side of the square gray frames (H = W) for --data.")
    var size = 96

    @Option(name: .customLong("data-batch-size"), help: "Samples per batch for --data.")
    var batchSize = 8

    var sampling: SamplingSettings { SamplingSettings(frames: frames, height: size, width: size, channels: 1) }

    func validate() throws {
        if let problem = sampling.problem { throw ValidationError(problem) }
        guard (1...TrainingSettings.maximumBatchSize).contains(batchSize) else {
            throw ValidationError("--data-batch-size must be from 1 to \(TrainingSettings.maximumBatchSize), got \(batchSize)")
        }
    }

    struct Report: Codable {
        var clips: Int
        var sampling: String
        /// Seconds to load the project: decoding clips not yet cached, checking the others.
        var loadSeconds: Double
        var readClipsPerSecond: Double
        var readWithFlowClipsPerSecond: Double
        var peakRSSBytes: Int
        /// Growth of the peak resident memory while loading and reading, per 1,000 clips.
        var peakBytesPer1000Clips: Int

        enum CodingKeys: String, CodingKey {
            case clips, sampling
            case loadSeconds = "load_seconds"
            case readClipsPerSecond = "read_clips_per_second"
            case readWithFlowClipsPerSecond = "read_with_flow_clips_per_second"
            case peakRSSBytes = "peak_rss_bytes"
            case peakBytesPer1000Clips = "peak_bytes_per_1000_clips"
        }
    }

    func run(json: Bool) throws {
        guard let directory else { return }
        try reportingErrors {
            let layout = ProjectLayout(root: URL(fileURLWithPath: directory))
            let store = try ProjectStore.open(layout)
            try scanReportingUnlistedFolders(store)
            let before = Benchmark.peakResidentBytes()
            let loadStart = now()
            let (set, skipped) = try ProjectDataset.load(store: store, sampling: sampling, loader: ProjectDataset.cached(layout))
            let loadSeconds = now() - loadStart
            for s in skipped { FileHandle.standardError.write(Data("skipped \(s.path): \(s.reason)\n".utf8)) }
            guard set.count > 0 else { throw ValidationError("\(layout.root.path): no labelled, readable clips to read") }
            let plain = try readAll(set, input: .frames)
            let flow = try readAll(set, input: .motion)
            let peak = Benchmark.peakResidentBytes()
            let report = Report(clips: set.count, sampling: "\(frames)x\(size)x\(size)x1", loadSeconds: loadSeconds,
                                readClipsPerSecond: plain, readWithFlowClipsPerSecond: flow, peakRSSBytes: peak,
                                peakBytesPer1000Clips: (peak - before) * 1000 / set.count)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print("\(layout.root.path): \(set.count) labelled clips at \(report.sampling), batches of \(batchSize)")
                print(String(format: "load (decode what is not cached, check the rest)  %8.2f s", loadSeconds))
                print(String(format: "read from the clip cache                          %8.1f clips/s", plain))
                print(String(format: "read from the clip cache, with optical flow       %8.1f clips/s", flow))
                print(String(format: "peak RSS %.0f MiB; growth while loading and reading %.1f MiB per 1,000 clips",
                             Double(peak) / 1_048_576, Double(report.peakBytesPer1000Clips) / 1_048_576))
            }
        }
    }

    /// Clips per second of one pass over every sample, as model input of `input`.
    private func readAll(_ set: SampleSet, input: InputTransform) throws -> Double {
        let batches = stride(from: 0, to: set.count, by: batchSize).map { Array($0 ..< min($0 + batchSize, set.count)) }
        let start = now()
        let reader = try set.prefetchedBatches(batches, input: input)
        while try reader.next() != nil {}
        return Double(set.count) / max(now() - start, 1e-9)
    }

    private func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
