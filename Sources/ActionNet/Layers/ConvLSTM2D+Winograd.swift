import COpenBLAS

/// The ConvLSTM's 3x3 products through Winograd F(4x4, 3x3) (see `WinogradF4x3`).
///
/// The frame is cut into tiles of 4x4 output pixels, numbered (b, ty, tx). Work is split
/// over the threads by rows of tiles, which is also a contiguous range of pixels, so the
/// per-pixel cell arithmetic of a part touches only its own pixels. Each step first
/// copies its input [x_t, h_(t-1)], masked, into a zero-bordered buffer; then each part
/// handles its tiles in chunks small enough to stay in cache: transform the input
/// windows (V, 36 x (chunk, C + F)), 36 products with the transformed kernel
/// (M, 36 x (chunk, 4F)), transform back adding the bias, and run the cell update.
///
/// Backward, per step: h_(t-1) rebuilt and the bordered input filled again; the gate
/// gradients of each part's pixels; then per chunk, the transformed gate gradients dM,
/// the kernel gradient in the transformed domain (dU += V^T dM, turned back into 3x3
/// kernels once at the end) and the gradient of every tile's input window
/// (B (dM U^T) B^T), added at once into the gradient of the bordered input; last, each
/// pixel takes its dx_t and dh_(t-1) from there.
extension ConvLSTM2D {
    /// Tiles transformed and multiplied at a time by one part, forward and backward: V and
    /// M (or dV and dM) of a chunk, 36 planes each, stay in the core's L2 cache: 16 tiles of
    /// the first layer (C + F = 65, 4F = 256) take 740 KB. Chunks of 8 to 32 tiles measured
    /// alike (`bench --shape small` and `seed`, within the spread of a shared machine).
    static let winogradChunk = 16
    static let winogradBackwardChunk = 16

    /// Floats from one of a chunk's 36 planes of V or M (one per ξ) to the next: the
    /// plane's values and 16 more (64 bytes). Planes a power of two apart put the loads or
    /// stores of a tile's transform in one set of the L1 cache, which holds fewer lines
    /// than that.
    static func planeStride(_ values: Int) -> Int { values + 16 }

    /// Positions of a transformed tile: planes of U, V and M.
    private static var positions: Int { WinogradF4x3.positions }

    /// The layout of a part's tile scratch: V (36 planes of chunk x (C + F)), M or dM (36
    /// of chunk x 4F), a tile's 16 x 4F values for the tiles over the frame's edge, and in
    /// the backward pass the seam (see `backwardWinograd`).
    struct TileScratch {
        var vPlane = 0, mPlane = 0, seamCount = 0
        /// Floats of one part's scratch, and of all parts'.
        var perPart = 0, count = 0

        init() {}

        init(parts: Int, chunk: Int, inputs: Int, gates: Int, seamCount: Int) {
            vPlane = ConvLSTM2D.planeStride(chunk * inputs)
            mPlane = ConvLSTM2D.planeStride(chunk * gates)
            self.seamCount = seamCount
            perPart = ConvLSTM2D.positions * (vPlane + mPlane) + 16 * gates + seamCount
            count = parts * perPart
        }
    }

    /// The Winograd passes' sizes in `work` (`workspace`).
    func addWinogradSizes(to work: inout Workspace, batch: Int) {
        let geometry = TileGeometry(H: H, W: W), Cin = C + F, G = 4 * F
        work.parts = Parallel.parts(batch * geometry.rows, threads: threads, grain: 1)
        work.transformedKernel = Self.positions * Cin * G
        work.paddedInput = batch * geometry.paddedPixels * Cin
        work.forwardScratch = TileScratch(parts: work.parts, chunk: Self.winogradChunk, inputs: Cin, gates: G, seamCount: 0)
        work.backwardScratch = TileScratch(parts: work.parts, chunk: Self.winogradBackwardChunk, inputs: Cin, gates: G,
                                           seamCount: 2 * geometry.paddedWidth * Cin)
        // The transformed kernel gradient (36 (C + F) rows) and the bias gradient.
        work.partialsPerPart = (Self.positions * Cin + 1) * G
    }

