@testable import ActionNet
import TestSupport
import Testing

/// Winograd F(4x4, 3x3)'s transforms against a direct 3x3 "same" convolution in double,
/// forward and backward, on frames whose sizes are not multiples of 4 (the tiles hanging
/// over the bottom and right edges), with channel counts that use both the eight-wide and
/// the one-by-one loops.
@Suite struct WinogradF4x3Tests {
    /// A frame (H, W, Cin), a 3x3 kernel (3, 3, Cin, Cout) and a bias (Cout), random.
    struct Problem {
        let H: Int, W: Int, Cin: Int, Cout: Int
        let x: [Float], kernel: [Float], bias: [Float]
        var TH: Int { (H + 3) / 4 }
        var TW: Int { (W + 3) / 4 }
        /// Pixels per row of the zero-bordered frame: 4 per tile column and one on each side.
        var paddedWidth: Int { 4 * TW + 2 }

        init(H: Int, W: Int, Cin: Int = 11, Cout: Int = 10, seed: UInt64) {
            (self.H, self.W, self.Cin, self.Cout) = (H, W, Cin, Cout)
            var random = SeededGenerator(seed: seed)
            func values(_ n: Int, _ scale: Double) -> [Float] { (0..<n).map { _ in Float((2 * random.nextUnit() - 1) * scale) } }
            x = values(H * W * Cin, 2)
            kernel = values(9 * Cin * Cout, 0.5)
            bias = values(Cout, 1)
        }

        func tap(_ ky: Int, _ kx: Int, _ channel: Int) -> Int { ((ky * 3 + kx) * Cin + channel) * Cout }

