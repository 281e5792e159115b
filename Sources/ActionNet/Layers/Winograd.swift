/// Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, 2015) for the ConvLSTM's
/// 3x3 "same" convolutions, in the channels-innermost layout the layer keeps.
///
/// The output is cut into tiles of 2x2 pixels; each reads a 4x4 window of the input
/// (one pixel of padding around it). Per tile and channel
///
///     Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
///
/// so a 3x3 correlation of a 2x2 tile costs 16 multiplications instead of 36: with the
/// kernel transformed once (U = G g G^T, 16 matrices of (Cin, Cout)) and each input window
/// transformed (V = B^T d B, 16 rows of Cin per tile), the products become 16 sgemms of
/// (tiles, Cin) x (Cin, Cout), 2.25x less arithmetic than im2col's (pixels, 9 Cin) x (9 Cin, Cout).
///
/// Backprop runs the adjoints of the same linear maps, so the gradients are exact for
/// the computed forward pass. The transforms' entries are 0, ±1 and ±1/2: in single
/// precision the results differ from a direct convolution by a few ulps.
///
/// Every function works on vectors of channels (`count` values `stride` apart between
/// the 16 positions), in loops the compiler vectorises.
enum WinogradF2x3 {
    /// The nine taps of one input channel of a 3x3 kernel, each pointing at the channel's
    /// output channels: `row(ky, kx, channel)` for every (ky, kx).
    struct Taps<Pointer> {
        let g00: Pointer, g01: Pointer, g02: Pointer
        let g10: Pointer, g11: Pointer, g12: Pointer
        let g20: Pointer, g21: Pointer, g22: Pointer

        @inline(__always)
        init(_ channel: Int, _ row: (_ ky: Int, _ kx: Int, _ channel: Int) -> Pointer) {
            (g00, g01, g02) = (row(0, 0, channel), row(0, 1, channel), row(0, 2, channel))
            (g10, g11, g12) = (row(1, 0, channel), row(1, 1, channel), row(1, 2, channel))
            (g20, g21, g22) = (row(2, 0, channel), row(2, 1, channel), row(2, 2, channel))
        }
    }

    /// 16 transformed kernels U[ξ] (ξ = 4r + c) from a 3x3 kernel: for each of `rows`
    /// input channels, `row(ky, kx, channel)` points at its `columns` output channels.
    /// Writes `u` as (16, rows, columns).
    static func transformKernel(rows: Int, columns: Int, into u: UnsafeMutablePointer<Float>,
                                row: (_ ky: Int, _ kx: Int, _ channel: Int) -> UnsafePointer<Float>) {
        let plane = rows * columns
        for channel in 0..<rows {
            let t = Taps(channel, row)
            let (g00, g01, g02, g10, g11, g12, g20, g21, g22) = (t.g00, t.g01, t.g02, t.g10, t.g11, t.g12, t.g20, t.g21, t.g22)
            let out = u + channel * columns
            for j in 0..<columns {
                // G g: rows g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2, per kernel column.
                let a00 = g00[j], a01 = g01[j], a02 = g02[j]
                let a10 = 0.5 * (g00[j] + g10[j] + g20[j]), a11 = 0.5 * (g01[j] + g11[j] + g21[j])
                let a12 = 0.5 * (g02[j] + g12[j] + g22[j])
                let a20 = 0.5 * (g00[j] - g10[j] + g20[j]), a21 = 0.5 * (g01[j] - g11[j] + g21[j])
                let a22 = 0.5 * (g02[j] - g12[j] + g22[j])
                let a30 = g20[j], a31 = g21[j], a32 = g22[j]
                // (G g) G^T: the same combination along each row.
                out[0 * plane + j] = a00
                out[1 * plane + j] = 0.5 * (a00 + a01 + a02)
                out[2 * plane + j] = 0.5 * (a00 - a01 + a02)
                out[3 * plane + j] = a02
                out[4 * plane + j] = a10
                out[5 * plane + j] = 0.5 * (a10 + a11 + a12)
                out[6 * plane + j] = 0.5 * (a10 - a11 + a12)
                out[7 * plane + j] = a12
                out[8 * plane + j] = a20
                out[9 * plane + j] = 0.5 * (a20 + a21 + a22)
                out[10 * plane + j] = 0.5 * (a20 - a21 + a22)
                out[11 * plane + j] = a22
                out[12 * plane + j] = a30
                out[13 * plane + j] = 0.5 * (a30 + a31 + a32)
                out[14 * plane + j] = 0.5 * (a30 - a31 + a32)
                out[15 * plane + j] = a32
            }
        }
    }

