import COpenBLAS

/// ConvLSTM2D as Keras 3 computes it, with "same" padding, zero initial state, gate
/// order i, f, c (here g), o in every weight, sigmoid gates and tanh activations:
///
///     z_t = conv([x_t, h_(t-1)], [kernel; recurrent_kernel]) + bias     (P, 4F)
///     i, f, o = sigmoid(z_i, z_f, z_o);  g = tanh(z_g)
///     c_t = f * c_(t-1) + i * g;         h_t = o * tanh(c_t)
///
/// 3x3 kernels (the seed stack's) go through Winograd F(4x4, 3x3), in
/// `ConvLSTM2D+Winograd.swift`. Other sizes, or `algorithm = .im2col`: for each
/// timestep, the im2col of [x_t, h_(t-1)] for the whole batch, (P, K) with K = k*k*C +
/// k*k*F, times the stacked weights (K, 4F) in one sgemm. The kernel and recurrent
/// kernel are adjacent in the parameter buffer, so the stacked weight matrix is those
/// two tensors read as one. For backprop only the activated gates and the cell states
/// are kept; the im2col (or the Winograd input transform) of each step is rebuilt.
///
/// Dropout and recurrent dropout are variational: one mask per sequence, drawn at the
/// start of a training-mode forward pass, shared by all timesteps and all four gates.
public final class ConvLSTM2D: MatrixProductLayer, TrainingStateLayer {
    public let name: String
    public var typeName: String { "ConvLSTM2D" }
    /// (T, H, W, C)
    public let inputShape: [Int]
    /// (T, H, W, F) with return sequences, else (H, W, F): the last timestep only.
    public let outputShape: [Int]
    public let filters: Int
    public let kernelSize: Int
    public let returnSequences: Bool
    public var dropout: Float
    public var recurrentDropout: Float
    public var parameterOffset = 0

    /// Masks to use in training instead of random ones: input (B, H, W, C) and
    /// recurrent (B, H, W, F), already scaled by 1/(1 - rate). For testing the backward
    /// pass with dropout.
    public var fixedMasks: (input: [Float], recurrent: [Float])?

    /// Gives the dropout masks a random stream of their own for replica `replica` of
    /// data-parallel training, whose replicas share a seed but train different samples;
    /// the stream still follows from the layer's seed. Replica 0 keeps the layer's stream.
    public func separateDropoutStream(forReplica replica: Int) {
        guard replica > 0 else { return }
        random = SeededGenerator(seed: random.next() ^ (UInt64(replica) &* 0x9E37_79B9_7F4A_7C15))
    }

    /// Threads to split the work over; nil for `BLAS.threads`.
    public var threads: Int?

    /// The layer's working buffers of at least this many bytes are memory-mapped, so that
    /// `discardTrainingState` hands their memory back to the system (0: every buffer).
    var bufferMappingThreshold = FloatBuffer.defaultMappingThreshold

    /// `ensure` with the layer's mapping threshold.
    func ensureBuffer(_ buffer: inout FloatBuffer?, _ count: Int) -> FloatBuffer {
        ensure(&buffer, count, mappingThreshold: bufferMappingThreshold)
    }

    /// How the convolutions are computed: Winograd F(4x4, 3x3) for 3x3 kernels (4x
    /// fewer multiplications), im2col and one sgemm for other sizes or when asked for.
    public enum Algorithm: String, Sendable, CaseIterable { case winograd, im2col }
    public var algorithm: Algorithm

    /// The layer's matrix products, in the model's precision.
    let matmul = MatrixProduct()
    var usesWinograd: Bool { algorithm == .winograd && k == 3 }

    private var random: SeededGenerator
    let T: Int, H: Int, W: Int, C: Int, F: Int, k: Int
    /// Columns of the input part (k*k*C) and of both parts (K = k*k*C + k*k*F).
    let kx: Int, kAll: Int

