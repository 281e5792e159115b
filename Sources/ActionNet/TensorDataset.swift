import Foundation

/// An input array in the wrong layout: names the file, the shape found, the layout the
/// model expects, and the numpy line that fixes it.
public struct LayoutError: Error, CustomStringConvertible, Equatable, Sendable {
    public let path: String
    public let tensor: String
    public let found: [Int]
    /// What the array looks like, e.g. "(N, H, W, T): time last, no channel axis".
    public let diagnosis: String
    /// The layout expected, e.g. "(N, T, H, W, C) = (N, 60, 192, 192, 1)".
    public let expected: String
    /// The numpy fix, e.g. "x = np.moveaxis(x, -1, 1)[..., None]".
    public let fix: String

    public var description: String {
        "\(path): tensor '\(tensor)' has shape \(Tensor.describe(found)), which looks like \(diagnosis). "
            + "ActionLab expects \(expected): samples, timesteps, height, width, channels. "
            + "Fix it in numpy with: \(fix)"
    }
}

/// Samples for training or prediction from a `--tensors` file: x (N, T, H, W, C) float32
/// and y (N, classes) one-hot, converted from (N) integer labels when given so.
public struct TensorDataset: Sendable {
    public let x: Tensor
    /// (N, classes) one-hot rows; nil when the file has no labels.
    public let y: Tensor?
    public var count: Int { x.shape[0] }
    /// One sample's shape (T, H, W, C).
    public var sampleShape: [Int] { Array(x.shape.dropFirst()) }

    public init(x: Tensor, y: Tensor?) {
        self.x = x
        self.y = y
    }

    /// The numpy line that moves time from last to second and adds the channel axis.
    public static let moveaxisFix = "x = np.moveaxis(x, -1, 1)[..., None]"

    /// Reads `xName` (and `yName` when `requireLabels`, or when present) from `url`.
    /// `expected` is the model's (T, H, W, C) when a model is already chosen; `classes`
    /// its class count. Refuses inputs in the wrong layout with a `LayoutError`.
    public static func load(_ url: URL, xName: String = "x", yName: String = "y",
                            expected: [Int]? = nil, classes: Int? = nil,
                            requireLabels: Bool = true) throws -> TensorDataset {
        let file = try SafeTensorsFile(contentsOf: url)
        guard let entry = file.entries[xName] else {
            throw TensorFileError(url, tensor: xName, "missing (the file has \(file.names.joined(separator: ", ")))")
        }
        try checkLayout(entry.shape, url: url, tensor: xName, expected: expected)
        let x = try file.tensor(xName)
        try checkFinite(x, url: url, tensor: xName)
        try checkNotReshaped(x, url: url, tensor: xName)
        var y: Tensor? = nil
        if file.contains(yName) {
            y = try oneHot(try file.tensor(yName), samples: x.shape[0], classes: classes, url: url, tensor: yName)
        } else if requireLabels {
            throw TensorFileError(url, tensor: yName, "missing: training needs labels, one-hot (N, classes) or integers (N)")
        }
        return TensorDataset(x: x, y: y)
    }

    /// Refuses shapes that are not (N, T, H, W, C), or not the model's, naming the likely mistake.
    static func checkLayout(_ shape: [Int], url: URL, tensor: String, expected: [Int]?) throws {
        let wanted = expected.map { "(N, T, H, W, C) = (N, " + $0.map(String.init).joined(separator: ", ") + ")" }
            ?? "(N, T, H, W, C)"
        func refuse(_ diagnosis: String, _ fix: String = moveaxisFix) -> LayoutError {
            LayoutError(path: url.path, tensor: tensor, found: shape, diagnosis: diagnosis, expected: wanted, fix: fix)
        }
        switch shape.count {
        case 5:
            guard let expected, Array(shape.dropFirst()) != expected else { return }
            let (t, h, w, c) = (expected[0], expected[1], expected[2], expected[3])
            if Array(shape.dropFirst()) == [h, w, t, c] {
                throw refuse("(N, H, W, T, C): time after the frame axes", "x = np.moveaxis(x, 3, 1)")
            }
            if Array(shape.dropFirst()) == [c, t, h, w] {
                throw refuse("(N, C, T, H, W): channels first", "x = np.moveaxis(x, 1, -1)")
            }
            throw TensorFileError(url, tensor: tensor, "shape \(Tensor.describe(shape)) does not fit the model, which takes \(wanted)")
        case 4:
            let dims = Array(shape.dropFirst())
            if let expected, dims == [expected[0], expected[1], expected[2]], expected[3] == 1 {
                throw refuse("(N, T, H, W) without the channel axis", "x = x[..., None]")
            }
            if expected == nil, dims[1] == dims[2], dims[0] != dims[1] {
                throw refuse("(N, T, H, W) without the channel axis", "x = x[..., None]")
            }
            throw refuse("(N, H, W, T): frames with time last and no channel axis")
        default:
            throw refuse("an array of rank \(shape.count), not the rank-5 video layout")
        }
    }

