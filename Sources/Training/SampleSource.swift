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
    /// Makes sample `row` ready to read (a clip decoded, waiting when another thread is on
    /// it); returns why it cannot be, when it never will be and is to be left out.
    func prepare(_ row: Int) -> String?
    /// True when sample `row` is known to be left out (`prepare` said so), without waiting.
    func isLeftOut(_ row: Int) -> Bool
}

extension SampleSource {
    func prepare(_ row: Int) -> String? { nil }
    func isLeftOut(_ row: Int) -> Bool { false }
}

/// The labelled clips of a project, read from the clip-cache entry each was decoded into
/// (`ClipDecoding`, which decodes a clip first when no one has yet). An entry that changed
/// since (evicted, rewritten by another process, damaged) is decoded again through the
/// loader; a clip that cannot be read any more is an error naming it. A clip that did not
/// decode at all is left out of the batches.
struct ClipSampleSource: SampleSource {
    let decoding: ClipDecoding

    var count: Int { decoding.clips.count }
    var sampling: SamplingSettings { decoding.sampling }
    var sampleShape: [Int] { [sampling.frames, sampling.height, sampling.width, sampling.channels] }

    func prepare(_ row: Int) -> String? {
        if case .failed(let reason) = decoding.outcome(row) { return reason }
        return nil
    }

    func isLeftOut(_ row: Int) -> Bool { decoding.failure(row) != nil }

    func read(_ row: Int, into values: inout [Float], buffer: inout [UInt8]) throws(TrainingError) {
        let clip = decoding.clips[row]
        var entryProblem: String?
        switch decoding.outcome(row) {
        case .failed(let reason):
            throw TrainingError("\(clip.path): \(reason)")
        case .decoded(let entry?):
            do {
                let payload = try ClipCache.readFrames(at: entry, into: &buffer)
                Self.convert(buffer, payload, into: &values)
                return
            } catch {
                entryProblem = error.reason
            }
        case .decoded(nil), .waiting, .decoding:
            break
        }
        let frames: ClipFrames
        do {
            frames = try decoding.loader(clip.url, sampling)
        } catch {
            throw TrainingError("\(clip.path): " + (entryProblem.map { "\($0), and the clip" } ?? "it")
                                + " can no longer be read: \(ProjectDataset.reason(error))")
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
