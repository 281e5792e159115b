// exp, sigmoid and tanh for the ConvLSTM gates. The libm calls cost as much as the
// convolutions' sgemm at small sizes; these are plain arithmetic (Cephes's single-
// precision exp polynomial, about 1 ulp) that the compiler vectorises in loops.

/// exp(x) for x in [-87.3, 88.3] (clamped outside). Rounds x / ln 2 to the nearest
/// integer n with the 1.5 * 2^23 trick and builds 2^n from its bits, so the loop has no
/// conversions or calls and vectorises.
@inline(__always)
func fastExp(_ input: Float) -> Float {
    var x = input
    x = x < -87.3 ? -87.3 : x
    x = x > 88.3 ? 88.3 : x
    // Fused multiply-adds (one instruction where a product and a sum were two; the
    // compiler does not fuse them itself): a step's gate arithmetic is mostly this.
    let shifted = Float(12_582_912).addingProduct(x, 1.442_695_04)
    let n = shifted - 12_582_912
    // r = x - n ln 2, with ln 2 split in two for accuracy.
    var r = x.addingProduct(-n, 0.693_359_375)
    r = r.addingProduct(n, 2.121_944_4e-4)
    var p: Float = 1.987_569_15e-4
    p = Float(1.398_199_95e-3).addingProduct(p, r)
    p = Float(8.333_451_9e-3).addingProduct(p, r)
    p = Float(4.166_579_59e-2).addingProduct(p, r)
    p = Float(1.666_666_55e-1).addingProduct(p, r)
    p = Float(5.000_000_12e-1).addingProduct(p, r)
    let e = r.addingProduct(p, r * r) + 1
    return e * Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
}

@inline(__always)
func fastSigmoid(_ x: Float) -> Float { 1 / (1 + fastExp(-x)) }

/// tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|): no overflow, absolute error ~2e-7.
@inline(__always)
func fastTanh(_ x: Float) -> Float {
    let e = fastExp(-2 * abs(x))
    let t = (1 - e) / (1 + e)
    return x < 0 ? -t : t
}

/// Replaces `count` values with their tanh.
@inline(__always)
func applyTanh(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { p[i] = fastTanh(p[i]) }
}

/// A value the Winograd transforms and the gate gradients compute with: one Float (for the last
/// few channels) or eight (SIMD8, which the compiler maps to vector registers).
protocol FloatLanes {
    init(_ pointer: UnsafePointer<Float>)
    func store(_ pointer: UnsafeMutablePointer<Float>)
    static var one: Self { get }
    init(repeating value: Float)
    /// self + a b, rounded once (a fused multiply-add).
    func addingProduct(_ a: Self, _ b: Self) -> Self
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
}

extension Float: FloatLanes {
    @inline(__always) init(_ pointer: UnsafePointer<Float>) { self = pointer.pointee }
    @inline(__always) func store(_ pointer: UnsafeMutablePointer<Float>) { pointer.pointee = self }
    @inline(__always) static var one: Float { 1 }
    @inline(__always) init(repeating value: Float) { self = value }
}

extension SIMD8: FloatLanes where Scalar == Float {
    @inline(__always) init(_ pointer: UnsafePointer<Float>) { self = UnsafeRawPointer(pointer).loadUnaligned(as: Self.self) }
    @inline(__always) func store(_ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
    }
    @inline(__always) static var one: Self { Self(repeating: 1) }
}