    // In the model's activation arena when the layer is part of a model (`useTrainingStateMemory`):
    var gates: FloatBuffer?       // (T, P, 4F) activated i, f, g, o (one step at inference with im2col, none with Winograd)
    var cells: FloatBuffer?       // (T, P, F) cell states (two steps at inference)
    var hidden: FloatBuffer?      // (2, P, F) hidden states: the last two in forward, h_(t-1) in backward
    var columns: FloatBuffer?     // (parts, tile, K) im2col of [x_t, h_(t-1)], a tile per part
    var dColumns: FloatBuffer?    // (P, K)
    var dGates: FloatBuffer?      // (P, 4F) d(loss)/d(pre-activation gates)
    var dHidden: FloatBuffer?     // (P, F) d(loss)/d(h_(t-1)) carried back in time
    var dCell: FloatBuffer?       // (P, F) d(loss)/d(c_(t-1)) carried back in time
    var partialGradients: FloatBuffer? // (parts, K + 1, 4F) per-part weight and bias gradients (Winograd: 36(C + F) + 1 rows)
    var inputMask: FloatBuffer?   // (B, H, W, C), nil without input dropout
    var recurrentMask: FloatBuffer? // (B, H, W, F), nil without recurrent dropout
    var lastForwardStored = false
    // Winograd path only:
    var transformedKernel: FloatBuffer?   // (36, C + F, 4F) U = G g G^T of kernel and recurrent kernel
    var transposedKernel: FloatBuffer?    // (36, 4F, C + F) U^T, for the backward pass's input gradient
    var paddedInput: FloatBuffer?         // (B, 4 TH + 2, 4 TW + 2, C + F) a step's [x_t, h_(t-1)], zero-bordered
    var tileScratch: FloatBuffer?         // per part: V and M (or dM) of a chunk of tiles
    var paddedInputGradient: FloatBuffer? // (B, 4 TH + 2, 4 TW + 2, C + F) the gradient of `paddedInput`

