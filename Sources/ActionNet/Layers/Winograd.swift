/// Winograd's minimal filtering F(4x4, 3x3) (Lavin and Gray, 2015) for the ConvLSTM's
/// 3x3 "same" convolutions, in the channels-innermost layout the layer keeps.
///
/// The output is cut into tiles of 4x4 pixels; each reads a 6x6 window of the input
/// (one pixel of padding around it). Per tile and channel
///
///     Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
///
/// so a 3x3 correlation of a 4x4 tile costs 36 multiplications instead of 144: with the
/// kernel transformed once (U = G g G^T, 36 matrices of (Cin, Cout)) and each input window
/// transformed (V = B^T d B, 36 rows of Cin per tile), the products become 36 products of
/// (tiles, Cin) x (Cin, Cout), 4x less arithmetic than im2col's (pixels, 9 Cin) x (9 Cin, Cout)
/// (F(2x2, 3x3) took 16 per 4 outputs, 2.25x less).
///
/// The matrices come from the interpolation points 0, 1, -1, 1/2, -2 and ∞:
///
///     A^T = | 1  1  1  1    1  0 |    G = |  1/2     0     0   |    B^T = | 2 -3 -4  3  2  0 |
///           | 0  1 -1  1/2 -2  0 |        |  1/6   1/6   1/6   |          | 0 -2  1  5  2  0 |
///           | 0  1  1  1/4  4  0 |        |  1/6  -1/6   1/6   |          | 0 -2  5 -1 -2  0 |
///           | 0  1 -1  1/8 -8  1 |        | -16/15 -8/15 -4/15 |          | 0 -2 -1  2  1  0 |
///                                         |  1/30 -1/15  2/15  |          | 0  1 -2 -1  2  0 |
///                                         |  0     0     1/2   |          | 0  2 -3 -4  3  2 |
///
/// Their entries stay small: in a float32 model of one 65-channel layer the outputs were
/// within 0.8-1.3e-5 of a direct convolution in double at an output scale of about 4
/// (F(2x2, 3x3): 1.7e-6), where the points 0, ±1, ±2 gave 2.6e-5. B^T's row for 1/2 is
/// divided by -16 (and G's multiplied by it), which makes it 2p + q below and changes no
/// rounding: scaling by a power of two is exact. The kernel transform and its adjoint run in
/// double (once per pass), so U is the exact transform rounded once.
///
/// Backprop runs the adjoints of the same linear maps, so the gradients are exact for
/// the computed forward pass.
///
/// Every function works on vectors of channels (`count` values `stride` apart between
/// the 36 positions ξ = 6r + c), eight channels at a time (`SIMD8`) and the last few one
/// by one.
enum WinogradF4x3 {
    /// Positions of a transformed tile (and planes of U, V and M).
    static let positions = 36

    /// G, the kernel transform (6x3), with the row of the point 1/2 times -16.
    static let g: [[Double]] = [[1.0 / 2, 0, 0], [1.0 / 6, 1.0 / 6, 1.0 / 6], [1.0 / 6, -1.0 / 6, 1.0 / 6],
                                [-16.0 / 15, -8.0 / 15, -4.0 / 15], [1.0 / 30, -1.0 / 15, 2.0 / 15], [0, 0, 1.0 / 2]]

    /// 36 transformed kernels U[ξ] (ξ = 6r + c) from a 3x3 kernel, computed in double and
    /// rounded once: for each of `rows` input channels, `row(ky, kx, channel)` points at
    /// its `columns` output channels. Writes `u` as (36, rows, columns).
    static func transformKernel(rows: Int, columns: Int, into u: UnsafeMutablePointer<Float>,
                                row: (_ ky: Int, _ kx: Int, _ channel: Int) -> UnsafePointer<Float>) {
        let plane = rows * columns, g = Self.g
        var k = [Double](repeating: 0, count: 9), gk = [Double](repeating: 0, count: 18)
        for channel in 0..<rows {
            let taps = (0..<9).map { row($0 / 3, $0 % 3, channel) }
            let out = u + channel * columns
            for j in 0..<columns {
                for i in 0..<9 { k[i] = Double(taps[i][j]) }
                // G k (6x3), then (G k) G^T (6x6).
                for r in 0..<6 { for c in 0..<3 { gk[3 * r + c] = g[r][0] * k[c] + g[r][1] * k[3 + c] + g[r][2] * k[6 + c] } }
                for r in 0..<6 {
                    for c in 0..<6 {
                        let value = gk[3 * r] * g[c][0] + gk[3 * r + 1] * g[c][1] + gk[3 * r + 2] * g[c][2]
                        out[(6 * r + c) * plane + j] = Float(value)
                    }
                }
            }
        }
    }

