import ActionNet
import ClipIO
import Foundation

/// Where a `SampleSet` reads its samples on demand, one at a time, as batches need them.
protocol SampleSource: Sendable {
    var count: Int { get }
    /// One sample's shape (T, H, W, C).
    var sampleShape: [Int] { get }
    /// Writes sample `row` (T·H·W·C values, in [0, 1] for clips) to `values`, which holds
    /// that many; `buffer` is scratch for file reads, reused between calls.
    func read(_ row: Int, into values: inout [Float], buffer: inout [UInt8]) throws(TrainingError)
}

/// The labelled clips of a project, read from the clip cache entry each was found in when
/// the set was loaded. An entry that changed since (evicted, rewritten by another process,
/// damaged) is decoded again through the loader; a clip that cannot be read any more is
/// an error naming it.
struct ClipSampleSource: SampleSource {
    struct Clip: Sendable {
        /// The clip's path relative to the project folder, for messages.
        let path: String
        let url: URL
        /// Its cache entry; nil when the loader's frames are in none (read through the loader).
        let entry: ClipCache.EntryLocation?
    }

    let clips: [Clip]
    let sampling: SamplingSettings
    let loader: ClipFrameLoader

    var count: Int { clips.count }
    var sampleShape: [Int] { [sampling.frames, sampling.height, sampling.width, sampling.channels] }

    func read(_ row: Int, into values: inout [Float], buffer: inout [UInt8]) throws(TrainingError) {
        let clip = clips[row]
        var entryProblem: String?
        if let entry = clip.entry {
            do {
                let payload = try ClipCache.readFrames(at: entry, into: &buffer)
                Self.convert(buffer, payload, into: &values)
                return
            } catch {
                entryProblem = error.reason
            }
        }
        let frames: ClipFrames
        do {
            frames = try loader(clip.url, sampling)
        } catch {
            let reason = (error as? ClipIOError)?.reason ?? "\(error)"
            throw TrainingError("\(clip.path): " + (entryProblem.map { "\($0), and the clip" } ?? "it")
                                + " can no longer be read: \(reason)")
        }
        guard frames.settings == sampling else {
            throw TrainingError("\(clip.path): sampled as \(frames.shape) instead of \(sampleShape)")
        }
        Self.convert(frames.pixels, frames.pixels.indices, into: &values)
    }

    /// Pixels 0...255 at `range` of `bytes` as values in [0, 1].
    private static func convert(_ bytes: [UInt8], _ range: Range<Int>, into values: inout [Float]) {
        bytes.withUnsafeBufferPointer { source in
            values.withUnsafeMutableBufferPointer { out in
                let start = source.baseAddress! + range.lowerBound
                for i in 0..<range.count { out[i] = Float(start[i]) * (1 / 255) }
            }
        }
    }
}

/// The rows of a tensor file, read by offset as batches need them.
struct TensorRowSource: SampleSource {
    let rows: TensorFileRows

    var count: Int { rows.count }
    var sampleShape: [Int] { rows.sampleShape }

    func read(_ row: Int, into values: inout [Float], buffer: inout [UInt8]) throws(TrainingError) {
        do {
            try values.withUnsafeMutableBufferPointer { out throws(TensorFileError) in
                try rows.read(row, into: out.baseAddress!, buffer: &buffer)
            }
        } catch {
            throw TrainingError(error.description)
        }
    }
}