    /// Input channels of step t's products: the first step has no recurrent half (h_(-1) = 0).
    func stepChannels(_ t: Int) -> Int { t == 0 ? C : C + F }

    /// Channels of step t's input windows whose gradient the backward pass computes: x_t's
    /// when the input wants a gradient, h_(t-1)'s after the first step.
    func gradientChannels(step t: Int, inputGradient: Bool) -> Range<Int> {
        let first = inputGradient ? 0 : C
        return first ..< max(first, stepChannels(t))
    }

    private struct TileGeometry {
        let H: Int, W: Int, rows: Int, columns: Int   // tile rows and columns per frame
        init(H: Int, W: Int) { (self.H, self.W, rows, columns) = (H, W, (H + 3) / 4, (W + 3) / 4) }
        /// Pixels per row of the zero-bordered input: 4 per tile column, and one of padding
        /// on each side.
        var paddedWidth: Int { 4 * columns + 2 }
        /// Pixels per frame of the zero-bordered input.
        var paddedPixels: Int { (4 * rows + 2) * paddedWidth }
        @inline(__always) func paddedOffset(b: Int, y: Int, x: Int) -> Int {
            (b * (4 * rows + 2) + y) * paddedWidth + x
        }
        /// The pixels of tile rows `tileRows` (numbered b * rows + ty): pixel rows 4ty to
        /// 4ty + 3 (fewer at the bottom of a frame whose height is not a multiple of 4).
        func pixels(ofTileRows tileRows: Range<Int>) -> Range<Int> {
            guard let last = tileRows.last else { return 0..<0 }
            let first = tileRows.lowerBound
            return (first / rows * H + 4 * (first % rows)) * W ..< (last / rows * H + min(4 * (last % rows) + 4, H)) * W
        }
        /// Whether tile row r's tile tx lies inside the frame (no output past its edge).
        @inline(__always) func isWhole(row r: Int, column tx: Int) -> Bool {
            4 * (r % rows) + 4 <= H && 4 * tx + 4 <= W
        }
    }

    /// U = G g G^T of the stacked kernel and recurrent kernel, (36, C + F, 4F).
    private func transformKernel(_ parameters: UnsafePointer<Float>, _ work: Workspace) -> UnsafeMutablePointer<Float> {
        let G = 4 * F, count = work.transformedKernel
        let u = ensureBuffer(&transformedKernel, count).pointer
        let kernel = parameters + offset(of: "kernel")
        WinogradF4x3.transformKernel(rows: C + F, columns: G, into: u) { kernel + self.stackedTap($0, $1, $2) }
        matmul.holdConstant(u, count: count)   // every chunk's products read it
        return u
    }

    /// Where tap (ky, kx) of input channel `channel` of [x, h] starts in the kernel and
    /// recurrent kernel read as one stacked tensor (the recurrent one right after the
    /// kernel), in floats: the same offsets for the weights and their gradients.
    private func stackedTap(_ ky: Int, _ kx: Int, _ channel: Int) -> Int {
        let G = 4 * F
        return channel < C ? ((ky * 3 + kx) * C + channel) * G : (9 * C + (ky * 3 + kx) * F + channel - C) * G
    }

