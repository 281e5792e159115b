import COpenBLAS

/// The number format of a model's large matrix products: the ConvLSTMs' convolutions
/// (Winograd or im2col) and the Dense layers, forward and backward.
///
/// `fp32` multiplies float32 values. `bf16` rounds both inputs of each product to
/// bfloat16 (float32's 8-bit exponent with a 7-bit mantissa) and accumulates the
/// products in float32. Everything else stays float32 in both modes: the weights, the
/// gradients they accumulate into, the gate arithmetic, BatchNorm and Adam. Precision is
/// a setting of a run, not part of a model: checkpoints hold float32 weights either way.
public enum Precision: String, Sendable, CaseIterable, Codable {
    case fp32, bf16
}

/// The matrix products of one layer: C = alpha op(A) op(B) + beta C with the arguments
/// of `cblas_sgemm`, so that a call site changes only in the name it calls, computed in
/// the layer's `precision`.
///
/// A layer may declare a region of memory constant (`holdConstant`) while a pass
/// multiplies by it many times, e.g. the ConvLSTM's transformed kernel: a bfloat16 product
/// may then convert that operand once instead of at every call.
///
/// Calls may come from several threads at once (the parts of a ConvLSTM pass);
/// `precision` and `holdConstant` change only between passes.
public final class MatrixProduct: @unchecked Sendable {
    public internal(set) var precision: Precision = .fp32

    /// Memory declared constant until the next `holdConstant` or `releaseConstant`.
    private var constant: UnsafeRawBufferPointer?

    init() {}

    @inline(__always)
    func callAsFunction(_ order: CBLAS_ORDER, _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE,
                        _ m: Int32, _ n: Int32, _ k: Int32,
                        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32,
                        _ b: UnsafePointer<Float>, _ ldb: Int32,
                        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32) {
        switch precision {
        case .fp32:
            cblas_sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        case .bf16:
            BFloat16Product.reference(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
    }

    /// Declares `count` floats at `start` unchanged until `releaseConstant` or the next
    /// `holdConstant`. Call it after writing them and before the products that read them.
    func holdConstant(_ start: UnsafePointer<Float>, count: Int) {
        constant = UnsafeRawBufferPointer(start: start, count: count * MemoryLayout<Float>.stride)
    }

    func releaseConstant() {
        constant = nil
    }
}

/// Layers whose products go through a `MatrixProduct`, which `ActionModel` sets the
/// precision of.
protocol MatrixProductLayer: Layer {
    var matmul: MatrixProduct { get }
}

/// bfloat16 values and products.
enum BFloat16Product {
    /// `x` rounded to the nearest bfloat16 (ties to even), as the 16 bits of one: the top
    /// half of the float32's bits. NaNs stay NaNs (quiet); infinities and overflow to
    /// infinity behave as float32 rounding does.
    @inline(__always)
    static func bits(_ x: Float) -> UInt16 {
        let u = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: u >> 16) | 0x0040 }
        let rounded = u &+ 0x7FFF &+ ((u >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// `x` rounded to the nearest bfloat16, as a float32.
    @inline(__always)
    static func rounded(_ x: Float) -> Float {
        Float(bitPattern: UInt32(bits(x)) << 16)
    }

    /// The bfloat16 product computed with float32 arithmetic: both operands rounded to
    /// bfloat16, then multiplied by sgemm. A product of two bfloat16 values is exact in
    /// float32 (8 + 8 significant bits), so this is a bfloat16 product with float32
    /// accumulation, only slower: the check for the fast kernel.
    static func reference(_ order: CBLAS_ORDER, _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE,
                          _ m: Int32, _ n: Int32, _ k: Int32,
                          _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32,
                          _ b: UnsafePointer<Float>, _ ldb: Int32,
                          _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32) {
        precondition(order == CblasRowMajor, "bfloat16 products take row-major matrices")
        // Stored rows and columns of op(A) (m x k) and op(B) (k x n), row-major.
        let (aRows, aColumns) = transA == CblasNoTrans ? (Int(m), Int(k)) : (Int(k), Int(m))
        let (bRows, bColumns) = transB == CblasNoTrans ? (Int(k), Int(n)) : (Int(n), Int(k))
        func roundedCopy(_ p: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int) -> [Float] {
            var copy = [Float](repeating: 0, count: rows * columns)
            for r in 0..<rows { for j in 0..<columns { copy[r * columns + j] = rounded(p[r * ld + j]) } }
            return copy
        }
        let ra = roundedCopy(a, rows: aRows, columns: aColumns, ld: Int(lda))
        let rb = roundedCopy(b, rows: bRows, columns: bColumns, ld: Int(ldb))
        cblas_sgemm(order, transA, transB, m, n, k, alpha, ra, Int32(max(aColumns, 1)), rb, Int32(max(bColumns, 1)),
                    beta, c, ldc)
    }
}
