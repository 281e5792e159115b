import CBFloat16
import COpenBLAS
import Foundation

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
/// float32 products run on ActionNet's own AVX-512 kernel (CBFloat16's al_f32_gemm) when
/// the CPU has AVX-512F, else on `cblas_sgemm`: OpenBLAS picks its kernels from
/// OPENBLAS_CORETYPE, which environments set to an older core (Haswell: AVX2) than the
/// one they run on, and which OpenBLAS must keep obeying for everything else.
/// ACTIONLAB_F32_GEMM=openblas sends them to OpenBLAS anyway (for comparisons).
///
/// A layer may declare a region of memory constant (`holdConstant`) while a pass
/// multiplies by it many times, e.g. the ConvLSTM's transformed kernel: a product of
/// ActionNet's own kernels whose op(B) lies in that region packs it (rounding it to
/// bfloat16 for bf16, and laying it out as the kernel reads it) once, at its first use,
/// instead of at every call.
///
/// Calls may come from several threads at once (the parts of a ConvLSTM pass);
/// `precision` and `holdConstant` change only between passes.
public final class MatrixProduct: @unchecked Sendable {
    public internal(set) var precision: Precision = .fp32

    /// Whether fp32 products use ActionNet's own kernel rather than `cblas_sgemm`.
    public static let ownFloat32Kernel: Bool = CPUFeatures.current.hasAVX512F
        && ProcessInfo.processInfo.environment["ACTIONLAB_F32_GEMM"] != "openblas"
    var ownFloat32Kernel = MatrixProduct.ownFloat32Kernel

    /// Memory declared constant until the next `holdConstant` or `releaseConstant`.
    private var constant: UnsafeRawBufferPointer?

    /// Packed (float32, or bfloat16) copies of operands in the constant region.
    private struct PackedKey: Hashable { let offset: Int, transposed: Bool, k: Int32, n: Int32, ld: Int32, bf16: Bool }
    private var packed: [PackedKey: UnsafeMutableRawPointer] = [:]
    private let packedLock = NSLock()
    /// Bytes of the packed copies held now, and the most held at once so far.
    private var packedNow = 0, packedMost = 0

    init() {}

    deinit { releaseConstant() }

    @inline(__always)
    func callAsFunction(_ order: CBLAS_ORDER, _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE,
                        _ m: Int32, _ n: Int32, _ k: Int32,
                        _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32,
                        _ b: UnsafePointer<Float>, _ ldb: Int32,
                        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32) {
        switch precision {
        case .fp32:
            guard ownFloat32Kernel, order == CblasRowMajor else {
                cblas_sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
                return
            }
            let ta: Int32 = transA == CblasNoTrans ? 0 : 1, tb: Int32 = transB == CblasNoTrans ? 0 : 1
            if let packedB = packedConstant(b, transposed: tb != 0, k: k, n: n, ldb: ldb, bf16: false) {
                al_f32_gemm_packed(ta, m, n, k, alpha, a, lda, packedB, beta, c, ldc)
            } else {
                al_f32_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            }
        case .bf16:
            precondition(order == CblasRowMajor, "bfloat16 products take row-major matrices")
            let ta: Int32 = transA == CblasNoTrans ? 0 : 1, tb: Int32 = transB == CblasNoTrans ? 0 : 1
            if let packedB = packedConstant(b, transposed: tb != 0, k: k, n: n, ldb: ldb, bf16: true) {
                al_bf16_gemm_packed(ta, m, n, k, alpha, a, lda, packedB, beta, c, ldc)
            } else {
                al_bf16_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            }
        }
    }

    /// Declares `count` floats at `start` unchanged until `releaseConstant` or the next
    /// `holdConstant`. Call it after writing them and before the products that read them.
    func holdConstant(_ start: UnsafePointer<Float>, count: Int) {
        releaseConstant()
        constant = UnsafeRawBufferPointer(start: start, count: count * MemoryLayout<Float>.stride)
    }

    func releaseConstant() {
        constant = nil
        packedLock.withLock {
            for buffer in packed.values { buffer.deallocate() }
            packed = [:]
            packedNow = 0
        }
    }

    /// The most bytes of packed copies held at once so far (a layer's `heldWorkingBytes`).
    var mostPackedBytes: Int { packedLock.withLock { packedMost } }

    /// Bytes of the packed copy of a constant op(B) of `k` rows and `n` columns in this
    /// product's precision, 0 where its products never pack one (float32 on OpenBLAS):
    /// what `packedConstant` allocates, for counting it in advance.
    func packedBytes(k: Int, n: Int) -> Int {
        guard k > 0, n > 0 else { return 0 }
        switch precision {
        case .fp32: return ownFloat32Kernel ? Self.packedBytes(k: Int32(k), n: Int32(n), bf16: false) : 0
        case .bf16: return Self.packedBytes(k: Int32(k), n: Int32(n), bf16: true)
        }
    }

    private static func packedBytes(k: Int32, n: Int32, bf16: Bool) -> Int {
        bf16 ? al_bf16_packed_b_bytes(k, n) : al_f32_packed_b_bytes(k, n)
    }

    /// op(B) packed for the bfloat16 or float32 kernel when all of it lies in the constant
    /// region (packed now if this is its first use), else nil.
    private func packedConstant(_ b: UnsafePointer<Float>, transposed: Bool, k: Int32, n: Int32,
                                ldb: Int32, bf16: Bool) -> UnsafeRawPointer? {
        guard let constant, let base = constant.baseAddress, k > 0, n > 0 else { return nil }
        // B's stored rows and columns: (k, n), or (n, k) when transposed.
        let (rows, columns) = transposed ? (Int(n), Int(k)) : (Int(k), Int(n))
        let start = UnsafeRawPointer(b), end = UnsafeRawPointer(b + (rows - 1) * Int(ldb) + columns)
        guard start >= base, end <= base + constant.count else { return nil }
        let key = PackedKey(offset: start - base, transposed: transposed, k: k, n: n, ld: ldb, bf16: bf16)
        return packedLock.withLock {
            if let buffer = packed[key] { return UnsafeRawPointer(buffer) }
            let bytes = Self.packedBytes(k: k, n: n, bf16: bf16)
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            if bf16 { al_bf16_pack_b(transposed ? 1 : 0, k, n, b, ldb, buffer) }
            else { al_f32_pack_b(transposed ? 1 : 0, k, n, b, ldb, buffer) }
            packed[key] = buffer
            packedNow += bytes
            packedMost = max(packedMost, packedNow)
            return UnsafeRawPointer(buffer)
        }
    }
}

/// Layers whose products go through a `MatrixProduct`, which `ActionModel` sets the
/// precision of.
protocol MatrixProductLayer: Layer {
    var matmul: MatrixProduct { get }
}

/// The rounding of the bfloat16 products' operands (as CBFloat16 rounds them), in Swift:
/// what the tests compare the products with.
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
}
