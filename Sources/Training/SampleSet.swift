import ActionNet
import Foundation

/// Where a sample came from and what it is.
public struct SampleInfo: Sendable, Equatable, Codable {
    /// The clip's path relative to the project folder, or `#<row>` for a row of a tensor file.
    public let id: String
    /// The model output the sample should light up.
    public let classIndex: Int

    public init(id: String, classIndex: Int) {
        self.id = id
        self.classIndex = classIndex
    }

    enum CodingKeys: String, CodingKey {
        case id, classIndex = "class"
    }
}

/// The samples of a dataset, with their classes: either held in memory (the frames of
/// clips as bytes, a quarter of the floats' size, or rows of model input as floats) or
/// read on demand from a `SampleSource` (the project's clip cache, a tensor file), so
/// memory does not grow with the number of samples. Batches are built from it as the
/// model's Float32 input.
///
/// Shape letters: N samples, T timesteps, H height, W width, C channels.
public struct SampleSet: Sendable {
    public let classNames: [String]
    /// One sample's shape (T, H, W, C).
    public let sampleShape: [Int]
    public let samples: [SampleInfo]

    enum Storage: Sendable {
        /// (N, T, H, W, C) pixels 0...255, read as value / 255.
        case bytes([UInt8])
        /// (N, T, H, W, C) values, read as they are.
        case floats([Float])
        /// Sample i is row `rows[i]` of `source`, read when a batch needs it.
        case streamed(any SampleSource, rows: [Int])
    }
    let storage: Storage

    /// Samples of clip frames: `pixels` is (N, T, H, W, C) uint8.
    public init(classNames: [String], sampleShape: [Int], samples: [SampleInfo], pixels: [UInt8]) {
        precondition(pixels.count == samples.count * sampleShape.reduce(1, *), "pixels must hold N*T*H*W*C bytes")
        self.classNames = classNames
        self.sampleShape = sampleShape
        self.samples = samples
        storage = .bytes(pixels)
    }

    /// Samples of model input: `values` is (N, T, H, W, C) Float32.
    public init(classNames: [String], sampleShape: [Int], samples: [SampleInfo], values: [Float]) {
        precondition(values.count == samples.count * sampleShape.reduce(1, *), "values must hold N*T*H*W*C floats")
        self.classNames = classNames
        self.sampleShape = sampleShape
        self.samples = samples
        storage = .floats(values)
    }

    /// Samples read on demand: sample i is row `rows[i]` of `source` (row i by default).
    init(classNames: [String], samples: [SampleInfo], source: any SampleSource, rows: [Int]? = nil) {
        precondition((rows?.count ?? source.count) == samples.count, "the source must hold one row per sample")
        self.classNames = classNames
        sampleShape = source.sampleShape
        self.samples = samples
        storage = .streamed(source, rows: rows ?? Array(0..<source.count))
    }

    private init(classNames: [String], sampleShape: [Int], samples: [SampleInfo], storage: Storage) {
        self.classNames = classNames
        self.sampleShape = sampleShape
        self.samples = samples
        self.storage = storage
    }

    /// True when samples are read from their source as batches need them.
    public var isStreamed: Bool {
        if case .streamed = storage { return true }
        return false
    }

    /// The rows of a labelled tensor file, held in memory; samples are named `#0`, `#1`, ...
    public init(tensors: TensorDataset, classNames: [String]? = nil) throws(TrainingError) {
        guard let y = tensors.y else { throw TrainingError("the tensor file has no labels (y)") }
        let infos = try Self.infos(labels: y, classNames: classNames)
        self.init(classNames: classNames ?? (0..<y.shape[1]).map { "class\($0)" }, sampleShape: tensors.sampleShape,
                  samples: infos, values: tensors.x.data)
    }

    /// The rows of a labelled tensor file, read from it as batches need them; samples
    /// are named `#0`, `#1`, ...
    public init(tensorFile: TensorFileRows, classNames: [String]? = nil) throws(TrainingError) {
        guard let y = tensorFile.y else { throw TrainingError("\(tensorFile.url.path): the tensor file has no labels (y)") }
        self.init(classNames: classNames ?? (0..<y.shape[1]).map { "class\($0)" },
                  samples: try Self.infos(labels: y, classNames: classNames), source: TensorRowSource(rows: tensorFile))
    }

    /// Sample `#row` of each one-hot row of `labels` (N, classes).
    private static func infos(labels y: Tensor, classNames: [String]?) throws(TrainingError) -> [SampleInfo] {
        let classes = y.shape[1]
        if let classNames, classNames.count != classes {
            throw TrainingError("\(classNames.count) class names given for labels of \(classes) classes")
        }
        return (0..<y.shape[0]).map { row in
            var top = 0
            for c in 1..<max(classes, 1) where y.data[row * classes + c] > y.data[row * classes + top] { top = c }
            return SampleInfo(id: "#\(row)", classIndex: top)
        }
    }

