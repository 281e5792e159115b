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
    /// 16 transformed kernels U[ξ] (ξ = 4r + c) from a 3x3 kernel: for each of `rows`
    /// input channels, `row(ky, kx, channel)` points at its `columns` output channels.
    /// Writes `u` as (16, rows, columns).
    static func transformKernel(rows: Int, columns: Int, into u: UnsafeMutablePointer<Float>,
                                row: (_ ky: Int, _ kx: Int, _ channel: Int) -> UnsafePointer<Float>) {
        let plane = rows * columns
        for channel in 0..<rows {
            let g00 = row(0, 0, channel), g01 = row(0, 1, channel), g02 = row(0, 2, channel)
            let g10 = row(1, 0, channel), g11 = row(1, 1, channel), g12 = row(1, 2, channel)
            let g20 = row(2, 0, channel), g21 = row(2, 1, channel), g22 = row(2, 2, channel)
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
            let g00 = row(0, 0, channel), g01 = row(0, 1, channel), g02 = row(0, 2, channel)
            let g10 = row(1, 0, channel), g11 = row(1, 1, channel), g12 = row(1, 2, channel)
            let g20 = row(2, 0, channel), g21 = row(2, 1, channel), g22 = row(2, 2, channel)
            let d = du + channel * columns
            for j in 0..<columns {
                // dU G (4x3): columns dU0 + (dU1 + dU2) / 2, (dU1 - dU2) / 2, (dU1 + dU2) / 2 + dU3, per row.
                var e = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0),
                         Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
                do {
                    let r0 = (d[0 * plane + j], d[1 * plane + j], d[2 * plane + j], d[3 * plane + j])
                    let r1 = (d[4 * plane + j], d[5 * plane + j], d[6 * plane + j], d[7 * plane + j])
                    let r2 = (d[8 * plane + j], d[9 * plane + j], d[10 * plane + j], d[11 * plane + j])
                    let r3 = (d[12 * plane + j], d[13 * plane + j], d[14 * plane + j], d[15 * plane + j])
                    e.0 = r0.0 + 0.5 * (r0.1 + r0.2); e.1 = 0.5 * (r0.1 - r0.2); e.2 = 0.5 * (r0.1 + r0.2) + r0.3
                    e.3 = r1.0 + 0.5 * (r1.1 + r1.2); e.4 = 0.5 * (r1.1 - r1.2); e.5 = 0.5 * (r1.1 + r1.2) + r1.3
                    e.6 = r2.0 + 0.5 * (r2.1 + r2.2); e.7 = 0.5 * (r2.1 - r2.2); e.8 = 0.5 * (r2.1 + r2.2) + r2.3
                    e.9 = r3.0 + 0.5 * (r3.1 + r3.2); e.10 = 0.5 * (r3.1 - r3.2); e.11 = 0.5 * (r3.1 + r3.2) + r3.3
                }
                // G^T (dU G) (3x3): rows E0 + (E1 + E2) / 2, (E1 - E2) / 2, (E1 + E2) / 2 + E3.
                g00[j] += e.0 + 0.5 * (e.3 + e.6); g01[j] += e.1 + 0.5 * (e.4 + e.7); g02[j] += e.2 + 0.5 * (e.5 + e.8)
                g10[j] += 0.5 * (e.3 - e.6); g11[j] += 0.5 * (e.4 - e.7); g12[j] += 0.5 * (e.5 - e.8)
                g20[j] += 0.5 * (e.3 + e.6) + e.9; g21[j] += 0.5 * (e.4 + e.7) + e.10; g22[j] += 0.5 * (e.5 + e.8) + e.11
            }
        }
    }

    /// V = B^T d B for one tile: `d` holds the 4x4 window's channel vectors (position
    /// 4i + j at `d + (4i + j) * count`), `v` receives position ξ at `v + ξ * stride`.
    @inline(__always)
    static func transformInput(_ d: UnsafePointer<Float>, count: Int, into v: UnsafeMutablePointer<Float>, stride: Int) {
        for c in 0..<count {
            let d00 = d[c], d01 = d[count + c], d02 = d[2 * count + c], d03 = d[3 * count + c]
            let d10 = d[4 * count + c], d11 = d[5 * count + c], d12 = d[6 * count + c], d13 = d[7 * count + c]
            let d20 = d[8 * count + c], d21 = d[9 * count + c], d22 = d[10 * count + c], d23 = d[11 * count + c]
            let d30 = d[12 * count + c], d31 = d[13 * count + c], d32 = d[14 * count + c], d33 = d[15 * count + c]
            // B^T d: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3.
            let t00 = d00 - d20, t01 = d01 - d21, t02 = d02 - d22, t03 = d03 - d23
            let t10 = d10 + d20, t11 = d11 + d21, t12 = d12 + d22, t13 = d13 + d23
            let t20 = d20 - d10, t21 = d21 - d11, t22 = d22 - d12, t23 = d23 - d13
            let t30 = d10 - d30, t31 = d11 - d31, t32 = d12 - d32, t33 = d13 - d33
            // (B^T d) B: the same along each row.
            v[0 * stride + c] = t00 - t02; v[1 * stride + c] = t01 + t02; v[2 * stride + c] = t02 - t01; v[3 * stride + c] = t01 - t03
            v[4 * stride + c] = t10 - t12; v[5 * stride + c] = t11 + t12; v[6 * stride + c] = t12 - t11; v[7 * stride + c] = t11 - t13
            v[8 * stride + c] = t20 - t22; v[9 * stride + c] = t21 + t22; v[10 * stride + c] = t22 - t21; v[11 * stride + c] = t21 - t23
            v[12 * stride + c] = t30 - t32; v[13 * stride + c] = t31 + t32; v[14 * stride + c] = t32 - t31; v[15 * stride + c] = t31 - t33
        }
    }

    /// The adjoint of `transformInput`, in place: replaces the 16 vectors dV (position ξ
    /// at `v + ξ * stride`, `count` values each) with B dV B^T, the gradient of the window.
    @inline(__always)
    static func transformInputGradient(_ v: UnsafeMutablePointer<Float>, count: Int, stride: Int) {
        for c in 0..<count {
            let v00 = v[c], v01 = v[stride + c], v02 = v[2 * stride + c], v03 = v[3 * stride + c]
            let v10 = v[4 * stride + c], v11 = v[5 * stride + c], v12 = v[6 * stride + c], v13 = v[7 * stride + c]
            let v20 = v[8 * stride + c], v21 = v[9 * stride + c], v22 = v[10 * stride + c], v23 = v[11 * stride + c]
            let v30 = v[12 * stride + c], v31 = v[13 * stride + c], v32 = v[14 * stride + c], v33 = v[15 * stride + c]
            // B dV: rows dV0, dV1 - dV2 + dV3, dV1 + dV2 - dV0, -dV3.
            let t00 = v00, t01 = v01, t02 = v02, t03 = v03
            let t10 = v10 - v20 + v30, t11 = v11 - v21 + v31, t12 = v12 - v22 + v32, t13 = v13 - v23 + v33
            let t20 = v10 + v20 - v00, t21 = v11 + v21 - v01, t22 = v12 + v22 - v02, t23 = v13 + v23 - v03
            let t30 = -v30, t31 = -v31, t32 = -v32, t33 = -v33
            // (B dV) B^T: the same along each row.
            v[0 * stride + c] = t00; v[1 * stride + c] = t01 - t02 + t03; v[2 * stride + c] = t01 + t02 - t00; v[3 * stride + c] = -t03
            v[4 * stride + c] = t10; v[5 * stride + c] = t11 - t12 + t13; v[6 * stride + c] = t11 + t12 - t10; v[7 * stride + c] = -t13
            v[8 * stride + c] = t20; v[9 * stride + c] = t21 - t22 + t23; v[10 * stride + c] = t21 + t22 - t20; v[11 * stride + c] = -t23
            v[12 * stride + c] = t30; v[13 * stride + c] = t31 - t32 + t33; v[14 * stride + c] = t31 + t32 - t30; v[15 * stride + c] = -t33
        }
    }

    /// Y = A^T M A for one tile: M's position ξ at `m + ξ * stride`; adds the 2x2
    /// outputs into `y00`, `y01`, `y10`, `y11` (`count` values each).
    @inline(__always)
    static func addOutput(_ m: UnsafePointer<Float>, count: Int, stride: Int,
                          y00: UnsafeMutablePointer<Float>, y01: UnsafeMutablePointer<Float>,
                          y10: UnsafeMutablePointer<Float>, y11: UnsafeMutablePointer<Float>) {
        for c in 0..<count {
            let m00 = m[c], m01 = m[stride + c], m02 = m[2 * stride + c], m03 = m[3 * stride + c]
            let m10 = m[4 * stride + c], m11 = m[5 * stride + c], m12 = m[6 * stride + c], m13 = m[7 * stride + c]
            let m20 = m[8 * stride + c], m21 = m[9 * stride + c], m22 = m[10 * stride + c], m23 = m[11 * stride + c]
            let m30 = m[12 * stride + c], m31 = m[13 * stride + c], m32 = m[14 * stride + c], m33 = m[15 * stride + c]
            // A^T M: rows m0 + m1 + m2, m1 - m2 - m3.
            let s00 = m00 + m10 + m20, s01 = m01 + m11 + m21, s02 = m02 + m12 + m22, s03 = m03 + m13 + m23
            let s10 = m10 - m20 - m30, s11 = m11 - m21 - m31, s12 = m12 - m22 - m32, s13 = m13 - m23 - m33
            y00[c] += s00 + s01 + s02
            y01[c] += s01 - s02 - s03
            y10[c] += s10 + s11 + s12
            y11[c] += s11 - s12 - s13
        }
    }

    /// The adjoint of `addOutput`: dM = A dY A^T from the 2x2 output gradients, written
    /// to position ξ at `m + ξ * stride`. A missing output (past the frame's edge) is `zeros`.
    @inline(__always)
    static func transformOutputGradient(y00: UnsafePointer<Float>, y01: UnsafePointer<Float>,
                                        y10: UnsafePointer<Float>, y11: UnsafePointer<Float>,
                                        count: Int, into m: UnsafeMutablePointer<Float>, stride: Int) {
        for c in 0..<count {
            let a = y00[c], b = y01[c], d = y10[c], e = y11[c]
            // A dY: rows y0, y0 + y1, y0 - y1, -y1 (rows of dY).
            let r00 = a, r01 = b
            let r10 = a + d, r11 = b + e
            let r20 = a - d, r21 = b - e
            let r30 = -d, r31 = -e
            // (A dY) A^T: columns p, p + q, p - q, -q of each row (p, q).
            m[0 * stride + c] = r00; m[1 * stride + c] = r00 + r01; m[2 * stride + c] = r00 - r01; m[3 * stride + c] = -r01
            m[4 * stride + c] = r10; m[5 * stride + c] = r10 + r11; m[6 * stride + c] = r10 - r11; m[7 * stride + c] = -r11
            m[8 * stride + c] = r20; m[9 * stride + c] = r20 + r21; m[10 * stride + c] = r20 - r21; m[11 * stride + c] = -r21
            m[12 * stride + c] = r30; m[13 * stride + c] = r30 + r31; m[14 * stride + c] = r30 - r31; m[15 * stride + c] = -r31
        }
    }
}