    /// Writes [x_t (times its mask), h_(t-1) (times its mask)] of `pixels` into the
    /// zero-bordered copy of the step's input, (B, 4 TH + 2, 4 TW + 2, C + F): pixel (y, x)
    /// at (y + 1, x + 1), so that every tile's window is a plain 6x6 block of it. Without
    /// `h` (t = 0) only the C input channels. `x` and `h` point at sample 0, samples
    /// `xStride` and `hStride` apart. With `rebuild` (the backward pass), h_(t-1) is
    /// computed on the way as o_(t-1) tanh(c_(t-1)), the forward pass's arithmetic, from
    /// the kept gates (o at `rebuild.o + p * 4F`) and cells (`rebuild.c + p * F`), and `h`
    /// is not read.
    private func fillPaddedInput(_ padded: UnsafeMutablePointer<Float>, geometry: TileGeometry, pixels: Range<Int>,
                                 x: UnsafePointer<Float>, xStride: Int, h: UnsafePointer<Float>?, hStride: Int,
                                 xMask: UnsafePointer<Float>?, hMask: UnsafePointer<Float>?,
                                 rebuild: (o: UnsafePointer<Float>, c: UnsafePointer<Float>)? = nil) {
        let C = self.C, F = self.F, Cin = C + F, hw = H * W
        for p in pixels {
            let b = p / hw, pixel = p % hw, y = pixel / W, xx = pixel % W
            let d = padded + geometry.paddedOffset(b: b, y: y + 1, x: xx + 1) * Cin
            let xs = x + b * xStride + pixel * C
            if let xMask {
                let m = xMask + p * C
                for c in 0..<C { d[c] = xs[c] * m[c] }
            } else {
                for c in 0..<C { d[c] = xs[c] }     // not update(from:): a memmove call per pixel
            }
            if let (o, cell) = rebuild {
                let op = o + p * 4 * F, cp = cell + p * F, dh = d + C
                if let hMask {
                    let m = hMask + p * F
                    for c in 0..<F { dh[c] = op[c] * fastTanh(cp[c]) * m[c] }
                } else {
                    for c in 0..<F { dh[c] = op[c] * fastTanh(cp[c]) }
                }
                continue
            }
            guard let h else { continue }
            let hs = h + b * hStride + pixel * F, dh = d + C
            if let hMask {
                let m = hMask + p * F
                for c in 0..<F { dh[c] = hs[c] * m[c] }
            } else {
                for c in 0..<F { dh[c] = hs[c] }
            }
        }
    }

    /// One pixel's cell update (`activate`), out of line: inlined into the loop over a
    /// tile's 16 pixels, the update's loop over the channels ran as scalar code and took
    /// four times as long.
    @inline(never)
    private func activatePixel(_ z: UnsafeMutablePointer<Float>, cellPrevious: UnsafePointer<Float>?,
                               cell: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>) {
        activate(z, cellPrevious: cellPrevious, cell: cell, hidden: hidden)
    }

    /// The zero-bordered step input for `batch` samples, borders zeroed: a buffer reused
    /// for another batch size may hold old values there.
    private func paddedStepInput(_ work: Workspace) -> UnsafeMutablePointer<Float> {
        let count = work.paddedInput
        let padded = ensureBuffer(&paddedInput, count).pointer
        padded.update(repeating: 0, count: count)
        return padded
    }