    public var count: Int { samples.count }
    public var classCount: Int { classNames.count }
    var sampleSize: Int { sampleShape.reduce(1, *) }

    /// Bytes the samples take in memory: none when they are read on demand.
    public var byteCount: Int {
        switch storage {
        case .bytes(let b): b.count
        case .floats(let f): f.count * 4
        case .streamed: 0
        }
    }

    /// `indices` without the samples known to be left out: clips that turned out not to
    /// decode while the set was in use. A batch built of `indices` holds exactly these.
    public func readable(_ indices: [Int]) -> [Int] {
        guard case .streamed(let source, let rows) = storage else { return indices }
        return indices.filter { !source.isLeftOut(rows[$0]) }
    }

    /// Samples per class among `indices` (all samples by default).
    public func countsPerClass(_ indices: [Int]? = nil) -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for i in indices ?? Array(samples.indices) { counts[samples[i].classIndex] += 1 }
        return counts
    }

    /// x (B, T, H, W, C') and one-hot y (B, classes) of the samples at `indices`, in that
    /// order, where C' is what `input` makes of C channels. With `augmentation` on, each
    /// sample is changed by choices drawn from `random` (and relabelled when a mirror or
    /// reversal swaps its class); then `input` transforms it. A sample read on demand
    /// that cannot be read any more (its cache entry or tensor file changed) throws; a
    /// clip that does not decode at all is left out of the batch (`readable`).
    public func batch(_ indices: [Int], augmentation: Augmentation = .off, input: InputTransform = .frames,
                      random: inout SeededGenerator) throws(TrainingError) -> (x: Tensor, y: Tensor) {
        var reader = SampleReader()
        return try batch(indices, augmentation: try ResolvedAugmentation(augmentation, classNames: classNames), input: input,
                         random: &random, reader: &reader)
    }

    /// x and y of `indices` without augmentation (validation, evaluation).
    public func batch(_ indices: [Int], input: InputTransform = .frames) throws(TrainingError) -> (x: Tensor, y: Tensor) {
        var unused = SeededGenerator(seed: 0), reader = SampleReader()
        return try batch(indices, augmentation: .off, input: input, random: &unused, reader: &reader)
    }

    /// The batch of `indices`, reading through `reader`'s buffers (kept by a caller that
    /// builds many batches). Motion inputs get each sample's optical flow computed here,
    /// from the original frames, and turned and scaled with the augmentation's choices.
    func batch(_ indices: [Int], augmentation resolved: ResolvedAugmentation, input: InputTransform,
               random: inout SeededGenerator, reader: inout SampleReader) throws(TrainingError) -> (x: Tensor, y: Tensor) {
        let augmentation = resolved.augmentation
        // Clips not decoded yet are decoded first; those that fail are left out before any
        // random draw is made for the batch.
        var indices = indices
        if case .streamed(let source, let rows) = storage {
            indices = indices.filter { source.prepare(rows[$0]) == nil }
        }
        let size = sampleSize, classes = classCount
        let outputShape = input.outputShape(sampleShape), outputSize = outputShape.reduce(1, *)
        var x = [Float](repeating: 0, count: indices.count * outputSize)
        var y = [Float](repeating: 0, count: indices.count * classes)
        reader.prepare(sampleSize: size, flowSize: input.usesMotion ? sampleShape[0] * sampleShape[1] * sampleShape[2] * 2 : 0)
        for (row, index) in indices.enumerated() {
            try readSample(index, into: &reader)
            var classIndex = samples[index].classIndex
            let choice = augmentation.isOff ? nil : AugmentationChoice(augmentation, shape: sampleShape, random: &random)
            if let choice { classIndex = choice.classIndex(classIndex, resolved) }
            y[row * classes + classIndex] = 1
            x.withUnsafeMutableBufferPointer { out in
                reader.transform(choice, shape: sampleShape, input: input, into: out.baseAddress! + row * outputSize)
            }
        }
        return (Tensor(shape: [indices.count] + outputShape, data: x), Tensor(shape: [indices.count, classes], data: y))
    }

    /// Sample `index` as floats in `reader.original`.
    private func readSample(_ index: Int, into reader: inout SampleReader) throws(TrainingError) {
        let size = sampleSize
        switch storage {
        case .bytes(let pixels):
            pixels.withUnsafeBufferPointer { p in
                reader.original.withUnsafeMutableBufferPointer { out in
                    for i in 0..<size { out[i] = Float(p[index * size + i]) * (1 / 255) }
                }
            }
        case .floats(let values):
            values.withUnsafeBufferPointer { p in
                reader.original.withUnsafeMutableBufferPointer { out in
                    out.baseAddress!.update(from: p.baseAddress! + index * size, count: size)
                }
            }
        case .streamed(let source, let rows):
            try source.read(rows[index], into: &reader.original, buffer: &reader.fileBuffer)
        }
    }

    /// The samples at `indices` as a new set (their order kept).
    public func subset(_ indices: [Int]) -> SampleSet {
        let size = sampleSize
        let infos = indices.map { samples[$0] }
        switch storage {
        case .bytes(let pixels):
            var out = [UInt8]()
            out.reserveCapacity(indices.count * size)
            for i in indices { out.append(contentsOf: pixels[i * size ..< (i + 1) * size]) }
            return SampleSet(classNames: classNames, sampleShape: sampleShape, samples: infos, pixels: out)
        case .floats(let values):
            var out = [Float]()
            out.reserveCapacity(indices.count * size)
            for i in indices { out.append(contentsOf: values[i * size ..< (i + 1) * size]) }
            return SampleSet(classNames: classNames, sampleShape: sampleShape, samples: infos, values: out)
        case .streamed(let source, let rows):
            return SampleSet(classNames: classNames, sampleShape: sampleShape, samples: infos,
                             storage: .streamed(source, rows: indices.map { rows[$0] }))
        }
    }
}

