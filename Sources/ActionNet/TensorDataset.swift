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
        guard let first = x.data.firstIndex(where: { !$0.isFinite }) else { return }
        let perSample = x.count / max(x.shape[0], 1)
        let bad = x.data.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        throw TensorFileError(url, tensor: tensor, "\(bad) values are NaN or infinite (the first in sample \(first / perSample), "
                              + "value \(x.data[first])); replace them, e.g. x = np.nan_to_num(x)")
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