    /// Refuses samples with NaN or infinite values: one such pixel makes every loss NaN.
    static func checkFinite(_ x: Tensor, url: URL, tensor: String) throws {
        var count = NonFiniteCount()
        x.data.withUnsafeBufferPointer { count.add($0, at: 0) }
        try count.check(url: url, tensor: tensor, perSample: x.count / max(x.shape[0], 1))
    }

    /// Detects x = original.reshape(N, T, H, W, 1) of an (N, H, W, T) array: then each
    /// "row" runs through consecutive timesteps of a few pixels, so values change little
    /// along W but a lot along H and from one "frame" to the next. Real video is about
    /// as smooth along H as along W and from frame to frame; noise is smooth along none.
    static func checkNotReshaped(_ x: Tensor, url: URL, tensor: String) throws {
        let (T, H, W, C) = (x.shape[1], x.shape[2], x.shape[3], x.shape[4])
        guard T >= 2, H >= 2, W >= 2, x.shape[0] > 0 else { return }
        let samples = min(x.shape[0], 4)
        var alongW = 0.0, alongH = 0.0, alongT = 0.0, spread = 0.0
        var nW = 0, nH = 0, nT = 0
        x.data.withUnsafeBufferPointer { d in
            var mean = 0.0
            let per = T * H * W * C
            for i in 0..<(samples * per) { mean += Double(d[i]) }
            mean /= Double(samples * per)
            for i in 0..<(samples * per) { spread += abs(Double(d[i]) - mean) }
            spread /= Double(samples * per)
            for n in 0..<samples {
                for t in 0..<T {
                    for y in 0..<H {
                        for w in 0..<W {
                            for c in 0..<C {
                                let i = (((n * T + t) * H + y) * W + w) * C + c
                                let v = Double(d[i])
                                if w + 1 < W { alongW += abs(Double(d[i + C]) - v); nW += 1 }
                                if y + 1 < H { alongH += abs(Double(d[i + W * C]) - v); nH += 1 }
                                if t + 1 < T { alongT += abs(Double(d[i + H * W * C]) - v); nT += 1 }
                            }
                        }
                    }
                }
            }
        }
        alongW /= Double(nW); alongH /= Double(nH); alongT /= Double(nT)
        if spread > 0, alongW < 0.25 * spread, alongH > 3 * alongW, alongT > 3 * alongW {
            throw LayoutError(path: url.path, tensor: tensor, found: x.shape,
                              diagnosis: "an (N, H, W, T) array reshaped to (N, T, H, W, 1) instead of moving its axes "
                                  + "(values change \(String(format: "%.1f", alongH / alongW))x more between rows than along them, "
                                  + "and frames do not follow one another)",
                              expected: "(N, T, H, W, C)",
                              fix: "x = np.moveaxis(original, -1, 1)[..., None] on the (N, H, W, T) array, not x.reshape(...)")
        }
    }

