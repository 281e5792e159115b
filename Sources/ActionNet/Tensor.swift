/// A dense Float32 array with a shape, stored row-major (the last axis varies fastest).
///
/// Model inputs are (N, T, H, W, C): samples, timesteps, height, width, channels.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    /// A tensor of `shape` holding `data`; the element count must match the shape.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == data.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// Number of elements.
    public var count: Int { data.count }

    /// The shape written as Python would, e.g. "(8, 16, 64, 64, 1)".
    public var shapeDescription: String { Tensor.describe(shape) }

    /// Writes a shape as a Python tuple: "(3, 4)", "(5,)", "()".
    public static func describe(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// The samples `range` of the first axis, e.g. one batch of a dataset.
    public func samples(_ range: Range<Int>) -> Tensor {
        precondition(!shape.isEmpty && range.lowerBound >= 0 && range.upperBound <= shape[0])
        let per = shape.dropFirst().reduce(1, *)
        return Tensor(shape: [range.count] + shape.dropFirst(),
                      data: Array(data[range.lowerBound * per ..< range.upperBound * per]))
    }

    /// The samples at `indices` of the first axis, in that order (a shuffled batch).
    public func samples(at indices: [Int]) -> Tensor {
        precondition(!shape.isEmpty)
        let per = shape.dropFirst().reduce(1, *)
        var out = [Float]()
        out.reserveCapacity(indices.count * per)
        for i in indices {
            precondition(i >= 0 && i < shape[0])
            out.append(contentsOf: data[i * per ..< (i + 1) * per])
        }
        return Tensor(shape: [indices.count] + shape.dropFirst(), data: out)
    }
}
