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

    /// x (B, T, H, W, C) and one-hot y (B, classes) of the samples at `indices`, in that order.
    /// With `augmentation` on, each sample is changed by choices drawn from `random`;
    /// then `input` transforms it.
    public func batch(_ indices: [Int], augmentation: Augmentation = .off, input: InputTransform = .frames,
                      random: inout SeededGenerator) -> (x: Tensor, y: Tensor) {
        let size = sampleSize, classes = classCount
        var x = [Float](repeating: 0, count: indices.count * size)
        var y = [Float](repeating: 0, count: indices.count * classes)
        x.withUnsafeMutableBufferPointer { out in
            for (row, index) in indices.enumerated() {
                y[row * classes + samples[index].classIndex] = 1
                let destination = out.baseAddress! + row * size
                if augmentation.isOff {
                    copySample(index, to: destination)
                } else {
                    let choice = AugmentationChoice(augmentation, shape: sampleShape, random: &random)
                    switch storage {
                    case .bytes(let pixels):
                        pixels.withUnsafeBufferPointer { p in
                            choice.apply(to: destination, shape: sampleShape) { Float(p[index * size + $0]) * (1 / 255) }
                        }
                    case .floats(let values):
                        values.withUnsafeBufferPointer { p in
                            choice.apply(to: destination, shape: sampleShape) { p[index * size + $0] }
                        }
                    }
                }
                input.apply(to: destination, shape: sampleShape)
            }
        }
        return (Tensor(shape: [indices.count] + sampleShape, data: x), Tensor(shape: [indices.count, classes], data: y))
    }

    /// x and y of `indices` without augmentation (validation, evaluation).
    public func batch(_ indices: [Int], input: InputTransform = .frames) -> (x: Tensor, y: Tensor) {
        var unused = SeededGenerator(seed: 0)
        return batch(indices, input: input, random: &unused)
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

/// The random changes drawn for one sample of one epoch.
struct AugmentationChoice {
    var flip = false
    /// The window read, in source pixels: top-left corner and size.
    var cropY = 0, cropX = 0, cropHeight: Int, cropWidth: Int
    /// Source frame of output frame t is t + shift, clamped to the clip.
    var shift = 0

    init(_ augmentation: Augmentation, shape: [Int], random: inout SeededGenerator) {
        let (T, H, W) = (shape[0], shape[1], shape[2])
        cropHeight = H
        cropWidth = W
        // Draw every choice even when it is off, so turning one on does not change the others.
        let flipDraw = random.next() & 1 == 1
        let scale = 0.85 + 0.15 * random.nextUnit()
        let yDraw = random.nextUnit(), xDraw = random.nextUnit()
        let maxShift = max(1, T / 8)
        let shiftDraw = Int(random.next() % UInt64(2 * maxShift + 1)) - maxShift
        if augmentation.horizontalFlip { flip = flipDraw }
        if augmentation.randomCrop {
            cropHeight = max(1, Int((Double(H) * scale).rounded()))
            cropWidth = max(1, Int((Double(W) * scale).rounded()))
            cropY = min(H - cropHeight, Int(yDraw * Double(H - cropHeight + 1)))
            cropX = min(W - cropWidth, Int(xDraw * Double(W - cropWidth + 1)))
        }
        if augmentation.temporalJitter && T > 1 { shift = shiftDraw }
    }

    /// Writes the changed sample (T, H, W, C) to `out`, reading the original through
    /// `value(flatIndex)`. The crop window is scaled back to H x W bilinearly.
    func apply(to out: UnsafeMutablePointer<Float>, shape: [Int], value: (Int) -> Float) {
        let (T, H, W, C) = (shape[0], shape[1], shape[2], shape[3])
        func taps(_ n: Int, start: Int, size: Int) -> [(Int, Int, Float)] {
            (0..<n).map { o in
                let s = min(max(Double(start) + (Double(o) + 0.5) * Double(size) / Double(n) - 0.5, Double(start)),
                            Double(start + size - 1))
                let low = Int(s.rounded(.down)), high = min(low + 1, start + size - 1)
                return (low, high, Float(s - Double(low)))
            }
        }
        let rows = taps(H, start: cropY, size: cropHeight)
        let columns = taps(W, start: cropX, size: cropWidth)
        var o = 0
        for t in 0..<T {
            let st = min(max(t + shift, 0), T - 1)
            for y in 0..<H {
                let (y0, y1, fy) = rows[y]
                for x in 0..<W {
                    let (x0, x1, fx) = columns[flip ? W - 1 - x : x]
                    for c in 0..<C {
                        func at(_ yy: Int, _ xx: Int) -> Float { value(((st * H + yy) * W + xx) * C + c) }
                        let top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * fx
                        let bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * fx
                        out[o] = top + (bottom - top) * fy
                        o += 1
                    }
                }
            }
        }
    }
}