    /// y as (N, classes) one-hot: integer labels (N) or (N, 1) are expanded.
    static func oneHot(_ y: Tensor, samples: Int, classes: Int?, url: URL, tensor: String) throws -> Tensor {
        guard y.shape.first == samples else {
            throw TensorFileError(url, tensor: tensor, "has \(y.shape.first ?? 0) rows but x has \(samples) samples")
        }
        if y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1 && classes != 1) {
            var count = classes ?? 2
            // A label sets the width of every one-hot row: bounded as a model's classes are.
            let maximumLabel = Float(ModelLimits.maximumClasses - 1)
            for v in y.data {
                guard v >= 0, v == v.rounded(), v <= maximumLabel else {
                    throw TensorFileError(url, tensor: tensor, "integer labels must be whole numbers from 0 to "
                                          + "\(ModelLimits.maximumClasses - 1) (the most classes a model may have), found \(v)")
                }
                if classes == nil { count = max(count, Int(v) + 1) }
                else if Int(v) >= count {
                    throw TensorFileError(url, tensor: tensor, "label \(Int(v)) is out of range for \(count) classes")
                }
            }
            var data = [Float](repeating: 0, count: samples * count)
            for (i, v) in y.data.enumerated() { data[i * count + Int(v)] = 1 }
            return Tensor(shape: [samples, count], data: data)
        }
        guard y.shape.count == 2 else {
            throw TensorFileError(url, tensor: tensor, "shape \(y.shapeDescription) is neither (N, classes) one-hot nor (N) integer labels")
        }
        if let classes, y.shape[1] != classes {
            throw TensorFileError(url, tensor: tensor, "has \(y.shape[1]) classes but the model has \(classes)")
        }
        for row in 0..<samples {
            let values = y.data[row * y.shape[1] ..< (row + 1) * y.shape[1]]
            let sum = values.reduce(0, +)
            guard values.allSatisfy({ $0 >= 0 }), abs(sum - 1) < 1e-3 else {
                throw TensorFileError(url, tensor: tensor, "row \(row) is not one-hot (its values sum to \(sum))")
            }
        }
        return y
    }
}

/// NaN and infinite values met while going through a tensor, with the first of them.
struct NonFiniteCount {
    var bad = 0
    var first: (index: Int, value: Float)?

    /// Counts those among `values`, which start at element `offset` of the tensor.
    mutating func add(_ values: UnsafeBufferPointer<Float>, at offset: Int) {
        for (i, value) in values.enumerated() where !value.isFinite {
            if first == nil { first = (offset + i, value) }
            bad += 1
        }
    }

    /// Refuses the tensor when any value was not finite.
    func check(url: URL, tensor: String, perSample: Int) throws {
        guard let first else { return }
        throw TensorFileError(url, tensor: tensor, "\(bad) values are NaN or infinite (the first in sample \(first.index / max(perSample, 1)), "
                              + "value \(first.value)); replace them, e.g. x = np.nan_to_num(x)")
    }
}

/// The samples of a `--tensors` file, read on demand: x's rows are read by offset from
/// the file when a batch needs them, so memory does not grow with the file; y, small,
/// is held. The file is read with `pread`, not memory-mapped (a file truncated while
/// mapped, e.g. re-saved by a notebook, would crash the reader when it touched the
/// missing pages): a file that shrinks while rows are read is an error naming it. The
/// checks of `TensorDataset.load` are made when it opens, going through the rows once.
public final class TensorFileRows: Sendable {
    public let url: URL
    /// Samples (x's first axis).
    public let count: Int
    /// One sample's shape (T, H, W, C).
    public let sampleShape: [Int]
    /// (N, classes) one-hot rows; nil when the file has no labels.
    public let y: Tensor?
    private let descriptor: Int32
    private let dtype: SafeTensorsFile.DType
    /// Where x's first row starts in the file.
    private let start: Int
    private let rowElements: Int
    private var rowBytes: Int { rowElements * dtype.size }

    private init(url: URL, descriptor: Int32, x: SafeTensorsFile.Entry, dataStart: Int, y: Tensor?) {
        self.url = url
        self.descriptor = descriptor
        count = x.shape[0]
        sampleShape = Array(x.shape.dropFirst())
        rowElements = sampleShape.reduce(1, *)
        dtype = x.dtype
        start = dataStart + x.range.lowerBound
        self.y = y
    }

    deinit { close(descriptor) }

    /// Opens `url` and checks it as `TensorDataset.load` does (layout, labels, values),
    /// reading its rows once but keeping none of them.
    public static func open(_ url: URL, xName: String = "x", yName: String = "y", expected: [Int]? = nil,
                            classes: Int? = nil, requireLabels: Bool = true) throws -> TensorFileRows {
        let (descriptor, size) = try SafeTensorsFile.openRegularFile(url)
        let header: SafeTensorsFile.Header, xEntry: SafeTensorsFile.Entry
        var y: Tensor? = nil
        do {
            header = try SafeTensorsFile.readHeader(descriptor, fileSize: size, url: url)
            guard let entry = header.entries[xName] else {
                throw TensorFileError(url, tensor: xName, "missing (the file has \(header.entries.keys.sorted().joined(separator: ", ")))")
            }
            xEntry = entry
            try TensorDataset.checkLayout(xEntry.shape, url: url, tensor: xName, expected: expected)
            if let yEntry = header.entries[yName] {
                let labels = try readTensor(yEntry, descriptor: descriptor, dataStart: header.dataStart, url: url, name: yName)
                y = try TensorDataset.oneHot(labels, samples: xEntry.shape[0], classes: classes, url: url, tensor: yName)
            } else if requireLabels {
                throw TensorFileError(url, tensor: yName, "missing: training needs labels, one-hot (N, classes) or integers (N)")
            }
        } catch {
            close(descriptor)
            throw error
        }
        let rows = TensorFileRows(url: url, descriptor: descriptor, x: xEntry, dataStart: header.dataStart, y: y)
        try rows.checkValues(tensor: xName)
        return rows
    }