    /// The adjoint of `transformKernel`: adds G^T dU[ξ] G into the 3x3 kernel gradient,
    /// `row(ky, kx, channel)` pointing at a channel's `columns` gradients.
    static func addKernelGradient(rows: Int, columns: Int, from du: UnsafePointer<Float>,
                                  row: (_ ky: Int, _ kx: Int, _ channel: Int) -> UnsafeMutablePointer<Float>) {
        let plane = rows * columns
        for channel in 0..<rows {
            let t = Taps(channel, row)
            let (g00, g01, g02, g10, g11, g12, g20, g21, g22) = (t.g00, t.g01, t.g02, t.g10, t.g11, t.g12, t.g20, t.g21, t.g22)
            let du0 = du + channel * columns
            for j in 0..<columns {
                // dU G (4x3): columns dU0 + (dU1 + dU2) / 2, (dU1 - dU2) / 2, (dU1 + dU2) / 2 + dU3, per row r.
                func timesG(_ r: Int) -> (Float, Float, Float) {
                    let (a, b, c, d) = (du0[(4 * r) * plane + j], du0[(4 * r + 1) * plane + j],
                                        du0[(4 * r + 2) * plane + j], du0[(4 * r + 3) * plane + j])
                    return (a + 0.5 * (b + c), 0.5 * (b - c), 0.5 * (b + c) + d)
                }
                let e0 = timesG(0), e1 = timesG(1), e2 = timesG(2), e3 = timesG(3)
                // G^T (dU G) (3x3): rows E0 + (E1 + E2) / 2, (E1 - E2) / 2, (E1 + E2) / 2 + E3.
                g00[j] += e0.0 + 0.5 * (e1.0 + e2.0); g01[j] += e0.1 + 0.5 * (e1.1 + e2.1); g02[j] += e0.2 + 0.5 * (e1.2 + e2.2)
                g10[j] += 0.5 * (e1.0 - e2.0); g11[j] += 0.5 * (e1.1 - e2.1); g12[j] += 0.5 * (e1.2 - e2.2)
                g20[j] += 0.5 * (e1.0 + e2.0) + e3.0; g21[j] += 0.5 * (e1.1 + e2.1) + e3.1; g22[j] += 0.5 * (e1.2 + e2.2) + e3.2
            }
        }
    }

