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

/// Every sample of a dataset in memory, with its class: the frames of labelled clips
/// as bytes (what the clip cache holds, a quarter of the floats' size), or the rows of
/// a tensor file as floats. Batches are built from it as the model's Float32 input.
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
    }
    let storage: Storage
    /// Optical flow (N, T, H, W, 2) of every sample, once `withMotion()` computed it:
    /// motion inputs then cost no more per epoch than frames (augmentation turns and
    /// scales the stored vectors instead of computing flow again).
    let motion: [Float]?

    /// Samples of clip frames: `pixels` is (N, T, H, W, C) uint8.
    public init(classNames: [String], sampleShape: [Int], samples: [SampleInfo], pixels: [UInt8]) {
        precondition(pixels.count == samples.count * sampleShape.reduce(1, *), "pixels must hold N*T*H*W*C bytes")
        self.classNames = classNames
        self.sampleShape = sampleShape
        self.samples = samples
        storage = .bytes(pixels)
        motion = nil
    }

    /// Samples of model input: `values` is (N, T, H, W, C) Float32.
    public init(classNames: [String], sampleShape: [Int], samples: [SampleInfo], values: [Float]) {
        precondition(values.count == samples.count * sampleShape.reduce(1, *), "values must hold N*T*H*W*C floats")
        self.classNames = classNames
        self.sampleShape = sampleShape
        self.samples = samples
        storage = .floats(values)
        motion = nil
    }

    private init(classNames: [String], sampleShape: [Int], samples: [SampleInfo], storage: Storage, motion: [Float]?) {
        self.classNames = classNames
        self.sampleShape = sampleShape
        self.samples = samples
        self.storage = storage
        self.motion = motion
    }

    /// This set with every sample's optical flow computed (on all cores), for motion inputs.
    public func withMotion() -> SampleSet {
        guard motion == nil else { return self }
        let size = sampleSize, flowSize = sampleShape[0] * sampleShape[1] * sampleShape[2] * 2
        let results = LockedResults<[Float]>(count: count, initial: [])
        DispatchQueue.concurrentPerform(iterations: count) { index in
            var sample = [Float](repeating: 0, count: size)
            sample.withUnsafeMutableBufferPointer { copySample(index, to: $0.baseAddress!) }
            _ = results.set(index, sample.withUnsafeBufferPointer { InputTransform.motion(of: $0.baseAddress!, shape: sampleShape) })
        }
        var flow = [Float]()
        flow.reserveCapacity(count * flowSize)
        for sample in results.values { flow += sample }
        return SampleSet(classNames: classNames, sampleShape: sampleShape, samples: samples, storage: storage, motion: flow)
    }

    /// The rows of a labelled tensor file; samples are named `#0`, `#1`, ...
    public init(tensors: TensorDataset, classNames: [String]? = nil) throws(TrainingError) {
        guard let y = tensors.y else { throw TrainingError("the tensor file has no labels (y)") }
        let classes = y.shape[1]
        if let classNames, classNames.count != classes {
            throw TrainingError("\(classNames.count) class names given for labels of \(classes) classes")
        }
        let infos = (0..<tensors.count).map { row in
            let values = y.data[row * classes ..< (row + 1) * classes]
            let top = values.indices.max { values[$0] < values[$1] }! - row * classes
            return SampleInfo(id: "#\(row)", classIndex: top)
        }
        self.init(classNames: classNames ?? (0..<classes).map { "class\($0)" }, sampleShape: tensors.sampleShape,
                  samples: infos, values: tensors.x.data)
    }

    public var count: Int { samples.count }
    public var classCount: Int { classNames.count }
    var sampleSize: Int { sampleShape.reduce(1, *) }

    /// Bytes the samples take in memory.
    public var byteCount: Int {
        switch storage {
        case .bytes(let b): b.count
        case .floats(let f): f.count * 4
        }
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
    /// reversal swaps its class); then `input` transforms it.
    public func batch(_ indices: [Int], augmentation: Augmentation = .off, input: InputTransform = .frames,
                      random: inout SeededGenerator) throws(TrainingError) -> (x: Tensor, y: Tensor) {
        makeBatch(indices, augmentation: try ResolvedAugmentation(augmentation, classNames: classNames), input: input,
                  random: &random)
    }

    /// x and y of `indices` without augmentation (validation, evaluation).
    public func batch(_ indices: [Int], input: InputTransform = .frames) -> (x: Tensor, y: Tensor) {
        var unused = SeededGenerator(seed: 0)
        return makeBatch(indices, augmentation: .off, input: input, random: &unused)
    }

    private func makeBatch(_ indices: [Int], augmentation resolved: ResolvedAugmentation, input: InputTransform,
                           random: inout SeededGenerator) -> (x: Tensor, y: Tensor) {
        let augmentation = resolved.augmentation
        let size = sampleSize, classes = classCount
        let outputShape = input.outputShape(sampleShape), outputSize = outputShape.reduce(1, *)
        var x = [Float](repeating: 0, count: indices.count * outputSize)
        var y = [Float](repeating: 0, count: indices.count * classes)
        var changed = [Float](repeating: 0, count: size)
        let flowSize = input.usesMotion && motion != nil ? sampleShape[0] * sampleShape[1] * sampleShape[2] * 2 : 0
        var changedFlow = [Float](repeating: 0, count: flowSize)
        x.withUnsafeMutableBufferPointer { out in
            changed.withUnsafeMutableBufferPointer { scratch in
                for (row, index) in indices.enumerated() {
                    var choice: AugmentationChoice?
                    let destination = out.baseAddress! + row * outputSize
                    var classIndex = samples[index].classIndex
                    if augmentation.isOff {
                        copySample(index, to: scratch.baseAddress!)
                    } else {
                        let drawn = AugmentationChoice(augmentation, shape: sampleShape, random: &random)
                        choice = drawn
                        classIndex = drawn.classIndex(classIndex, resolved)
                        switch storage {
                        case .bytes(let pixels):
                            pixels.withUnsafeBufferPointer { p in
                                drawn.apply(to: scratch.baseAddress!, shape: sampleShape) { Float(p[index * size + $0]) * (1 / 255) }
                            }
                        case .floats(let values):
                            values.withUnsafeBufferPointer { p in
                                drawn.apply(to: scratch.baseAddress!, shape: sampleShape) { p[index * size + $0] }
                            }
                        }
                    }
                    y[row * classes + classIndex] = 1
                    guard let motion, flowSize > 0 else {
                        input.apply(scratch.baseAddress!, shape: sampleShape, into: destination)
                        continue
                    }
                    motion.withUnsafeBufferPointer { stored in
                        changedFlow.withUnsafeMutableBufferPointer { flow in
                            let original = stored.baseAddress! + index * flowSize
                            if let choice {
                                choice.applyToMotion(original, shape: sampleShape, into: flow.baseAddress!)
                            } else {
                                flow.baseAddress!.update(from: original, count: flowSize)
                            }
                            input.apply(scratch.baseAddress!, shape: sampleShape, motion: flow.baseAddress!, into: destination)
                        }
                    }
                }
            }
        }
        return (Tensor(shape: [indices.count] + outputShape, data: x), Tensor(shape: [indices.count, classes], data: y))
    }

    private func copySample(_ index: Int, to destination: UnsafeMutablePointer<Float>) {
        let size = sampleSize
        switch storage {
        case .bytes(let pixels):
            pixels.withUnsafeBufferPointer { p in
                let source = p.baseAddress! + index * size
                for i in 0..<size { destination[i] = Float(source[i]) * (1 / 255) }
            }
        case .floats(let values):
            values.withUnsafeBufferPointer { p in
                destination.update(from: p.baseAddress! + index * size, count: size)
            }
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
        }
    }
}
