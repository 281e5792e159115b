/// A fixed-size, zero-initialised Float buffer with a stable address, for the kernels'
/// parameters, activations and caches. Swift arrays may move; these never do.
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        self.count = max(count, 0)
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    func zero() { pointer.update(repeating: 0, count: count) }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// Grows a buffer to hold at least `count` values, keeping it when already big enough.
func ensure(_ buffer: inout FloatBuffer?, _ count: Int) -> FloatBuffer {
    if let existing = buffer, existing.count >= count { return existing }
    let fresh = FloatBuffer(count: count)
    buffer = fresh
    return fresh
}
