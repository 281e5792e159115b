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
    /// For each output of the last training pass, where its gradient goes: for windows of
    /// up to 64 positions a bit per position (1, 4 or 8 bytes per output); for larger
    /// ones (a global max pool over a big map) the position of the first maximum alone,
    /// 4 bytes, so the near-tie tolerance applies only to windows of up to 8x8.
    private var routes: UnsafeMutableRawPointer?
    private var routesCapacity = 0
    private var routesAreIndices: Bool { size * size > 64 }
    private var routeBytes: Int {
        switch size * size {
        case ...8: 1
        case ...32: 4
        case ...64: 8
        default: 4
        }
    }

    deinit { routes?.deallocate() }

    /// Bytes of the routes of a training pass of `batch` samples.
    private func routesBytes(batch: Int) -> Int { batch * outputSize * routeBytes }

    public func trainingWorkingBytes(batch: Int, inputGradient: Bool) -> Int { routesBytes(batch: batch) }
    public var heldWorkingBytes: Int { routesCapacity }

    /// The backward pass uses the routes kept in the forward pass, not the activations.
    public var needsInputForBackward: Bool { false }
    public var needsOutputForBackward: Bool { false }

    public init(name: String, inputShape: [Int], size: Int = 2) {
        precondition(inputShape.count == 3 || inputShape.count == 4, "MaxPool takes (T, H, W, C) or (H, W, C)")
        precondition(size >= 1, "MaxPool windows are at least 1x1")
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

    /// Calls `body(o, base, rows, columns, top, left)` for every window: o is the index of
    /// its first output, base the input offset of its frame, rows and columns the input
    /// range it covers, (top, left) its unclipped corner (for route bit positions).
    /// Frames are split over the threads: windows never overlap (the stride is the
    /// window), so neither do the outputs, routes and input gradients of two frames.
    @inline(__always)
    private func forEachWindow(batch: Int, _ body: (Int, Int, Range<Int>, Range<Int>, Int, Int) -> Void) {
        let frameCount = batch * frames
        let (H, W, C, size, outH, outW, padTop, padLeft) = (H, W, C, size, outH, outW, padTop, padLeft)
        withoutActuallyEscaping(body) { body in
            Parallel.splitting(frameCount, parts: Parallel.parts(frameCount, grain: 1)) { run in
                run { _, frames in
                    for n in frames {
                        let inBase = n * H * W * C, outBase = n * outH * outW * C
                        for oy in 0..<outH {
                            let top = oy * size - padTop
                            let rows = max(top, 0) ..< min(top + size, H)
                            for ox in 0..<outW {
                                let left = ox * size - padLeft
                                let columns = max(left, 0) ..< min(left + size, W)
                                body(outBase + (oy * outW + ox) * C, inBase, rows, columns, top, left)
                            }
                        }
                    }
                }
            }
        }
    }

    public func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch: Int,
                        parameters: UnsafeMutablePointer<Float>, training: Bool) {
        let (W, C, size, bytes) = (self.W, self.C, self.size, routeBytes)
        let tolerance = routesAreIndices ? 0 : nearTieTolerance
        let unset = UInt64.max
        if training, routesCapacity < routesBytes(batch: batch) {
            routes?.deallocate()
            routesCapacity = routesBytes(batch: batch)
            routes = UnsafeMutableRawPointer.allocate(byteCount: routesCapacity, alignment: 8)
        }
        let routes = training ? self.routes : nil
        // Channels innermost: every loop runs over C contiguous values.
        forEachWindow(batch: batch) { o, base, rows, columns, top, left in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: C) { bitsBuffer in
                let bits = bitsBuffer.baseAddress!
                let best = output + o
                best.update(repeating: -.infinity, count: C)
                for y in rows {
                    for x in columns {
                        let src = input + base + (y * W + x) * C
                        for c in 0..<C { best[c] = max(best[c], src[c]) }
                    }
                }
                guard let routes else { return }
                if routesAreIndices {
                    // The position of the first maximum, in window coordinates.
                    bits.update(repeating: unset, count: C)
                    for y in rows {
                        for x in columns {
                            let src = input + base + (y * W + x) * C, position = UInt64((y - top) * size + (x - left))
                            for c in 0..<C where bits[c] == unset && src[c] == best[c] { bits[c] = position }
                        }
                    }
                    for c in 0..<C { routes.storeBytes(of: UInt32(truncatingIfNeeded: bits[c]), toByteOffset: (o + c) * 4, as: UInt32.self) }
                    return
                }
                bits.update(repeating: 0, count: C)
                for y in rows {
                    for x in columns {
                        let src = input + base + (y * W + x) * C, bit = UInt64(1) << UInt64((y - top) * size + (x - left))
                        // Branch-free, as the backward pass's loops.
                        if tolerance > 0 {
                            for c in 0..<C { bits[c] |= best[c] - src[c] < tolerance ? bit : 0 }
                        } else {
                            for c in 0..<C { bits[c] = bits[c] == 0 && src[c] == best[c] ? bit : bits[c] }
                        }
                    }
                }
                switch bytes {
                case 1:
                    let r = routes + o
                    for c in 0..<C { r.storeBytes(of: UInt8(truncatingIfNeeded: bits[c]), toByteOffset: c, as: UInt8.self) }
                case 4:
                    let r = routes + 4 * o
                    for c in 0..<C { r.storeBytes(of: UInt32(truncatingIfNeeded: bits[c]), toByteOffset: 4 * c, as: UInt32.self) }
                default:
                    let r = routes + 8 * o
                    for c in 0..<C { r.storeBytes(of: bits[c], toByteOffset: 8 * c, as: UInt64.self) }
                }
            }
        }
        if training { trainedBatch = batch }
    }

    public func backward(dInput: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        guard let dInput else { return }
        precondition(trainedBatch == batch, "\(name): backward needs a training-mode forward pass first")
        let (W, C, size, bytes, routes) = (self.W, self.C, self.size, routeBytes, self.routes!)
        let indices = routesAreIndices
        forEachWindow(batch: batch) { o, base, rows, columns, top, left in
            let g = dOutput + o
            for y in rows {
                for x in columns {
                    let dst = dInput + base + (y * W + x) * C, position = (y - top) * size + (x - left)
                    if indices {
                        for c in 0..<C where routes.load(fromByteOffset: (o + c) * 4, as: UInt32.self) == UInt32(position) { dst[c] += g[c] }
                        continue
                    }
                    // Branch-free (adding 0 where the gradient goes elsewhere) and with the
                    // routes' base hoisted, so that no index needs an overflow check: the
                    // loops vectorise. With a branch per value, a quarter of them taken at
                    // random for 2x2 windows, this was 3% of a step's time.
                    let bit = UInt64(1) << UInt64(position)
                    switch bytes {
                    case 1:
                        let r = UnsafeRawPointer(routes + o), b = UInt8(truncatingIfNeeded: bit)
                        for c in 0..<C { dst[c] += r.load(fromByteOffset: c, as: UInt8.self) & b != 0 ? g[c] : 0 }
                    case 4:
                        let r = UnsafeRawPointer(routes + 4 * o), b = UInt32(truncatingIfNeeded: bit)
                        for c in 0..<C { dst[c] += r.load(fromByteOffset: 4 * c, as: UInt32.self) & b != 0 ? g[c] : 0 }
                    default:
                        let r = UnsafeRawPointer(routes + 8 * o)
                        for c in 0..<C { dst[c] += r.load(fromByteOffset: 8 * c, as: UInt64.self) & bit != 0 ? g[c] : 0 }
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

    public var needsInputForBackward: Bool { false }
    public var needsOutputForBackward: Bool { false }

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
