/// Max pooling of height and width by `size` with stride `size` and "same" padding:
/// the output has ceil(n / size) rows and columns, and the padding goes at the end
/// (as TensorFlow pads: the smaller half before), so an odd edge pools fewer values.
/// On (T, H, W, C) sequences this is Keras's MaxPool3D((1, s, s)); on (H, W, C) frames
/// it is MaxPool2D((s, s)).
public final class MaxPool: Layer {
    public let name: String
    public var typeName: String { inputShape.count == 4 ? "MaxPool3D" : "MaxPool2D" }
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let size: Int
    public var parameterOffset = 0
    public var parameters: [ParameterSpec] { [] }

    /// Where the gradient of a window's maximum goes. By default to the first maximum
    /// only, as Keras's compiled training step (TensorFlow graph mode, oneDNN) does. With
    /// a tolerance, in full to every value of the window within it of the maximum: that
    /// is TensorFlow's eager CPU MaxPool3DGrad kernel (|x - max| < 1e-5), which an eager
    /// GradientTape uses, as the reference gradients in the test fixtures were made.
    public var nearTieTolerance: Float

    private let frames: Int, H: Int, W: Int, C: Int, outH: Int, outW: Int, padTop: Int, padLeft: Int
    private var trainedBatch = -1

    public init(name: String, inputShape: [Int], size: Int = 2) {
        precondition(inputShape.count == 3 || inputShape.count == 4, "MaxPool takes (T, H, W, C) or (H, W, C)")
        self.name = name
        self.inputShape = inputShape
        self.size = size
        let r = inputShape.count
        (H, W, C) = (inputShape[r - 3], inputShape[r - 2], inputShape[r - 1])
        frames = r == 4 ? inputShape[0] : 1
        outH = (H + size - 1) / size
        outW = (W + size - 1) / size
        padTop = max((outH - 1) * size + size - H, 0) / 2
        padLeft = max((outW - 1) * size + size - W, 0) / 2
        outputShape = Array(inputShape.dropLast(3)) + [outH, outW, C]
        nearTieTolerance = 0
    }

    /// Calls `body(o, window)` for every output index o with the input indices of its window.
    @inline(__always)
    private func forEachWindow(batch: Int, _ body: (Int, _ base: Int, _ rows: Range<Int>, _ columns: Range<Int>) -> Void) {
        for n in 0..<(batch * frames) {
            let inBase = n * H * W * C, outBase = n * outH * outW * C
            for oy in 0..<outH {
                let rows = max(oy * size - padTop, 0) ..< min(oy * size - padTop + size, H)
                for ox in 0..<outW {
                    let columns = max(ox * size - padLeft, 0) ..< min(ox * size - padLeft + size, W)
                    body(outBase + (oy * outW + ox) * C, inBase, rows, columns)
                }
            }
        }
    }

    public func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch: Int,
                        parameters: UnsafeMutablePointer<Float>, training: Bool) {
        let (W, C) = (self.W, self.C)
        forEachWindow(batch: batch) { o, base, rows, columns in
            for c in 0..<C {
                var best = -Float.infinity
                for y in rows { for x in columns { best = max(best, input[base + (y * W + x) * C + c]) } }
                output[o + c] = best
            }
        }
        if training { trainedBatch = batch }
    }

    public func backward(dInput: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        guard let dInput else { return }
        precondition(trainedBatch == batch, "\(name): backward needs a training-mode forward pass first")
        let (W, C, tolerance) = (self.W, self.C, nearTieTolerance)
        forEachWindow(batch: batch) { o, base, rows, columns in
            for c in 0..<C {
                let best = output[o + c], g = dOutput[o + c]
                var routed = false
                for y in rows {
                    for x in columns {
                        let i = base + (y * W + x) * C + c
                        if tolerance > 0 ? best - input[i] < tolerance : (!routed && input[i] == best) {
                            dInput[i] += g
                            routed = true
                        }
                    }
                }
            }
        }
    }
}

/// Copies (H, W, C) to (H*W*C): the memory order is already Keras's flatten order.
public final class Flatten: Layer {
    public let name: String
    public var typeName: String { "Flatten" }
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var parameterOffset = 0
    public var parameters: [ParameterSpec] { [] }

    public init(name: String, inputShape: [Int]) {
        self.name = name
        self.inputShape = inputShape
        outputShape = [inputShape.reduce(1, *)]
    }

    public func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch: Int,
                        parameters: UnsafeMutablePointer<Float>, training: Bool) {
        output.update(from: input, count: batch * inputSize)
    }

    public func backward(dInput: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        guard let dInput else { return }
        for i in 0..<(batch * inputSize) { dInput[i] += dOutput[i] }
    }
}