    func forwardWinograd(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch: Int,
                         parameters: UnsafeMutablePointer<Float>, training: Bool) {
        let P = batch * H * W, hw = H * W, G = 4 * F, F = self.F, C = self.C, Cin = C + F, T = self.T
        let geometry = TileGeometry(H: H, W: W)
        let TW = geometry.columns, tileRows = batch * geometry.rows, chunk = Self.winogradChunk
        let work = workspace(batch: batch), parts = work.parts
        // Training keeps every step's gates for the backward pass; inference computes a
        // tile's gates into its scratch and needs no gate buffer.
        let gates: UnsafeMutablePointer<Float>? = training ? ensureBuffer(&self.gates, T * P * G).pointer : nil
        let cells = ensureBuffer(&self.cells, (training ? T : 2) * P * F).pointer
        let hidden: UnsafeMutablePointer<Float>? = returnSequences ? nil : ensureBuffer(&self.hidden, work.hidden).pointer
        let u = UnsafePointer(transformKernel(parameters, work))
        let bias = UnsafePointer(parameters + offset(of: "bias"))
        let padded = paddedStepInput(work)
        // Per part: V (36, chunk, Cin), M (36, chunk, G), and a tile's 16 x G outputs for
        // the tiles hanging over the frame's edge, which keep only those inside (in
        // inference, for every tile).
        let layout = work.forwardScratch, positions = Self.positions
        let (vPlane, mPlane, perPart) = (layout.vPlane, layout.mPlane, layout.perPart)
        let scratch = ensureBuffer(&tileScratch, layout.count).pointer
        prepareMasks(work, training: training)
        lastForwardStored = training
        let xMask = inputMask.map { UnsafePointer($0.pointer) }, hMask = recurrentMask.map { UnsafePointer($0.pointer) }

        func hiddenState(_ t: Int) -> (UnsafeMutablePointer<Float>, stride: Int) {
            if let hidden { return (hidden + t % 2 * P * F, hw * F) }
            return (output + t * hw * F, T * hw * F)
        }

        Parallel.splitting(tileRows, parts: parts) { run in
            for t in 0..<T {
                let z = gates.map { $0 + t * P * G }
                let c = cells + (training ? t : t % 2) * P * F
                let cPrev: UnsafePointer<Float>? = t == 0 ? nil : UnsafePointer(cells + (training ? t - 1 : (t - 1) % 2) * P * F)
                let hPrev = t == 0 ? nil : hiddenState(t - 1)
                let (h, hStride) = hiddenState(t)
                let x = input + t * hw * C
                let channels = self.stepChannels(t)
                run { _, rows in
                    self.fillPaddedInput(padded, geometry: geometry, pixels: geometry.pixels(ofTileRows: rows),
                                         x: x, xStride: T * hw * C, h: hPrev.map { UnsafePointer($0.0) },
                                         hStride: hPrev?.stride ?? 0, xMask: xMask, hMask: hMask)
                }
                run { part, rows in
                    let v = scratch + part * perPart
                    let m = v + positions * vPlane, edgeTile = m + positions * mPlane
                    let tiles = rows.lowerBound * TW ..< rows.upperBound * TW
                    for start in stride(from: tiles.lowerBound, to: tiles.upperBound, by: chunk) {
                        let n = min(chunk, tiles.upperBound - start)
                        for i in 0..<n {
                            let tile = start + i, tx = tile % TW, r = tile / TW
                            let window = padded + geometry.paddedOffset(b: r / geometry.rows, y: 4 * (r % geometry.rows), x: 4 * tx) * Cin
                            WinogradF4x3.transformInput(window, row: geometry.paddedWidth * Cin, column: Cin, count: channels,
                                                        into: v + i * Cin, stride: vPlane)
                        }
                        for xi in 0..<positions {
                            self.matmul(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(G), Int32(channels),
                                        1, v + xi * vPlane, Int32(Cin), u + xi * Cin * G, Int32(G),
                                        0, m + xi * mPlane, Int32(G))
                        }
                        for i in 0..<n {
                            let tile = start + i, tx = tile % TW, r = tile / TW
                            let b = r / geometry.rows, y = 4 * (r % geometry.rows), xx = 4 * tx
                            if let z, geometry.isWhole(row: r, column: tx) {
                                WinogradF4x3.storeOutput(m + i * G, count: G, stride: mPlane, bias: bias,
                                                         into: z + ((b * H + y) * W + xx) * G, row: W * G, column: G)
                            } else {
                                // The whole tile to scratch that stays in cache: in inference,
                                // where nothing keeps the gates, and for a tile over the frame's
                                // edge, whose pixels inside are then kept.
                                WinogradF4x3.storeOutput(m + i * G, count: G, stride: mPlane, bias: bias,
                                                         into: edgeTile, row: 4 * G, column: G)
                                if let z {
                                    let corner = z + ((b * H + y) * W + xx) * G
                                    for dy in 0..<4 where y + dy < H {
                                        for dx in 0..<4 where xx + dx < W {
                                            (corner + (dy * W + dx) * G).update(from: edgeTile + (4 * dy + dx) * G, count: G)
                                        }
                                    }
                                }
                            }
                            for dy in 0..<4 where y + dy < H {
                                for dx in 0..<4 where xx + dx < W {
                                    let q = (y + dy) * W + xx + dx, p = b * hw + q
                                    let gate = z.map { $0 + p * G } ?? edgeTile + (4 * dy + dx) * G
                                    self.activatePixel(gate, cellPrevious: cPrev.map { $0 + p * F },
                                                       cell: c + p * F, hidden: h + b * hStride + q * F)
                                }
                            }
                        }
                    }
                }
            }
        }
        if let hidden {
            output.update(from: hidden + (T - 1) % 2 * P * F, count: P * F)
        }
    }