    public init(name: String, inputShape: [Int], filters: Int, kernelSize: Int = 3,
                returnSequences: Bool, dropout: Float = 0, recurrentDropout: Float = 0, seed: UInt64 = 0) {
        precondition(inputShape.count == 4, "ConvLSTM2D takes (T, H, W, C) sequences")
        precondition(kernelSize % 2 == 1, "ConvLSTM2D with same padding needs an odd kernel")
        self.name = name
        self.inputShape = inputShape
        self.filters = filters
        self.kernelSize = kernelSize
        self.returnSequences = returnSequences
        self.dropout = dropout
        self.recurrentDropout = recurrentDropout
        random = SeededGenerator(seed: seed)
        (T, H, W, C, F, k) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3], filters, kernelSize)
        kx = k * k * C
        kAll = kx + k * k * F
        outputShape = returnSequences ? [T, H, W, F] : [H, W, F]
        algorithm = kernelSize == 3 ? .winograd : .im2col
    }

    public var parameters: [ParameterSpec] {
        [ParameterSpec(name: "kernel", shape: [k, k, C, 4 * F], trainable: true,
                       initializer: .glorotUniform(fanIn: k * k * C, fanOut: k * k * 4 * F)),
         ParameterSpec(name: "recurrent_kernel", shape: [k, k, F, 4 * F], trainable: true,
                       initializer: .orthogonal),
         ParameterSpec(name: "bias", shape: [4 * F], trainable: true, initializer: .lstmBias(units: F))]
    }

    // MARK: im2col

    /// Fills `columns` (pixels.count, K) with the im2col rows of `pixels` for one timestep. Row p = (b, y, x) holds,
    /// for each kernel offset (ky, kx), the C inputs x_t[b, y+ky-pad, x+kx-pad, :] (times
    /// the input mask), then for each offset the F values of h_(t-1) (times the recurrent
    /// mask); zeros outside the frame. `x` and `h` point at sample 0 of the timestep,
    /// samples `xStride` and `hStride` apart; without `h` (t = 0) only the input part is written.
    private func im2col(_ columns: UnsafeMutablePointer<Float>, pixels: Range<Int>,
                        x: UnsafePointer<Float>, xStride: Int, h: UnsafePointer<Float>?, hStride: Int) {
        let pad = k / 2
        let xm = inputMask?.pointer, hm = recurrentMask?.pointer
        for p in pixels {
            let b = p / (H * W), y = (p / W) % H, xx = p % W
            let xb = x + b * xStride
            let hb = h.map { $0 + b * hStride }
            let row = columns + (p - pixels.lowerBound) * kAll
            for ky in 0..<k {
                let sy = y + ky - pad
                for kxi in 0..<k {
                    let sx = xx + kxi - pad
                    let offset = ky * k + kxi
                    let dx = row + offset * C
                    let dh = row + kx + offset * F
                    if sy < 0 || sy >= H || sx < 0 || sx >= W {
                        dx.update(repeating: 0, count: C)
                        if hb != nil { dh.update(repeating: 0, count: F) }
                        continue
                    }
                    let pixel = sy * W + sx
                    let src = xb + pixel * C
                    if let xm {
                        let m = xm + (b * H * W + pixel) * C
                        for c in 0..<C { dx[c] = src[c] * m[c] }
                    } else {
                        dx.update(from: src, count: C)
                    }
                    if let hb {
                        let hsrc = hb + pixel * F
                        if let hm {
                            let m = hm + (b * H * W + pixel) * F
                            for c in 0..<F { dh[c] = hsrc[c] * m[c] }
                        } else {
                            dh.update(from: hsrc, count: F)
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col` for destination pixels `pixels`: adds the input part of
    /// `dColumns` into dx_t (when given) and the recurrent part into dh_(t-1) (when
    /// given), each times its mask. A gather over destinations, so parts never add into
    /// the same value.
    private func col2im(_ dColumns: UnsafePointer<Float>, pixels: Range<Int>,
                        dx: UnsafeMutablePointer<Float>?, xStride: Int,
                        dh: UnsafeMutablePointer<Float>?, hStride: Int) {
        let pad = k / 2
        let xm = inputMask?.pointer, hm = recurrentMask?.pointer
        for q in pixels {
            let b = q / (H * W), sy = (q / W) % H, sx = q % W, pixel = sy * W + sx
            let dxp = dx.map { $0 + b * xStride + pixel * C }
            let dhp = dh.map { $0 + b * hStride + pixel * F }
            let xmp = xm.map { $0 + (b * H * W + pixel) * C }
            let hmp = hm.map { $0 + (b * H * W + pixel) * F }
            for ky in 0..<k {
                let y = sy - ky + pad
                if y < 0 || y >= H { continue }
                for kxi in 0..<k {
                    let xx = sx - kxi + pad
                    if xx < 0 || xx >= W { continue }
                    let offset = ky * k + kxi
                    let row = dColumns + ((b * H + y) * W + xx) * kAll
                    if let dxp {
                        let src = row + offset * C
                        if let xmp { for c in 0..<C { dxp[c] += src[c] * xmp[c] } }
                        else { for c in 0..<C { dxp[c] += src[c] } }
                    }
                    if let dhp {
                        let src = row + kx + offset * F
                        if let hmp { for c in 0..<F { dhp[c] += src[c] * hmp[c] } }
                        else { for c in 0..<F { dhp[c] += src[c] } }
                    }
                }
            }
        }
    }

    // MARK: cell arithmetic

    /// One pixel's cell update from its pre-activation gates `z` (4F, activated in
    /// place): i, f, o = sigmoid; g = tanh; c = f c' + i g; h = o tanh(c).
    ///
    /// One loop over the channels, which the compiler vectorises (checking at run time
    /// that `c` and `h` do not overlap the gates) as long as its indices need no overflow
    /// checks: hence a pointer per gate instead of z[F + j].
    @inline(__always)
    func activate(_ z: UnsafeMutablePointer<Float>, cellPrevious: UnsafePointer<Float>?,
                  cell c: UnsafeMutablePointer<Float>, hidden h: UnsafeMutablePointer<Float>) {
        let F = self.F
        let zi = z, zf = z + F, zg = z + 2 * F, zo = z + 3 * F
        if let cp = cellPrevious {
            for j in 0..<F {
                let i = fastSigmoid(zi[j]), f = fastSigmoid(zf[j]), g = fastTanh(zg[j]), o = fastSigmoid(zo[j])
                (zi[j], zf[j], zg[j], zo[j]) = (i, f, g, o)
                let cell = f * cp[j] + i * g
                c[j] = cell
                h[j] = o * fastTanh(cell)
            }
        } else {
            for j in 0..<F {
                let i = fastSigmoid(zi[j]), f = fastSigmoid(zf[j]), g = fastTanh(zg[j]), o = fastSigmoid(zo[j])
                (zi[j], zf[j], zg[j], zo[j]) = (i, f, g, o)
                let cell = i * g
                c[j] = cell
                h[j] = o * fastTanh(cell)
            }
        }
    }

    /// d(loss)/d(pre-activation gates) of step t for `pixels` into `dZ`, from the kept
    /// activated gates `z` and cells of the step, the gradient arriving at h_t (`dH`
    /// from step t+1 plus the output's `dOut`, nil when the output does not hold step
    /// t) and at c_t (`dC`, replaced by the gradient for c_(t-1)). Adds the pixels' dZ
    /// into `dBias` (4F) on the way: the bias gradient without another pass over dZ.
    func gateGradients(pixels: Range<Int>, z: UnsafePointer<Float>, cell c: UnsafePointer<Float>,
                       cellPrevious cPrev: UnsafePointer<Float>?, dOut: UnsafePointer<Float>?, dOutStride: Int,
                       dZ: UnsafeMutablePointer<Float>, dH: UnsafePointer<Float>, dC: UnsafeMutablePointer<Float>,
                       dBias: UnsafeMutablePointer<Float>) {
        let F = self.F, G = 4 * F, hw = H * W
        // tanh(c_t) of one pixel, and zeros standing in for a missing c_(t-1) or
        // output gradient, so that the loop below has no branches and vectorises.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * F) { scratch in
            let tanhCell = scratch.baseAddress!, zeros = tanhCell + F
            zeros.update(repeating: 0, count: F)
            for p in pixels {
                let b = p / hw, q = p % hw
                let zp = z + p * G, dzp = dZ + p * G, cp = c + p * F
                let dhp = dH + p * F, dcp = dC + p * F
                let cpp = cPrev.map { $0 + p * F } ?? UnsafePointer(zeros)
                let dop = dOut.map { $0 + b * dOutStride + q * F } ?? UnsafePointer(zeros)
                tanhCell.update(from: cp, count: F)
                applyTanh(tanhCell, F)
                var j = 0
                while j + 8 <= F {
                    Self.gateGradients(SIMD8<Float>.self, j, F, zp, dzp, cpp, dhp, dop, tanhCell, dcp, dBias); j += 8
                }
                while j < F { Self.gateGradients(Float.self, j, F, zp, dzp, cpp, dhp, dop, tanhCell, dcp, dBias); j += 1 }
            }
        }
    }

    /// `gateGradients` for channels j ..< j + lanes of one pixel.
    @inline(__always)
    private static func gateGradients<L: FloatLanes>(_: L.Type, _ j: Int, _ F: Int, _ z: UnsafePointer<Float>,
                                                     _ dz: UnsafeMutablePointer<Float>, _ cPrev: UnsafePointer<Float>,
                                                     _ dH: UnsafePointer<Float>, _ dOut: UnsafePointer<Float>,
                                                     _ tanhCell: UnsafePointer<Float>, _ dC: UnsafeMutablePointer<Float>,
                                                     _ dBias: UnsafeMutablePointer<Float>) {
        let i = L(z + j), f = L(z + F + j), g = L(z + 2 * F + j), o = L(z + 3 * F + j)
        let dh = L(dH + j) + L(dOut + j)
        let tc = L(tanhCell + j)
        let dc = L(dC + j) + dh * o * (L.one - tc * tc)
        let di = dc * g * i * (L.one - i), df = dc * L(cPrev + j) * f * (L.one - f)
        let dg = dc * i * (L.one - g * g), dO = dh * tc * o * (L.one - o)
        di.store(dz + j); df.store(dz + F + j); dg.store(dz + 2 * F + j); dO.store(dz + 3 * F + j)
        (dc * f).store(dC + j)
        (L(dBias + j) + di).store(dBias + j); (L(dBias + F + j) + df).store(dBias + F + j)
        (L(dBias + 2 * F + j) + dg).store(dBias + 2 * F + j); (L(dBias + 3 * F + j) + dO).store(dBias + 3 * F + j)
    }

    // MARK: forward

    func prepareMasks(_ work: Workspace, training: Bool) {
        inputMask = nil
        recurrentMask = nil
        guard training else { return }
        if let fixed = fixedMasks {
            precondition(fixed.input.count == work.inputMask && fixed.recurrent.count == work.recurrentMask,
                         "\(name): fixed masks must be (B, H, W, C) and (B, H, W, F)")
            let xm = FloatBuffer(count: fixed.input.count), hm = FloatBuffer(count: fixed.recurrent.count)
            xm.pointer.update(from: fixed.input, count: fixed.input.count)
            hm.pointer.update(from: fixed.recurrent, count: fixed.recurrent.count)
            (inputMask, recurrentMask) = (xm, hm)
            return
        }
        func draw(_ count: Int, _ rate: Float) -> FloatBuffer? {
            guard rate > 0 else { return nil }
            let mask = FloatBuffer(count: count), keep = 1 / (1 - rate)
            for i in 0..<count { mask.pointer[i] = Float(random.nextUnit()) < rate ? 0 : keep }
            return mask
        }
        inputMask = draw(work.inputMask, dropout)
        recurrentMask = draw(work.recurrentMask, recurrentDropout)
    }

    /// Rows of im2col built and multiplied at a time: small enough to stay in cache
    /// between the copy and the sgemm, large enough for an efficient sgemm.
    var tileRows = 1024

    /// Work is split by pixels over `BLAS.threads` parts, each running its own
    /// single-threaded sgemm on its rows, so that no thread waits or spins between the
    /// products and the gate arithmetic.
    public func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch: Int,
                        parameters: UnsafeMutablePointer<Float>, training: Bool) {
        if usesWinograd {
            return forwardWinograd(output: output, input: input, batch: batch, parameters: parameters, training: training)
        }
        let P = batch * H * W, hw = H * W, G = 4 * F, F = self.F, K = kAll, tile = tileRows
        let work = workspace(batch: batch), parts = work.parts
        let gates = ensureBuffer(&self.gates, (training ? T : 1) * P * G).pointer
        let cells = ensureBuffer(&self.cells, (training ? T : 2) * P * F).pointer
        let hidden: UnsafeMutablePointer<Float>? = returnSequences ? nil : ensureBuffer(&self.hidden, work.hidden).pointer
        let columns = ensureBuffer(&self.columns, work.columns).pointer      // (parts, tile, K)
        let weights = UnsafePointer(parameters + offset(of: "kernel"))   // (K, 4F): kernel rows, then recurrent rows
        matmul.holdConstant(weights, count: K * G)
        let bias = UnsafePointer(parameters + offset(of: "bias"))
        prepareMasks(work, training: training)
        lastForwardStored = training

        // Where h_t lives: in the output (B, T, H, W, F) or in `hidden` (2 slots, P, F).
        func hiddenState(_ t: Int) -> (UnsafeMutablePointer<Float>, stride: Int) {
            if let hidden { return (hidden + t % 2 * P * F, hw * F) }
            return (output + t * hw * F, T * hw * F)
        }

        Parallel.splitting(P, parts: parts) { run in
            for t in 0..<T {
                let z = gates + (training ? t : 0) * P * G                 // (P, 4F)
                let c = cells + (training ? t : t % 2) * P * F             // (P, F)
                let cPrev: UnsafeMutablePointer<Float>? = t == 0 ? nil : cells + (training ? t - 1 : (t - 1) % 2) * P * F
                let hPrev = t == 0 ? nil : hiddenState(t - 1)
                let (h, hStride) = hiddenState(t)
                let x = input + t * hw * C
                run { part, pixels in
                    let tileColumns = columns + part * tile * K
                    for start in stride(from: pixels.lowerBound, to: pixels.upperBound, by: tile) {
                        let rows = start ..< min(start + tile, pixels.upperBound)
                        for p in rows { (z + p * G).update(from: bias, count: G) }
                        self.im2col(tileColumns, pixels: rows, x: x, xStride: T * hw * C,
                                    h: hPrev.map { UnsafePointer($0.0) }, hStride: hPrev?.stride ?? 0)
                        self.matmul(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows.count), Int32(G),
                                    Int32(self.stepColumns(t)), 1, tileColumns, Int32(K), weights, Int32(G),
                                    1, z + start * G, Int32(G))
                        for p in rows {
                            let b = p / hw, q = p % hw
                            self.activate(z + p * G, cellPrevious: cPrev.map { UnsafePointer($0 + p * F) },
                                          cell: c + p * F, hidden: h + b * hStride + q * F)
                        }
                    }
                }
            }
        }
        if let hidden {
            output.update(from: hidden + (T - 1) % 2 * P * F, count: P * F)
        }
    }

    // MARK: working memory of the layer's own

    /// The floats of each working buffer the layer makes itself (outside the model's
    /// arena) for passes of `batch` samples, with its algorithm and threads: the passes
    /// size their buffers from it and `trainingWorkingBytes` counts it, so the count
    /// cannot drift from what is allocated.
    struct Workspace {
        /// Parts the work is split into (one per thread), each with its own scratch and
        /// partial gradients.
        var parts = 1
        var hidden = 0              // (2, P, F) h_t: forward without return sequences, and im2col's backward
        var dGates = 0              // (P, 4F)
        var dHidden = 0, dCell = 0  // (P, F) each
        var partialsPerPart = 0     // (rows + 1, 4F): a part's weight (im2col K, Winograd 36(C + F) rows) and bias gradients
        var partialGradients: Int { parts * partialsPerPart }
        var inputMask = 0, recurrentMask = 0   // (B, H, W, C) and (B, H, W, F)
        // im2col:
        var columns = 0             // (parts, tileRows, K)
        var dColumns = 0            // (P, K)
        // Winograd:
        var transformedKernel = 0   // (36, C + F, 4F), and as many floats for its transpose
        var paddedInput = 0         // (B, 4 TH + 2, 4 TW + 2, C + F), and as many for its gradient
        var forwardScratch = TileScratch(), backwardScratch = TileScratch()
    }

    func workspace(batch: Int) -> Workspace {
        let P = batch * H * W, G = 4 * F
        var work = Workspace()
        work.hidden = 2 * P * F
        work.dGates = P * G
        (work.dHidden, work.dCell) = (P * F, P * F)
        (work.inputMask, work.recurrentMask) = (P * C, P * F)
        if usesWinograd {
            addWinogradSizes(to: &work, batch: batch)
        } else {
            work.parts = Parallel.parts(P, threads: threads)
            work.columns = work.parts * tileRows * kAll
            work.dColumns = P * kAll
            work.partialsPerPart = (kAll + 1) * G
        }
        return work
    }

    /// Columns of step t's im2col rows that are multiplied: the first step has no
    /// recurrent half (h_(-1) = 0).
    func stepColumns(_ t: Int) -> Int { t == 0 ? kx : kAll }

    /// Columns of step t's im2col whose gradient the backward pass computes: the input's
    /// when it wants a gradient, h_(t-1)'s after the first step.
    func gradientColumns(step t: Int, inputGradient: Bool) -> Range<Int> {
        let first = inputGradient ? 0 : kx
        return first ..< max(first, stepColumns(t))
    }

    public func trainingWorkingBytes(batch: Int, inputGradient: Bool) -> Int {
        let work = workspace(batch: batch)
        var floats = work.dGates + work.dHidden + work.dCell + work.partialGradients
        if dropout > 0 || fixedMasks != nil { floats += work.inputMask }
        if recurrentDropout > 0 || fixedMasks != nil { floats += work.recurrentMask }
        if usesWinograd {
            floats += 2 * work.transformedKernel + 2 * work.paddedInput
                + max(work.forwardScratch.count, work.backwardScratch.count)   // one buffer, grown to the larger
            if !returnSequences { floats += work.hidden }
        } else {
            floats += work.columns + work.dColumns + work.hidden
        }
        // The packed copies of the forward pass's constant operands are freed when the
        // backward pass holds its own, and those when the next forward pass holds its own.
        let packed = packedBytes(inputGradient: inputGradient)
        return MemoryLayout<Float>.stride * floats + max(packed.forward, packed.backward)
    }

    /// Bytes of the packed copies of the constant operands the forward and the backward
    /// pass multiply by: one copy per distinct product shape (and per Winograd position).
    private func packedBytes(inputGradient: Bool) -> (forward: Int, backward: Int) {
        let G = 4 * F, steps = 0 ..< T
        if usesWinograd {
            let positions = WinogradF4x3.positions
            let forward = Set(steps.map(stepChannels)).reduce(0) { $0 + positions * matmul.packedBytes(k: $1, n: G) }
            let backward = Set(steps.map { gradientChannels(step: $0, inputGradient: inputGradient).count })
                .reduce(0) { $0 + positions * matmul.packedBytes(k: G, n: $1) }
            return (forward, backward)
        }
        let forward = Set(steps.map(stepColumns)).reduce(0) { $0 + matmul.packedBytes(k: $1, n: G) }
        let backward = Set(steps.map { gradientColumns(step: $0, inputGradient: inputGradient).count })
            .reduce(0) { $0 + matmul.packedBytes(k: G, n: $1) }
        return (forward, backward)
    }

    public var heldWorkingBytes: Int {
        let buffers = [gates, cells, hidden, columns, dColumns, dGates, dHidden, dCell, partialGradients,
                       inputMask, recurrentMask, transformedKernel, transposedKernel, paddedInput, tileScratch,
                       paddedInputGradient]
        return buffers.reduce(0) { $0 + ($1?.ownBytes ?? 0) } + matmul.mostPackedBytes
    }

    // MARK: training state in the model's arena

    /// Where the cell states start in the training state: after the gates, on a cache line.
    private func cellsOffset(pixels P: Int) -> Int { (T * P * 4 * F + 15) / 16 * 16 }

    /// The gates (T, P, 4F) and cell states (T, P, F) of a training pass, which is all
    /// the backward pass reads besides its input. At least two steps of cells, which an
    /// inference pass uses.
    func trainingStateCount(batch: Int) -> Int {
        let P = batch * H * W
        return cellsOffset(pixels: P) + max(T, 2) * P * F
    }

    /// The gates and cells of passes of up to `batch` samples in `memory` from now on,
    /// or (nil) in buffers of the layer's own, made at the next pass.
    func useTrainingStateMemory(_ memory: FloatBuffer?, batch: Int) {
        guard let memory else { (gates, cells) = (nil, nil); return }
        let P = batch * H * W
        precondition(memory.count >= trainingStateCount(batch: batch), "\(name): too little memory for the training state")
        gates = FloatBuffer(viewing: memory, offset: 0, count: T * P * 4 * F)
        cells = FloatBuffer(viewing: memory, offset: cellsOffset(pixels: P), count: max(T, 2) * P * F)
    }

    // MARK: backward

    public func discardTrainingState() {
        for buffer in [gates, cells, dColumns, dGates, columns, hidden, dHidden, dCell, paddedInputGradient] { buffer?.discard() }
    }

    /// Needs the gates and cells it kept, and its input; not its output (h is rebuilt
    /// from the kept o and c), so the model may reuse the output's memory for gradients.
    public var needsOutputForBackward: Bool { false }

    public func backward(dInput: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        precondition(lastForwardStored, "\(name): backward needs a training-mode forward pass first")
        if usesWinograd {
            return backwardWinograd(dInput: dInput, dOutput: dOutput, input: input, batch: batch,
                                    parameters: parameters, gradients: gradients)
        }
        let P = batch * H * W, hw = H * W, G = 4 * F, F = self.F, K = kAll, tile = tileRows
        let work = workspace(batch: batch), parts = work.parts
        let gates = self.gates!.pointer, cells = self.cells!.pointer
        let columns = ensureBuffer(&self.columns, work.columns).pointer     // (parts, tile, K)
        let dColumns = ensureBuffer(&self.dColumns, work.dColumns).pointer
        let dZ = ensureBuffer(&self.dGates, work.dGates).pointer
        let dH = ensureBuffer(&self.dHidden, work.dHidden).pointer     // d(loss)/d(h_t) from step t+1
        let dC = ensureBuffer(&self.dCell, work.dCell).pointer         // d(loss)/d(c_t) from step t+1
        let hPrevious = ensureBuffer(&self.hidden, work.hidden).pointer   // h_(t-1), rebuilt from o and c (P, F)
        dH.update(repeating: 0, count: P * F)
        dC.update(repeating: 0, count: P * F)
        let weights = parameters + offset(of: "kernel")
        matmul.holdConstant(weights, count: K * G)
        let dWeights = gradients + offset(of: "kernel")
        let dBias = gradients + offset(of: "bias")
        // Each part sums its own weight and bias gradients, (K + 1, 4F); added up at the end.
        let perPart = work.partialsPerPart
        let partials = ensureBuffer(&self.partialGradients, work.partialGradients).pointer
        partials.update(repeating: 0, count: work.partialGradients)

        Parallel.splitting(P, parts: parts) { run in
            for t in stride(from: T - 1, through: 0, by: -1) {
                let z = gates + t * P * G
                let c = cells + t * P * F
                let cPrev: UnsafeMutablePointer<Float>? = t == 0 ? nil : cells + (t - 1) * P * F
                let oPrev: UnsafeMutablePointer<Float>? = t == 0 ? nil : gates + (t - 1) * P * G + 3 * F
                // d(loss)/d(h_t) from the output at t, if the output holds step t.
                let dOut: UnsafePointer<Float>?
                let dOutStride: Int
                if returnSequences { (dOut, dOutStride) = (dOutput + t * hw * F, T * hw * F) }
                else { (dOut, dOutStride) = (t == T - 1 ? dOutput : nil, hw * F) }
                let x = input + t * hw * C
                let needed = self.gradientColumns(step: t, inputGradient: dInput != nil)
                let (firstColumn, lastColumn) = (needed.lowerBound, needed.upperBound)
                // h_(t-1) = o_(t-1) tanh(c_(t-1)), the forward pass's arithmetic, for every
                // pixel before any part reads its neighbours.
                if let oPrev, let cPrev {
                    run { _, pixels in
                        for p in pixels {
                            let op = oPrev + p * G, cp = cPrev + p * F, hp = hPrevious + p * F
                            for j in 0..<F { hp[j] = op[j] * fastTanh(cp[j]) }
                        }
                    }
                }
                run { part, pixels in
                    let p0 = pixels.lowerBound
                    let dW = partials + part * perPart, dB = dW + K * G
                    self.gateGradients(pixels: pixels, z: z, cell: c, cellPrevious: cPrev.map { UnsafePointer($0) },
                                       dOut: dOut, dOutStride: dOutStride, dZ: dZ, dH: dH, dC: dC, dBias: dB)
                    // Rebuild this step's columns tile by tile: dW += columns^T dZ.
                    let tileColumns = columns + part * tile * K
                    for start in stride(from: pixels.lowerBound, to: pixels.upperBound, by: tile) {
                        let rows = start ..< min(start + tile, pixels.upperBound)
                        self.im2col(tileColumns, pixels: rows, x: x, xStride: T * hw * self.C,
                                    h: t == 0 ? nil : UnsafePointer(hPrevious), hStride: hw * F)
                        self.matmul(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(self.stepColumns(t)), Int32(G),
                                    Int32(rows.count), 1, tileColumns, Int32(K), dZ + start * G, Int32(G), 1, dW, Int32(G))
                    }
                    // dColumns = dZ W^T
                    if lastColumn > firstColumn {
                        self.matmul(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(pixels.count),
                                    Int32(lastColumn - firstColumn), Int32(G), 1, dZ + p0 * G, Int32(G),
                                    weights + firstColumn * G, Int32(G), 0, dColumns + p0 * K + firstColumn, Int32(K))
                    }
                }
                // dx_t and dh_(t-1) gather from neighbouring rows of every part: a second pass.
                run { _, pixels in
                    for q in pixels { (dH + q * F).update(repeating: 0, count: F) }
                    self.col2im(dColumns, pixels: pixels, dx: dInput.map { $0 + t * hw * self.C }, xStride: T * hw * self.C,
                                dh: t == 0 ? nil : dH, hStride: hw * F)
                }
            }
        }
        for part in 0..<parts {
            let partial = partials + part * perPart
            for i in 0..<(K * G) { dWeights[i] += partial[i] }
            for j in 0..<G { dBias[j] += partial[K * G + j] }
        }
    }
}