    /// The adjoint of `transformKernel`: adds G^T dU[ξ] G (in double) into the 3x3 kernel
    /// gradient, `row(ky, kx, channel)` pointing at a channel's `columns` gradients.
    static func addKernelGradient(rows: Int, columns: Int, from du: UnsafePointer<Float>,
                                  row: (_ ky: Int, _ kx: Int, _ channel: Int) -> UnsafeMutablePointer<Float>) {
        let plane = rows * columns, g = Self.g
        var d = [Double](repeating: 0, count: 36), dg = [Double](repeating: 0, count: 18)
        for channel in 0..<rows {
            let taps = (0..<9).map { row($0 / 3, $0 % 3, channel) }
            let du0 = du + channel * columns
            for j in 0..<columns {
                for xi in 0..<36 { d[xi] = Double(du0[xi * plane + j]) }
                // dU G (6x3), then G^T (dU G) (3x3).
                for r in 0..<6 {
                    for c in 0..<3 {
                        var sum = 0.0
                        for s in 0..<6 { sum += d[6 * r + s] * g[s][c] }
                        dg[3 * r + c] = sum
                    }
                }
                for ky in 0..<3 {
                    for kx in 0..<3 {
                        var sum = 0.0
                        for r in 0..<6 { sum += g[r][ky] * dg[3 * r + kx] }
                        taps[3 * ky + kx][j] += Float(sum)
                    }
                }
            }
        }
    }

    // The 1-D transforms, on six (or four) vectors of channels.

    /// B^T d, with p = d3 - d1 and q = d4 - d2 shared between rows.
    @inline(__always)
    private static func bt<L: FloatLanes>(_ d0: L, _ d1: L, _ d2: L, _ d3: L, _ d4: L, _ d5: L) -> (L, L, L, L, L, L) {
        let three = L(repeating: 3), minusFour = L(repeating: -4)
        let p = d3 - d1, q = d4 - d2
        let b = (p + p).addingProduct(three, d2)     // -2 d1 + 3 d2 + 2 d3
        let a = (q + q).addingProduct(three, d3)     // -2 d2 + 3 d3 + 2 d4
        let s0 = d0 + d4, s5 = d1 + d5
        return ((s0 + s0).addingProduct(three, p).addingProduct(minusFour, d2), a + b, b - a,
                (p + p) + q, (q + q) - p, (s5 + s5).addingProduct(three, q).addingProduct(minusFour, d3))
    }

    /// B v, the adjoint of `bt`.
    @inline(__always)
    private static func b<L: FloatLanes>(_ v0: L, _ v1: L, _ v2: L, _ v3: L, _ v4: L, _ v5: L) -> (L, L, L, L, L, L) {
        let three = L(repeating: 3), minusFour = L(repeating: -4)
        let ga = v1 - v2, gb = v1 + v2                  // gradients of bt's a and b
        let w = gb + v3, w2 = ga + v4
        let gp = (w + w).addingProduct(three, v0) - v4  // of p
        let gq = (w2 + w2).addingProduct(three, v5) + v3  // of q
        let v00 = v0 + v0, v55 = v5 + v5
        return (v00, v55 - gp, (-gq).addingProduct(three, gb).addingProduct(minusFour, v0),
                gp.addingProduct(three, ga).addingProduct(minusFour, v5), v00 + gq, v55)
    }

    /// A^T m (six values to four).
    @inline(__always)
    private static func at<L: FloatLanes>(_ m0: L, _ m1: L, _ m2: L, _ m3: L, _ m4: L, _ m5: L) -> (L, L, L, L) {
        let sp = m1 + m2, sm = m1 - m2
        return (m0 + sp + (m3 + m4),
                sm.addingProduct(L(repeating: 0.5), m3).addingProduct(L(repeating: -2), m4),
                sp.addingProduct(L(repeating: 0.25), m3).addingProduct(L(repeating: 4), m4),
                (sm + m5).addingProduct(L(repeating: 0.125), m3).addingProduct(L(repeating: -8), m4))
    }

    /// A y, the adjoint of `at` (four values to six), in Horner's form.
    @inline(__always)
    private static func a<L: FloatLanes>(_ y0: L, _ y1: L, _ y2: L, _ y3: L) -> (L, L, L, L, L, L) {
        let half = L(repeating: 0.5), minusTwo = L(repeating: -2)
        let e = y0 + y2, o = y1 + y3
        let m3 = y0.addingProduct(half, y1.addingProduct(half, y2.addingProduct(half, y3)))
        let m4 = y0.addingProduct(minusTwo, y1.addingProduct(minusTwo, y2.addingProduct(minusTwo, y3)))
        return (y0, e + o, e - o, m3, m4, y3)
    }