    /// V = B^T d B for one tile: the 4x4 window's channel vectors are at `d + i * row +
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
        let d00 = L(d), d01 = L(d + n), d02 = L(d + 2 * n), d03 = L(d + 3 * n)
        let d10 = L(d + r), d11 = L(d + r + n), d12 = L(d + r + 2 * n), d13 = L(d + r + 3 * n)
        let d20 = L(d + 2 * r), d21 = L(d + 2 * r + n), d22 = L(d + 2 * r + 2 * n), d23 = L(d + 2 * r + 3 * n)
        let d30 = L(d + 3 * r), d31 = L(d + 3 * r + n), d32 = L(d + 3 * r + 2 * n), d33 = L(d + 3 * r + 3 * n)
        // B^T d: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3.
        let t00 = d00 - d20, t01 = d01 - d21, t02 = d02 - d22, t03 = d03 - d23
        let t10 = d10 + d20, t11 = d11 + d21, t12 = d12 + d22, t13 = d13 + d23
        let t20 = d20 - d10, t21 = d21 - d11, t22 = d22 - d12, t23 = d23 - d13
        let t30 = d10 - d30, t31 = d11 - d31, t32 = d12 - d32, t33 = d13 - d33
        // (B^T d) B: the same along each row.
        (t00 - t02).store(v); (t01 + t02).store(v + s); (t02 - t01).store(v + 2 * s); (t01 - t03).store(v + 3 * s)
        (t10 - t12).store(v + 4 * s); (t11 + t12).store(v + 5 * s); (t12 - t11).store(v + 6 * s); (t11 - t13).store(v + 7 * s)
        (t20 - t22).store(v + 8 * s); (t21 + t22).store(v + 9 * s); (t22 - t21).store(v + 10 * s); (t21 - t23).store(v + 11 * s)
        (t30 - t32).store(v + 12 * s); (t31 + t32).store(v + 13 * s); (t32 - t31).store(v + 14 * s); (t31 - t33).store(v + 15 * s)
    }

    /// The adjoint of `transformInput`, added into the window's gradient: the 16 vectors
    /// dV (position ξ at `v + ξ * stride`, `count` values each) become B dV B^T, added
    /// to window row i at `rows.i`, its four pixels `column` apart: each tile's share of
    /// the input gradient, added while its dV is still in cache.
    @inline(__always)
    static func addInputGradient(_ v: UnsafePointer<Float>, count: Int, stride: Int,
                                 rows: WindowRows, column: Int) {
        var c = 0
        while c + 8 <= count { addInputGradient(SIMD8<Float>.self, v + c, stride, rows.offset(by: c), column); c += 8 }
        while c < count { addInputGradient(Float.self, v + c, stride, rows.offset(by: c), column); c += 1 }
    }

    /// Where the four rows of a tile's input window start; rows of one window may lie in
    /// different buffers.
    struct WindowRows {
        let r0: UnsafeMutablePointer<Float>, r1: UnsafeMutablePointer<Float>
        let r2: UnsafeMutablePointer<Float>, r3: UnsafeMutablePointer<Float>

        @inline(__always) func offset(by n: Int) -> WindowRows {
            WindowRows(r0: r0 + n, r1: r1 + n, r2: r2 + n, r3: r3 + n)
        }
    }

    @inline(__always)
    private static func addInputGradient<L: FloatLanes>(_: L.Type, _ v: UnsafePointer<Float>, _ s: Int,
                                                        _ rows: WindowRows, _ n: Int) {
        @inline(__always) func add(_ value: L, _ p: UnsafeMutablePointer<Float>) { (L(p) + value).store(p) }
        let v00 = L(v), v01 = L(v + s), v02 = L(v + 2 * s), v03 = L(v + 3 * s)
        let v10 = L(v + 4 * s), v11 = L(v + 5 * s), v12 = L(v + 6 * s), v13 = L(v + 7 * s)
        let v20 = L(v + 8 * s), v21 = L(v + 9 * s), v22 = L(v + 10 * s), v23 = L(v + 11 * s)
        let v30 = L(v + 12 * s), v31 = L(v + 13 * s), v32 = L(v + 14 * s), v33 = L(v + 15 * s)
        // B dV: rows dV0, dV1 - dV2 + dV3, dV1 + dV2 - dV0, -dV3; then the same along each row.
        let t10 = v10 - v20 + v30, t11 = v11 - v21 + v31, t12 = v12 - v22 + v32, t13 = v13 - v23 + v33
        let t20 = v10 + v20 - v00, t21 = v11 + v21 - v01, t22 = v12 + v22 - v02, t23 = v13 + v23 - v03
        let (a, b, c, d) = (rows.r0, rows.r1, rows.r2, rows.r3)
        add(v00, a); add(v01 - v02 + v03, a + n); add(v01 + v02 - v00, a + 2 * n); add(-v03, a + 3 * n)
        add(t10, b); add(t11 - t12 + t13, b + n); add(t11 + t12 - t10, b + 2 * n); add(-t13, b + 3 * n)
        add(t20, c); add(t21 - t22 + t23, c + n); add(t21 + t22 - t20, c + 2 * n); add(-t23, c + 3 * n)
        add(-v30, d); add(v32 - v31 - v33, d + n); add(v30 - v31 - v32, d + 2 * n); add(v33, d + 3 * n)
    }

    /// Y = bias + A^T M A for one tile: M's position ξ at `m + ξ * stride`; writes the
    /// 2x2 outputs to `y00`, `y01`, `y10`, `y11` (`count` values each).
    @inline(__always)
    static func storeOutput(_ m: UnsafePointer<Float>, count: Int, stride: Int, bias: UnsafePointer<Float>,
                            y00: UnsafeMutablePointer<Float>, y01: UnsafeMutablePointer<Float>,
                            y10: UnsafeMutablePointer<Float>, y11: UnsafeMutablePointer<Float>) {
        var c = 0
        while c + 8 <= count {
            storeOutput(SIMD8<Float>.self, m + c, stride, bias + c, y00 + c, y01 + c, y10 + c, y11 + c); c += 8
        }
        while c < count { storeOutput(Float.self, m + c, stride, bias + c, y00 + c, y01 + c, y10 + c, y11 + c); c += 1 }
    }

    @inline(__always)
    private static func storeOutput<L: FloatLanes>(_: L.Type, _ m: UnsafePointer<Float>, _ s: Int, _ bias: UnsafePointer<Float>,
                                                   _ y00: UnsafeMutablePointer<Float>, _ y01: UnsafeMutablePointer<Float>,
                                                   _ y10: UnsafeMutablePointer<Float>, _ y11: UnsafeMutablePointer<Float>) {
        // A^T M: rows m0 + m1 + m2, m1 - m2 - m3.
        let m10 = L(m + 4 * s), m11 = L(m + 5 * s), m12 = L(m + 6 * s), m13 = L(m + 7 * s)
        let m20 = L(m + 8 * s), m21 = L(m + 9 * s), m22 = L(m + 10 * s), m23 = L(m + 11 * s)
        let s00 = L(m) + m10 + m20, s01 = L(m + s) + m11 + m21, s02 = L(m + 2 * s) + m12 + m22, s03 = L(m + 3 * s) + m13 + m23
        let s10 = m10 - m20 - L(m + 12 * s), s11 = m11 - m21 - L(m + 13 * s)
        let s12 = m12 - m22 - L(m + 14 * s), s13 = m13 - m23 - L(m + 15 * s)
        let b = L(bias)
        (b + (s00 + s01 + s02)).store(y00)
        (b + (s01 - s02 - s03)).store(y01)
        (b + (s10 + s11 + s12)).store(y10)
        (b + (s11 - s12 - s13)).store(y11)
    }

    /// The adjoint of `storeOutput`: dM = A dY A^T from the 2x2 output gradients, written
    /// to position ξ at `m + ξ * stride`. A missing output (past the frame's edge) is `zeros`.
    @inline(__always)
    static func transformOutputGradient(y00: UnsafePointer<Float>, y01: UnsafePointer<Float>,
                                        y10: UnsafePointer<Float>, y11: UnsafePointer<Float>,
                                        count: Int, into m: UnsafeMutablePointer<Float>, stride: Int) {
        var c = 0
        while c + 8 <= count { transformOutputGradient(SIMD8<Float>.self, y00 + c, y01 + c, y10 + c, y11 + c, m + c, stride); c += 8 }
        while c < count { transformOutputGradient(Float.self, y00 + c, y01 + c, y10 + c, y11 + c, m + c, stride); c += 1 }
    }

    @inline(__always)
    private static func transformOutputGradient<L: FloatLanes>(_: L.Type, _ y00: UnsafePointer<Float>, _ y01: UnsafePointer<Float>,
                                                                 _ y10: UnsafePointer<Float>, _ y11: UnsafePointer<Float>,
                                                                 _ m: UnsafeMutablePointer<Float>, _ s: Int) {
        let a = L(y00), b = L(y01), d = L(y10), e = L(y11)
        // A dY: rows y0, y0 + y1, y0 - y1, -y1 (rows of dY); then (A dY) A^T: columns
        // p, p + q, p - q, -q of each row (p, q).
        let r10 = a + d, r11 = b + e, r20 = a - d, r21 = b - e
        a.store(m); (a + b).store(m + s); (a - b).store(m + 2 * s); (-b).store(m + 3 * s)
        r10.store(m + 4 * s); (r10 + r11).store(m + 5 * s); (r10 - r11).store(m + 6 * s); (-r11).store(m + 7 * s)
        r20.store(m + 8 * s); (r20 + r21).store(m + 9 * s); (r20 - r21).store(m + 10 * s); (-r21).store(m + 11 * s)
        (-d).store(m + 12 * s); (-d - e).store(m + 13 * s); (e - d).store(m + 14 * s); e.store(m + 15 * s)
    }
}