        /// The direct convolution in double: y[p, o] = bias[o] + Σ x[p + k - 1, c] w[k, c, o].
        func direct() -> [Double] {
            var y = [Double](repeating: 0, count: H * W * Cout)
            for py in 0..<H {
                for px in 0..<W {
                    for o in 0..<Cout { y[(py * W + px) * Cout + o] = Double(bias[o]) }
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let sy = py + ky - 1, sx = px + kx - 1
                            guard sy >= 0, sy < H, sx >= 0, sx < W else { continue }
                            for c in 0..<Cin {
                                let v = Double(x[(sy * W + sx) * Cin + c])
                                for o in 0..<Cout { y[(py * W + px) * Cout + o] += v * Double(kernel[tap(ky, kx, c) + o]) }
                            }
                        }
                    }
                }
            }
            return y
        }

        /// The gradients of the direct convolution's input and kernel for output gradient dy, in double.
        func directGradients(_ dy: [Float]) -> (dx: [Double], dKernel: [Double]) {
            var dx = [Double](repeating: 0, count: H * W * Cin), dk = [Double](repeating: 0, count: 9 * Cin * Cout)
            for py in 0..<H {
                for px in 0..<W {
                    for ky in 0..<3 {
                        for kx in 0..<3 {
                            let sy = py + ky - 1, sx = px + kx - 1
                            guard sy >= 0, sy < H, sx >= 0, sx < W else { continue }
                            for c in 0..<Cin {
                                for o in 0..<Cout {
                                    let g = Double(dy[(py * W + px) * Cout + o])
                                    dx[(sy * W + sx) * Cin + c] += g * Double(kernel[tap(ky, kx, c) + o])
                                    dk[tap(ky, kx, c) + o] += g * Double(x[(sy * W + sx) * Cin + c])
                                }
                            }
                        }
                    }
                }
            }
            return (dx, dk)
        }

        /// The frame with a zero border, (4 TH + 2, 4 TW + 2, Cin): pixel (y, x) at (y + 1, x + 1).
        func padded() -> [Float] {
            var d = [Float](repeating: 0, count: (4 * TH + 2) * paddedWidth * Cin)
            for py in 0..<H {
                for px in 0..<W {
                    for c in 0..<Cin { d[((py + 1) * paddedWidth + px + 1) * Cin + c] = x[(py * W + px) * Cin + c] }
                }
            }
            return d
        }

        /// U, (36, Cin, Cout).
        func transformedKernel() -> [Float] {
            var u = [Float](repeating: 0, count: 36 * Cin * Cout)
            kernel.withUnsafeBufferPointer { k in
                u.withUnsafeMutableBufferPointer { u in
                    WinogradF4x3.transformKernel(rows: Cin, columns: Cout, into: u.baseAddress!) { k.baseAddress! + tap($0, $1, $2) }
                }
            }
            return u
        }

        /// V of tile (ty, tx), (36, Cin).
        func transformedWindow(_ padded: [Float], _ ty: Int, _ tx: Int) -> [Float] {
            var v = [Float](repeating: 0, count: 36 * Cin)
            padded.withUnsafeBufferPointer { d in
                v.withUnsafeMutableBufferPointer { v in
                    WinogradF4x3.transformInput(d.baseAddress! + (4 * ty * paddedWidth + 4 * tx) * Cin, row: paddedWidth * Cin,
                                                column: Cin, count: Cin, into: v.baseAddress!, stride: Cin)
                }
            }
            return v
        }

        /// The convolution through the transforms, with float32 products.
        func winograd() -> [Float] {
            let u = transformedKernel(), d = padded()
            var y = [Float](repeating: 0, count: H * W * Cout)
            for ty in 0..<TH {
                for tx in 0..<TW {
                    let v = transformedWindow(d, ty, tx)
                    var m = [Float](repeating: 0, count: 36 * Cout)
                    for xi in 0..<36 {
                        for o in 0..<Cout {
                            var sum: Float = 0
                            for c in 0..<Cin { sum += v[xi * Cin + c] * u[(xi * Cin + c) * Cout + o] }
                            m[xi * Cout + o] = sum
                        }
                    }
                    // The whole 4x4 tile, then the pixels inside the frame.
                    var tile = [Float](repeating: 0, count: 16 * Cout)
                    m.withUnsafeBufferPointer { m in
                        bias.withUnsafeBufferPointer { b in
                            tile.withUnsafeMutableBufferPointer { t in
                                WinogradF4x3.storeOutput(m.baseAddress!, count: Cout, stride: Cout, bias: b.baseAddress!,
                                                         into: t.baseAddress!, row: 4 * Cout, column: Cout)
                            }
                        }
                    }
                    for i in 0..<4 where 4 * ty + i < H {
                        for j in 0..<4 where 4 * tx + j < W {
                            for o in 0..<Cout { y[((4 * ty + i) * W + 4 * tx + j) * Cout + o] = tile[(4 * i + j) * Cout + o] }
                        }
                    }
                }
            }
            return y
        }

        /// The adjoints: dx and the kernel gradient for output gradient dy, through dM = A dY A^T
        /// (the missing outputs of edge tiles zero), dU = V^T dM, dV = dM U^T and B dV B^T.
        func winogradGradients(_ dy: [Float]) -> (dx: [Float], dKernel: [Float]) {
            let u = transformedKernel(), d = padded()
            var dPadded = [Float](repeating: 0, count: d.count), du = [Float](repeating: 0, count: 36 * Cin * Cout)
            for ty in 0..<TH {
                for tx in 0..<TW {
                    var tile = [Float](repeating: 0, count: 16 * Cout)
                    for i in 0..<4 where 4 * ty + i < H {
                        for j in 0..<4 where 4 * tx + j < W {
                            for o in 0..<Cout { tile[(4 * i + j) * Cout + o] = dy[((4 * ty + i) * W + 4 * tx + j) * Cout + o] }
                        }
                    }
                    var dm = [Float](repeating: 0, count: 36 * Cout)
                    tile.withUnsafeBufferPointer { t in
                        dm.withUnsafeMutableBufferPointer { m in
                            WinogradF4x3.transformOutputGradient(t.baseAddress!, row: 4 * Cout, column: Cout, count: Cout,
                                                                 into: m.baseAddress!, stride: Cout)
                        }
                    }
                    let v = transformedWindow(d, ty, tx)
                    var dv = [Float](repeating: 0, count: 36 * Cin)
                    for xi in 0..<36 {
                        for c in 0..<Cin {
                            var sum: Float = 0
                            for o in 0..<Cout {
                                du[(xi * Cin + c) * Cout + o] += v[xi * Cin + c] * dm[xi * Cout + o]
                                sum += dm[xi * Cout + o] * u[(xi * Cin + c) * Cout + o]
                            }
                            dv[xi * Cin + c] = sum
                        }
                    }
                    let row = paddedWidth * Cin
                    dv.withUnsafeBufferPointer { dv in
                        dPadded.withUnsafeMutableBufferPointer { g in
                            let w = g.baseAddress! + (4 * ty * paddedWidth + 4 * tx) * Cin
                            let rows = WinogradF4x3.WindowRows(r0: w, r1: w + row, r2: w + 2 * row,
                                                               r3: w + 3 * row, r4: w + 4 * row, r5: w + 5 * row)
                            WinogradF4x3.addInputGradient(dv.baseAddress!, count: Cin, stride: Cin, rows: rows, column: Cin)
                        }
                    }
                }
            }
            var dx = [Float](repeating: 0, count: H * W * Cin)
            for py in 0..<H {
                for px in 0..<W {
                    for c in 0..<Cin { dx[(py * W + px) * Cin + c] = dPadded[((py + 1) * paddedWidth + px + 1) * Cin + c] }
                }
            }
            var dk = [Float](repeating: 0, count: 9 * Cin * Cout)
            du.withUnsafeBufferPointer { du in
                dk.withUnsafeMutableBufferPointer { k in
                    WinogradF4x3.addKernelGradient(rows: Cin, columns: Cout, from: du.baseAddress!) { k.baseAddress! + tap($0, $1, $2) }
                }
            }
            return (dx, dk)
        }
    }

    /// The largest difference over the largest magnitude of the reference.
    static func relativeError(_ a: [Float], _ reference: [Double]) -> Double {
        guard a.count == reference.count else { return .infinity }
        let scale = reference.reduce(0) { max($0, abs($1)) }
        var worst = 0.0
        for i in a.indices { worst = max(worst, abs(Double(a[i]) - reference[i])) }
        return worst / max(scale, 1e-30)
    }

    static let sizes: [(Int, Int)] = [(1, 1), (1, 6), (5, 6), (7, 9), (8, 8), (4, 13)]

    @Test(arguments: sizes)
    func forwardMatchesDirectConvolution(height: Int, width: Int) {
        let problem = Problem(H: height, W: width, seed: UInt64(10 * height + width))
        let error = Self.relativeError(problem.winograd(), problem.direct())
        // float32 transforms and products: about 1e-6 of the output scale.
        #expect(error < 4e-6, "F(4x4, 3x3) forward on \(height)x\(width): relative error \(error)")
    }

    @Test(arguments: sizes)
    func adjointsGiveTheDirectConvolutionsGradients(height: Int, width: Int) {
        let problem = Problem(H: height, W: width, seed: UInt64(10 * height + width + 1))
        var random = SeededGenerator(seed: 7)
        let dy = (0..<(height * width * problem.Cout)).map { _ in Float(2 * random.nextUnit() - 1) }
        let (dx, dk) = problem.winogradGradients(dy)
        let reference = problem.directGradients(dy)
        let dxError = Self.relativeError(dx, reference.dx), dkError = Self.relativeError(dk, reference.dKernel)
        #expect(dxError < 4e-6, "input gradient on \(height)x\(width): relative error \(dxError)")
        #expect(dkError < 4e-6, "kernel gradient on \(height)x\(width): relative error \(dkError)")
    }
}

/// The ConvLSTM's Winograd inference computes each tile's gates in scratch: it keeps no
/// gate buffer, and its outputs are the training pass's (no dropout), edge tiles included.
@Suite struct WinogradInferenceTests {
    @Test(arguments: [false, true])
    func inferenceKeepsNoGatesAndMatchesTheTrainingPass(returnSequences: Bool) {
        let layer = ConvLSTM2D(name: "convlstm", inputShape: [3, 5, 7, 2], filters: 4, kernelSize: 3,
                               returnSequences: returnSequences)
        let harness = LayerHarness(layer, batch: 2, seed: 5)
        let inference = harness.output(training: false)
        #expect(layer.gates == nil, "an inference pass made a gate buffer")
        let training = harness.output(training: true)
        #expect(layer.gates != nil)
        #expect(maxAbsDifference(inference, training) == 0)
    }
}