    // Each 2-D transform runs as two passes through a block of scratch on the stack, one
    // block of channels at a time: first over the rows of the tile (six or four vectors in,
    // six or four out), then over its columns. One pass keeps 12 pointers and a dozen
    // vectors live; computing a whole tile at once kept its 36 vectors and 36 addresses on
    // the stack and reloaded them. The arithmetic and its order are the same either way.

    /// Channels per block: a block's scratch, 36 vectors of them, takes 4.5 KB.
    static let block = 32

    /// Runs `body` with the scratch of one block (36 positions of `block` channels).
    @inline(__always)
    private static func withBlockScratch(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 36 * block) { body($0.baseAddress!) }
    }

    /// y_k = (B^T x)_k, or with `transposed` false (B x)_k, for `count` channels: x_i at
    /// `x + i * xs`, y_k to `y + k * ys`. Callers pass a literal: once inlined, only one
    /// transform is left in the loop.
    @inline(__always)
    private static func passSix(_ x: UnsafePointer<Float>, _ xs: Int, _ y: UnsafeMutablePointer<Float>, _ ys: Int, _ count: Int,
                                transposed: Bool) {
        @inline(__always) func lanes<L: FloatLanes>(_: L.Type, _ c: Int) {
            let p = x + c, o = y + c
            let x0 = L(p), x1 = L(p + xs), x2 = L(p + 2 * xs), x3 = L(p + 3 * xs), x4 = L(p + 4 * xs), x5 = L(p + 5 * xs)
            let t = transposed ? bt(x0, x1, x2, x3, x4, x5) : b(x0, x1, x2, x3, x4, x5)
            t.0.store(o); t.1.store(o + ys); t.2.store(o + 2 * ys); t.3.store(o + 3 * ys); t.4.store(o + 4 * ys); t.5.store(o + 5 * ys)
        }
        var c = 0
        while c + 8 <= count { lanes(SIMD8<Float>.self, c); c += 8 }
        while c < count { lanes(Float.self, c); c += 1 }
    }

    /// (B x)_k added to the six rows: x_i at `x + i * xs`, row k at `rows.rk`.
    @inline(__always)
    private static func passBAdding(_ x: UnsafePointer<Float>, _ xs: Int, _ rows: WindowRows, _ count: Int) {
        @inline(__always) func lanes<L: FloatLanes>(_: L.Type, _ c: Int) {
            @inline(__always) func add(_ value: L, _ p: UnsafeMutablePointer<Float>) { (L(p) + value).store(p) }
            let p = x + c
            let t = b(L(p), L(p + xs), L(p + 2 * xs), L(p + 3 * xs), L(p + 4 * xs), L(p + 5 * xs))
            add(t.0, rows.r0 + c); add(t.1, rows.r1 + c); add(t.2, rows.r2 + c)
            add(t.3, rows.r3 + c); add(t.4, rows.r4 + c); add(t.5, rows.r5 + c)
        }
        var c = 0
        while c + 8 <= count { lanes(SIMD8<Float>.self, c); c += 8 }
        while c < count { lanes(Float.self, c); c += 1 }
    }

    /// y_k = (A^T x)_k (+ bias): x_i at `x + i * xs`, y_k to `y + k * ys`.
    @inline(__always)
    private static func passAT(_ x: UnsafePointer<Float>, _ xs: Int, _ y: UnsafeMutablePointer<Float>, _ ys: Int, _ count: Int,
                               bias: UnsafePointer<Float>?) {
        @inline(__always) func lanes<L: FloatLanes>(_: L.Type, _ c: Int) {
            let p = x + c, o = y + c
            var t = at(L(p), L(p + xs), L(p + 2 * xs), L(p + 3 * xs), L(p + 4 * xs), L(p + 5 * xs))
            if let bias {
                let v = L(bias + c)
                t = (t.0 + v, t.1 + v, t.2 + v, t.3 + v)
            }
            t.0.store(o); t.1.store(o + ys); t.2.store(o + 2 * ys); t.3.store(o + 3 * ys)
        }
        var c = 0
        while c + 8 <= count { lanes(SIMD8<Float>.self, c); c += 8 }
        while c < count { lanes(Float.self, c); c += 1 }
    }

    /// y_k = (A x)_k (four values to six): x_i at `x + i * xs`, y_k to `y + k * ys`.
    @inline(__always)
    private static func passA(_ x: UnsafePointer<Float>, _ xs: Int, _ y: UnsafeMutablePointer<Float>, _ ys: Int, _ count: Int) {
        @inline(__always) func lanes<L: FloatLanes>(_: L.Type, _ c: Int) {
            let p = x + c, o = y + c
            let t = a(L(p), L(p + xs), L(p + 2 * xs), L(p + 3 * xs))
            t.0.store(o); t.1.store(o + ys); t.2.store(o + 2 * ys); t.3.store(o + 3 * ys); t.4.store(o + 4 * ys); t.5.store(o + 5 * ys)
        }
        var c = 0
        while c + 8 <= count { lanes(SIMD8<Float>.self, c); c += 8 }
        while c < count { lanes(Float.self, c); c += 1 }
    }

    /// V = B^T d B for one tile: the 6x6 window's channel vectors are at `d + i * row +
    /// j * column`, `v` receives position ξ at `v + ξ * stride`.
    @inline(__always)
    static func transformInput(_ d: UnsafePointer<Float>, row: Int, column: Int, count: Int,
                               into v: UnsafeMutablePointer<Float>, stride: Int) {
        withBlockScratch { t in
            var c0 = 0
            while c0 < count {
                let w = min(block, count - c0)
                // d B, window row i to scratch rows 6i ... 6i + 5.
                for i in 0..<6 { passSix(d + c0 + i * row, column, t + 6 * i * block, block, w, transposed: true) }
                // B^T (d B), column k to positions k, 6 + k, ..., 30 + k.
                for k in 0..<6 { passSix(t + k * block, 6 * block, v + c0 + k * stride, 6 * stride, w, transposed: true) }
                c0 += w
            }
        }
    }

    /// Where the six rows of a tile's input window start; rows of one window may lie in
    /// different buffers (the top two in a part's seam).
    struct WindowRows {
        let r0: UnsafeMutablePointer<Float>, r1: UnsafeMutablePointer<Float>, r2: UnsafeMutablePointer<Float>
        let r3: UnsafeMutablePointer<Float>, r4: UnsafeMutablePointer<Float>, r5: UnsafeMutablePointer<Float>

        @inline(__always) func offset(by n: Int) -> WindowRows {
            WindowRows(r0: r0 + n, r1: r1 + n, r2: r2 + n, r3: r3 + n, r4: r4 + n, r5: r5 + n)
        }
    }

    /// The adjoint of `transformInput`, added into the window's gradient: the 36 vectors
    /// dV (position ξ at `v + ξ * stride`, `count` values each) become B dV B^T, added
    /// to window row i at `rows.ri`, its six pixels `column` apart: each tile's share of
    /// the input gradient, added while its dV is still in cache.
    @inline(__always)
    static func addInputGradient(_ v: UnsafePointer<Float>, count: Int, stride: Int,
                                 rows: WindowRows, column: Int) {
        withBlockScratch { t in
            var c0 = 0
            while c0 < count {
                let w = min(block, count - c0)
                // dV B^T, row r of dV (positions 6r ... 6r + 5) to scratch rows 6r ... 6r + 5.
                for r in 0..<6 { passSix(v + c0 + 6 * r * stride, stride, t + 6 * r * block, block, w, transposed: false) }
                // B (dV B^T), window column k added to the six rows.
                for k in 0..<6 { passBAdding(t + k * block, 6 * block, rows.offset(by: c0 + k * column), w) }
                c0 += w
            }
        }
    }

    /// Y = bias + A^T M A for one tile: M's position ξ at `m + ξ * stride`; writes output
    /// (i, j) of the 4x4 tile to `y + i * row + j * column` (`count` values each).
    @inline(__always)
    static func storeOutput(_ m: UnsafePointer<Float>, count: Int, stride: Int, bias: UnsafePointer<Float>,
                            into y: UnsafeMutablePointer<Float>, row: Int, column: Int) {
        withBlockScratch { t in
            var c0 = 0
            while c0 < count {
                let w = min(block, count - c0)
                // M A, row i of M (positions 6i ... 6i + 5) to scratch rows 4i ... 4i + 3.
                for i in 0..<6 { passAT(m + c0 + 6 * i * stride, stride, t + 4 * i * block, block, w, bias: nil) }
                // A^T (M A) + bias, output column j.
                for j in 0..<4 { passAT(t + j * block, 4 * block, y + c0 + j * column, row, w, bias: bias + c0) }
                c0 += w
            }
        }
    }

    /// The adjoint of `storeOutput`: dM = A dY A^T from the 4x4 output gradients (output
    /// (i, j) at `y + i * row + j * column`), written to position ξ at `m + ξ * stride`.
    @inline(__always)
    static func transformOutputGradient(_ y: UnsafePointer<Float>, row: Int, column: Int,
                                        count: Int, into m: UnsafeMutablePointer<Float>, stride: Int) {
        withBlockScratch { t in
            var c0 = 0
            while c0 < count {
                let w = min(block, count - c0)
                // A dY, output column j to scratch rows 6j ... 6j + 5.
                for j in 0..<4 { passA(y + c0 + j * column, row, t + 6 * j * block, block, w) }
                // (A dY) A^T, row i to positions 6i ... 6i + 5.
                for i in 0..<6 { passA(t + i * block, 6 * block, m + c0 + 6 * i * stride, stride, w) }
                c0 += w
            }
        }
    }
}
