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

    /// V = B^T d B for one tile: the 6x6 window's channel vectors are at `d + i * row +
    /// j * column`, `v` receives position ξ at `v + ξ * stride`.
    @inline(__always)
    static func transformInput(_ d: UnsafePointer<Float>, row: Int, column: Int, count: Int,
                               into v: UnsafeMutablePointer<Float>, stride: Int) {
        var c = 0
        while c + 8 <= count { transformInput(SIMD8<Float>.self, d + c, row, column, v + c, stride); c += 8 }
        while c < count { transformInput(Float.self, d + c, row, column, v + c, stride); c += 1 }
    }

    @inline(__always)
    private static func transformInput<L: FloatLanes>(_: L.Type, _ d: UnsafePointer<Float>, _ r: Int, _ n: Int,
                                                      _ v: UnsafeMutablePointer<Float>, _ s: Int) {
        // d B, one window row at a time.
        @inline(__always) func rowTimesB(_ i: Int) -> (L, L, L, L, L, L) {
            let p = d + i * r
            return bt(L(p), L(p + n), L(p + 2 * n), L(p + 3 * n), L(p + 4 * n), L(p + 5 * n))
        }
        let t0 = rowTimesB(0), t1 = rowTimesB(1), t2 = rowTimesB(2), t3 = rowTimesB(3), t4 = rowTimesB(4), t5 = rowTimesB(5)
        // B^T (d B), one column at a time: column c gives positions c, 6 + c, ..., 30 + c.
        @inline(__always) func store(_ c: Int, _ x: (L, L, L, L, L, L)) {
            let o = v + c * s
            x.0.store(o); x.1.store(o + 6 * s); x.2.store(o + 12 * s)
            x.3.store(o + 18 * s); x.4.store(o + 24 * s); x.5.store(o + 30 * s)
        }
        store(0, bt(t0.0, t1.0, t2.0, t3.0, t4.0, t5.0))
        store(1, bt(t0.1, t1.1, t2.1, t3.1, t4.1, t5.1))
        store(2, bt(t0.2, t1.2, t2.2, t3.2, t4.2, t5.2))
        store(3, bt(t0.3, t1.3, t2.3, t3.3, t4.3, t5.3))
        store(4, bt(t0.4, t1.4, t2.4, t3.4, t4.4, t5.4))
        store(5, bt(t0.5, t1.5, t2.5, t3.5, t4.5, t5.5))
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
        var c = 0
        while c + 8 <= count { addInputGradient(SIMD8<Float>.self, v + c, stride, rows.offset(by: c), column); c += 8 }
        while c < count { addInputGradient(Float.self, v + c, stride, rows.offset(by: c), column); c += 1 }
    }

    @inline(__always)
    private static func addInputGradient<L: FloatLanes>(_: L.Type, _ v: UnsafePointer<Float>, _ s: Int,
                                                        _ rows: WindowRows, _ n: Int) {
        // dV B^T, one row of dV (positions 6r ... 6r + 5) at a time.
        @inline(__always) func rowTimesBT(_ r: Int) -> (L, L, L, L, L, L) {
            let p = v + 6 * r * s
            return b(L(p), L(p + s), L(p + 2 * s), L(p + 3 * s), L(p + 4 * s), L(p + 5 * s))
        }
        let t0 = rowTimesBT(0), t1 = rowTimesBT(1), t2 = rowTimesBT(2), t3 = rowTimesBT(3), t4 = rowTimesBT(4), t5 = rowTimesBT(5)
        // B (dV B^T), one window column at a time, added to the six rows.
        @inline(__always) func add(_ c: Int, _ x: (L, L, L, L, L, L)) {
            @inline(__always) func add(_ value: L, _ p: UnsafeMutablePointer<Float>) { (L(p) + value).store(p) }
            let o = c * n
            add(x.0, rows.r0 + o); add(x.1, rows.r1 + o); add(x.2, rows.r2 + o)
            add(x.3, rows.r3 + o); add(x.4, rows.r4 + o); add(x.5, rows.r5 + o)
        }
        add(0, b(t0.0, t1.0, t2.0, t3.0, t4.0, t5.0))
        add(1, b(t0.1, t1.1, t2.1, t3.1, t4.1, t5.1))
        add(2, b(t0.2, t1.2, t2.2, t3.2, t4.2, t5.2))
        add(3, b(t0.3, t1.3, t2.3, t3.3, t4.3, t5.3))
        add(4, b(t0.4, t1.4, t2.4, t3.4, t4.4, t5.4))
        add(5, b(t0.5, t1.5, t2.5, t3.5, t4.5, t5.5))
    }

    /// Y = bias + A^T M A for one tile: M's position ξ at `m + ξ * stride`; writes output
    /// (i, j) of the 4x4 tile to `y + i * row + j * column` (`count` values each).
    @inline(__always)
    static func storeOutput(_ m: UnsafePointer<Float>, count: Int, stride: Int, bias: UnsafePointer<Float>,
                            into y: UnsafeMutablePointer<Float>, row: Int, column: Int) {
        var c = 0
        while c + 8 <= count { storeOutput(SIMD8<Float>.self, m + c, stride, bias + c, y + c, row, column); c += 8 }
        while c < count { storeOutput(Float.self, m + c, stride, bias + c, y + c, row, column); c += 1 }
    }

    @inline(__always)
    private static func storeOutput<L: FloatLanes>(_: L.Type, _ m: UnsafePointer<Float>, _ s: Int, _ bias: UnsafePointer<Float>,
                                                   _ y: UnsafeMutablePointer<Float>, _ r: Int, _ n: Int) {
        // M A, one row of M (positions 6i ... 6i + 5) at a time.
        @inline(__always) func rowTimesA(_ i: Int) -> (L, L, L, L) {
            let p = m + 6 * i * s
            return at(L(p), L(p + s), L(p + 2 * s), L(p + 3 * s), L(p + 4 * s), L(p + 5 * s))
        }
        let t0 = rowTimesA(0), t1 = rowTimesA(1), t2 = rowTimesA(2), t3 = rowTimesA(3), t4 = rowTimesA(4), t5 = rowTimesA(5)
        let bias = L(bias)
        // A^T (M A), one output column at a time.
        @inline(__always) func store(_ j: Int, _ x: (L, L, L, L)) {
            let o = y + j * n
            (x.0 + bias).store(o); (x.1 + bias).store(o + r); (x.2 + bias).store(o + 2 * r); (x.3 + bias).store(o + 3 * r)
        }
        store(0, at(t0.0, t1.0, t2.0, t3.0, t4.0, t5.0))
        store(1, at(t0.1, t1.1, t2.1, t3.1, t4.1, t5.1))
        store(2, at(t0.2, t1.2, t2.2, t3.2, t4.2, t5.2))
        store(3, at(t0.3, t1.3, t2.3, t3.3, t4.3, t5.3))
    }

    /// The adjoint of `storeOutput`: dM = A dY A^T from the 4x4 output gradients (output
    /// (i, j) at `y + i * row + j * column`), written to position ξ at `m + ξ * stride`.
    @inline(__always)
    static func transformOutputGradient(_ y: UnsafePointer<Float>, row: Int, column: Int,
                                        count: Int, into m: UnsafeMutablePointer<Float>, stride: Int) {
        var c = 0
        while c + 8 <= count { transformOutputGradient(SIMD8<Float>.self, y + c, row, column, m + c, stride); c += 8 }
        while c < count { transformOutputGradient(Float.self, y + c, row, column, m + c, stride); c += 1 }
    }

    @inline(__always)
    private static func transformOutputGradient<L: FloatLanes>(_: L.Type, _ y: UnsafePointer<Float>, _ r: Int, _ n: Int,
                                                                 _ m: UnsafeMutablePointer<Float>, _ s: Int) {
        // A dY, one output column at a time (six rows of four columns).
        @inline(__always) func aTimesColumn(_ j: Int) -> (L, L, L, L, L, L) {
            let p = y + j * n
            return a(L(p), L(p + r), L(p + 2 * r), L(p + 3 * r))
        }
        let t0 = aTimesColumn(0), t1 = aTimesColumn(1), t2 = aTimesColumn(2), t3 = aTimesColumn(3)
        // (A dY) A^T, one row at a time: row i gives positions 6i ... 6i + 5.
        @inline(__always) func store(_ i: Int, _ x: (L, L, L, L, L, L)) {
            let o = m + 6 * i * s
            x.0.store(o); x.1.store(o + s); x.2.store(o + 2 * s); x.3.store(o + 3 * s); x.4.store(o + 4 * s); x.5.store(o + 5 * s)
        }
        store(0, a(t0.0, t1.0, t2.0, t3.0))
        store(1, a(t0.1, t1.1, t2.1, t3.1))
        store(2, a(t0.2, t1.2, t2.2, t3.2))
        store(3, a(t0.3, t1.3, t2.3, t3.3))
        store(4, a(t0.4, t1.4, t2.4, t3.4))
        store(5, a(t0.5, t1.5, t2.5, t3.5))
    }
}