    func backwardWinograd(dInput: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                          input: UnsafePointer<Float>, batch: Int,
                          parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        let P = batch * H * W, hw = H * W, G = 4 * F, F = self.F, C = self.C, Cin = C + F, T = self.T
        let geometry = TileGeometry(H: H, W: W)
        let TW = geometry.columns, TH = geometry.rows, tileRows = batch * TH, chunk = Self.winogradBackwardChunk
        let work = workspace(batch: batch), parts = work.parts
        let gates = self.gates!.pointer, cells = self.cells!.pointer
        let positions = Self.positions
        // Transformed again rather than kept from the forward pass: 36 (C + F) 4F values,
        // nothing beside a step, and no dependence on what ran in between.
        let u = transformKernel(parameters, work)
        // U[ξ]^T, (36, 4F, C + F): with it dV = dM U^T is a product of untransposed
        // operands, which OpenBLAS's small-matrix kernels (Cooperlake, SkylakeX) take
        // without packing; with U transposed in the call, the product was packed.
        let ut = ensureBuffer(&transposedKernel, work.transformedKernel).pointer
        for xi in 0..<positions {
            let plane = u + xi * Cin * G, transposed = ut + xi * G * Cin
            for r in 0..<Cin { for j in 0..<G { transposed[j * Cin + r] = plane[r * G + j] } }
        }
        matmul.holdConstant(ut, count: work.transformedKernel)   // every chunk's dV products read it
        let dZ = ensureBuffer(&self.dGates, work.dGates).pointer
        let dH = ensureBuffer(&self.dHidden, work.dHidden).pointer     // d(loss)/d(h_t) from step t+1
        let dC = ensureBuffer(&self.dCell, work.dCell).pointer         // d(loss)/d(c_t) from step t+1
        // The gradient of the step's zero-bordered input, (B, 4 TH + 2, 4 TW + 2, C + F): every
        // tile adds its window's gradient into it while the window is in cache. Only its
        // interior is read, and zeroed again as it is read.
        let paddedGradient = ensureBuffer(&self.paddedInputGradient, work.paddedInput).pointer
        paddedGradient.update(repeating: 0, count: work.paddedInput)
        dH.update(repeating: 0, count: P * F)
        dC.update(repeating: 0, count: P * F)
        let padded = paddedStepInput(work)
        // Per part: V (36, chunk, Cin; dV takes its place), dM (36, chunk, G), a tile's
        // 16 x G gate gradients for the tiles over the frame's edge (zero past it), and the
        // seam: the gradient of the top two window rows of the part's first tile row, which
        // the part above also adds into; kept apart and added after the parts are done.
        let rowLength = geometry.paddedWidth * Cin, layout = work.backwardScratch
        let (vPlane, mPlane, perPart, seamCount) = (layout.vPlane, layout.mPlane, layout.perPart, layout.seamCount)
        let scratch = ensureBuffer(&tileScratch, layout.count).pointer
        for part in 0..<parts { (scratch + part * perPart + perPart - seamCount).update(repeating: 0, count: seamCount) }
        // Each part sums its own transformed kernel gradient and bias gradient, (36 Cin + 1, G).
        let partialCount = work.partialsPerPart
        let partials = ensureBuffer(&self.partialGradients, work.partialGradients).pointer
        partials.update(repeating: 0, count: work.partialGradients)
        let xMask = inputMask.map { UnsafePointer($0.pointer) }, hMask = recurrentMask.map { UnsafePointer($0.pointer) }

        Parallel.splitting(tileRows, parts: parts) { run in
            for t in stride(from: T - 1, through: 0, by: -1) {
                let z = gates + t * P * G
                let c = cells + t * P * F
                let cPrev: UnsafePointer<Float>? = t == 0 ? nil : UnsafePointer(cells + (t - 1) * P * F)
                let oPrev: UnsafePointer<Float>? = t == 0 ? nil : UnsafePointer(gates + (t - 1) * P * G + 3 * F)
                let dOut: UnsafePointer<Float>?
                let dOutStride: Int
                if returnSequences { (dOut, dOutStride) = (dOutput + t * hw * F, T * hw * F) }
                else { (dOut, dOutStride) = (t == T - 1 ? dOutput : nil, hw * F) }
                let x = input + t * hw * C
                let channels = self.stepChannels(t)
                let needed = self.gradientChannels(step: t, inputGradient: dInput != nil)
                let (firstChannel, lastChannel) = (needed.lowerBound, needed.upperBound)
                // The step's input, with h_(t-1) rebuilt from o and c on the way (written
                // straight into the bordered buffer, not to a buffer of its own first), for
                // every pixel before any part reads its neighbours.
                run { _, rows in
                    let rebuild = oPrev.flatMap { o in cPrev.map { (o: o, c: $0) } }
                    self.fillPaddedInput(padded, geometry: geometry, pixels: geometry.pixels(ofTileRows: rows),
                                         x: x, xStride: T * hw * C, h: nil, hStride: 0,
                                         xMask: xMask, hMask: hMask, rebuild: rebuild)
                }
                run { part, rows in
                    let pixels = geometry.pixels(ofTileRows: rows)
                    let dU = partials + part * partialCount, dB = dU + positions * Cin * G
                    self.gateGradients(pixels: pixels, z: z, cell: c, cellPrevious: cPrev,
                                       dOut: dOut, dOutStride: dOutStride, dZ: dZ, dH: dH, dC: dC, dBias: dB)
                    let v = scratch + part * perPart
                    let dM = v + positions * vPlane, edgeTile = dM + positions * mPlane, seam = edgeTile + 16 * G
                    let tiles = rows.lowerBound * TW ..< rows.upperBound * TW
                    for start in stride(from: tiles.lowerBound, to: tiles.upperBound, by: chunk) {
                        let n = min(chunk, tiles.upperBound - start)
                        for i in 0..<n {
                            let tile = start + i, tx = tile % TW, r = tile / TW
                            let b = r / TH, y = 4 * (r % TH), xx = 4 * tx
                            let window = padded + geometry.paddedOffset(b: b, y: y, x: xx) * Cin
                            WinogradF4x3.transformInput(window, row: rowLength, column: Cin, count: channels,
                                                        into: v + i * Cin, stride: vPlane)
                            let corner = UnsafePointer(dZ + ((b * H + y) * W + xx) * G)
                            if geometry.isWhole(row: r, column: tx) {
                                WinogradF4x3.transformOutputGradient(corner, row: W * G, column: G,
                                                                     count: G, into: dM + i * G, stride: mPlane)
                            } else {
                                // A tile over the frame's edge: its gradients inside, zeros past the edge.
                                edgeTile.update(repeating: 0, count: 16 * G)
                                for dy in 0..<4 where y + dy < H {
                                    for dx in 0..<4 where xx + dx < W {
                                        (edgeTile + (4 * dy + dx) * G).update(from: corner + (dy * W + dx) * G, count: G)
                                    }
                                }
                                WinogradF4x3.transformOutputGradient(edgeTile, row: 4 * G, column: G,
                                                                     count: G, into: dM + i * G, stride: mPlane)
                            }
                        }
                        for xi in 0..<positions {
                            // dU[ξ] += V[ξ]^T dM[ξ]
                            self.matmul(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(channels), Int32(G), Int32(n),
                                        1, v + xi * vPlane, Int32(Cin), dM + xi * mPlane, Int32(G),
                                        1, dU + xi * Cin * G, Int32(G))
                            // dV[ξ] = dM[ξ] U[ξ]^T, for the channels needed, in place of V[ξ] (read just above).
                            if lastChannel > firstChannel {
                                self.matmul(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(lastChannel - firstChannel),
                                            Int32(G), 1, dM + xi * mPlane, Int32(G), ut + xi * G * Cin + firstChannel, Int32(Cin),
                                            0, v + xi * vPlane + firstChannel, Int32(Cin))
                            }
                        }
                        guard lastChannel > firstChannel else { continue }
                        for i in 0..<n {
                            let tile = start + i, tx = tile % TW, r = tile / TW
                            let window = paddedGradient + geometry.paddedOffset(b: r / TH, y: 4 * (r % TH), x: 4 * tx) * Cin
                            let top = r == rows.lowerBound ? seam + 4 * tx * Cin : window
                            let windowRows = WinogradF4x3.WindowRows(r0: top, r1: top + rowLength, r2: window + 2 * rowLength,
                                                                     r3: window + 3 * rowLength, r4: window + 4 * rowLength,
                                                                     r5: window + 5 * rowLength)
                            WinogradF4x3.addInputGradient(v + i * Cin + firstChannel, count: lastChannel - firstChannel,
                                                          stride: vPlane, rows: windowRows.offset(by: firstChannel), column: Cin)
                        }
                    }
                }
                guard lastChannel > firstChannel else { continue }
                // Each part's seam into the padded gradient, now that the part above is done.
                for part in 0..<parts {
                    let r = tileRows * part / parts
                    let seam = scratch + part * perPart + perPart - seamCount
                    let target = paddedGradient + geometry.paddedOffset(b: r / TH, y: 4 * (r % TH), x: 0) * Cin
                    for i in 0..<seamCount { target[i] += seam[i] }
                    seam.update(repeating: 0, count: seamCount)
                }
                // dx_t and dh_(t-1) from the padded gradient's interior, which is zeroed for the next step.
                let dx = dInput.map { $0 + t * hw * C }
                run { _, rows in
                    for q in geometry.pixels(ofTileRows: rows) {
                        let b = q / hw, pixel = q % hw
                        let g = paddedGradient + geometry.paddedOffset(b: b, y: pixel / W + 1, x: pixel % W + 1) * Cin
                        if let dx {
                            let dxp = dx + b * T * hw * C + pixel * C
                            if let xMask {
                                let m = xMask + q * C
                                for ch in 0..<C { dxp[ch] += g[ch] * m[ch] }
                            } else {
                                for ch in 0..<C { dxp[ch] += g[ch] }
                            }
                        }
                        if t > 0 {
                            let dhp = dH + q * F, gh = g + C
                            if let hMask {
                                let m = hMask + q * F
                                for ch in 0..<F { dhp[ch] = gh[ch] * m[ch] }
                            } else {
                                dhp.update(from: gh, count: F)
                            }
                        }
                        (g + firstChannel).update(repeating: 0, count: lastChannel - firstChannel)
                    }
                }
            }
        }
        // Sum the parts' gradients, and turn the kernel's back from the transformed domain.
        for part in 1..<max(parts, 1) {
            let partial = partials + part * partialCount
            for i in 0..<partialCount { partials[i] += partial[i] }
        }
        let dKernel = gradients + offset(of: "kernel")
        WinogradF4x3.addKernelGradient(rows: Cin, columns: G, from: partials) { dKernel + self.stackedTap($0, $1, $2) }
        let dBias = gradients + offset(of: "bias"), dB = partials + positions * Cin * G
        for j in 0..<G { dBias[j] += dB[j] }
    }
}