    /// Reads `entry` whole (labels: small beside x).
    private static func readTensor(_ entry: SafeTensorsFile.Entry, descriptor: Int32, dataStart: Int, url: URL,
                                   name: String) throws(TensorFileError) -> Tensor {
        let count = entry.shape.reduce(1, *)
        var bytes = [UInt8](repeating: 0, count: entry.range.count)
        try readFully(descriptor, into: &bytes, count: entry.range.count, at: dataStart + entry.range.lowerBound, url: url,
                      what: "tensor '\(name)'")
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, n in
            bytes.withUnsafeBytes { SafeTensorsFile.convert($0, dtype: entry.dtype, count: count, into: buffer.baseAddress!) }
            n = count
        }
        return Tensor(shape: entry.shape, data: values)
    }

    /// Goes through every row once: refuses NaN and infinite values, and x reshaped
    /// instead of having its axes moved (judged on the first rows, as `load` does).
    private func checkValues(tensor: String) throws {
        var values = [Float](repeating: 0, count: rowElements), buffer: [UInt8] = []
        var nonFinite = NonFiniteCount()
        var firstRows: [Float] = []
        let firstCount = min(count, 4)
        for row in 0..<count {
            try values.withUnsafeMutableBufferPointer { out throws(TensorFileError) in
                try read(row, into: out.baseAddress!, buffer: &buffer)
            }
            values.withUnsafeBufferPointer { nonFinite.add($0, at: row * rowElements) }
            if row < firstCount { firstRows += values }
        }
        try nonFinite.check(url: url, tensor: tensor, perSample: rowElements)
        try TensorDataset.checkNotReshaped(Tensor(shape: [firstCount] + sampleShape, data: firstRows), url: url, tensor: tensor)
    }

    /// Writes sample `row` (T, H, W, C) as Float32 to `out`, reading the file into
    /// `buffer` (grown when too small, reused between calls).
    public func read(_ row: Int, into out: UnsafeMutablePointer<Float>, buffer: inout [UInt8]) throws(TensorFileError) {
        precondition(row >= 0 && row < count, "row out of range")
        let bytes = rowBytes
        if buffer.count < bytes { buffer = [UInt8](repeating: 0, count: bytes) }
        try Self.readFully(descriptor, into: &buffer, count: bytes, at: start + row * bytes, url: url, what: "sample \(row)")
        let (dtype, elements) = (dtype, rowElements)
        buffer.withUnsafeBytes {
            SafeTensorsFile.convert(UnsafeRawBufferPointer(rebasing: $0[..<bytes]), dtype: dtype, count: elements, into: out)
        }
    }

    /// `count` bytes at `offset`; fewer means the file shrank since it was opened.
    private static func readFully(_ descriptor: Int32, into buffer: inout [UInt8], count: Int, at offset: Int, url: URL,
                                  what: String) throws(TensorFileError) {
        var done = 0, failure: Int32 = 0
        buffer.withUnsafeMutableBytes { raw in
            while done < count {
                let got = pread(descriptor, raw.baseAddress! + done, count - done, off_t(offset + done))
                if got < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if got == 0 { return }
                done += got
            }
        }
        if failure != 0 { throw TensorFileError(url, "cannot read \(what): \(String(cString: strerror(failure)))") }
        guard done == count else {
            var status = stat()
            let size = fstat(descriptor, &status) == 0 ? "\(status.st_size) bytes" : "a shorter size"
            throw TensorFileError(url, "the file shrank while it was read: \(what) lies at bytes \(offset) to \(offset + count), "
                                  + "but the file now has \(size)")
        }
    }
}