/// The buffers one thread reuses to build batches: a sample's original values, its
/// augmented copy, its optical flow and the bytes read from a file.
struct SampleReader {
    /// (T, H, W, C) of the sample being read, in [0, 1] for clips.
    var original: [Float] = []
    var changed: [Float] = []
    /// (T, H, W, 2) flow of the original, and of the augmented sample.
    var flow: [Float] = []
    var changedFlow: [Float] = []
    /// What a file read returned (a cache entry, a tensor row).
    var fileBuffer: [UInt8] = []

    mutating func prepare(sampleSize: Int, flowSize: Int) {
        if original.count != sampleSize {
            original = [Float](repeating: 0, count: sampleSize)
            changed = [Float](repeating: 0, count: sampleSize)
        }
        if changedFlow.count != flowSize { changedFlow = [Float](repeating: 0, count: flowSize) }
    }

    /// Writes the model input of the sample in `original`, changed by `choice` when given.
    mutating func transform(_ choice: AugmentationChoice?, shape: [Int], input: InputTransform,
                            into destination: UnsafeMutablePointer<Float>) {
        if input.usesMotion {
            flow = original.withUnsafeBufferPointer { InputTransform.motion(of: $0.baseAddress!, shape: shape) }
        }
        let original = original, flow = flow
        original.withUnsafeBufferPointer { source in
            changed.withUnsafeMutableBufferPointer { scratch in
                changedFlow.withUnsafeMutableBufferPointer { changedFlow in
                    flow.withUnsafeBufferPointer { flow in
                        var picture = source.baseAddress!
                        var motion = input.usesMotion ? flow.baseAddress : nil
                        if let choice {
                            choice.apply(to: scratch.baseAddress!, shape: shape) { source[$0] }
                            picture = UnsafePointer(scratch.baseAddress!)
                            if let original = motion {
                                choice.applyToMotion(original, shape: shape, into: changedFlow.baseAddress!)
                                motion = UnsafePointer(changedFlow.baseAddress!)
                            }
                        }
                        input.apply(picture, shape: shape, motion: motion, into: destination)
                    }
                }
            }
        }
    }
}

extension SampleSet {
    /// The batches of `indices` (each a list of sample indices), built in order on a
    /// background thread one ahead of the caller, augmented with draws from `random` as
    /// `batch(_:augmentation:input:random:)` called for each in turn would draw them.
    public func prefetchedBatches(_ batches: [[Int]], augmentation: Augmentation = .off, input: InputTransform,
                           random: SeededGenerator = SeededGenerator(seed: 0)) throws(TrainingError) -> BatchPrefetcher {
        let resolved = try ResolvedAugmentation(augmentation, classNames: classNames)
        let builder = BatchBuilder(random: random)
        return BatchPrefetcher(count: batches.count) { [self] index throws(TrainingError) in
            try builder.build(self, batches[index], augmentation: resolved, input: input)
        }
    }
}

/// What the thread building a pass's batches keeps between them: its random draws and
/// its read buffers. Only that one thread uses it.
private final class BatchBuilder: @unchecked Sendable {
    private var random: SeededGenerator
    private var reader = SampleReader()

    init(random: SeededGenerator) { self.random = random }

    func build(_ set: SampleSet, _ indices: [Int], augmentation: ResolvedAugmentation,
               input: InputTransform) throws(TrainingError) -> BatchPrefetcher.Batch {
        try set.batch(indices, augmentation: augmentation, input: input, random: &random, reader: &reader)
    }
}
