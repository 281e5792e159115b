/// Where a training step's layer outputs and output gradients live: one arena, in which
/// buffers whose lifetimes do not overlap share memory.
///
/// Handing a dead buffer's pages back to the system and faulting them in again at its
/// next use cost about a tenth of a seed-size step; the arena is reused instead, and
/// still holds only what is live at once. Lifetimes are counted in the step's events:
/// forward of layer i at time i, the loss at n, backward of layer i at 2n - i.
struct ActivationPlan {
    /// Offsets into the arena, in floats, of each layer's output and output gradient.
    let outputOffsets: [Int]
    let gradientOffsets: [Int]
    /// Floats in the arena.
    let size: Int
    /// Every buffer's floats and lifetime: the outputs in layer order, then the gradients.
    let sizes: [Int]
    let lifetimes: [ClosedRange<Int>]

    init(layers: [any Layer], batch: Int) {
        let n = layers.count
        func backward(_ i: Int) -> Int { 2 * n - i }
        var sizes: [Int] = [], lifetimes: [ClosedRange<Int>] = []
        for (i, layer) in layers.enumerated() {
            // The output: read by the next layer (or the loss), and by the backward passes
            // of this layer and the next when they ask for it.
            var death = i + 1
            if layer.needsOutputForBackward { death = max(death, backward(i)) }
            if i + 1 < n, layers[i + 1].needsInputForBackward { death = max(death, backward(i + 1)) }
            sizes.append(batch * layer.outputSize)
            lifetimes.append(i ... death)
        }
        for (i, layer) in layers.enumerated() {
            // The output gradient: written by the next layer's backward pass (the loss for
            // the last layer), read by this layer's.
            let birth = i + 1 < n ? backward(i + 1) : n
            sizes.append(batch * layer.outputSize)
            lifetimes.append(birth ... backward(i))
        }
        (self.sizes, self.lifetimes) = (sizes, lifetimes)
        let offsets = Self.place(sizes: sizes, lifetimes: lifetimes)
        outputOffsets = Array(offsets.prefix(n))
        gradientOffsets = Array(offsets.suffix(n))
        size = zip(offsets, sizes).map { $0 + $1 }.max() ?? 0
    }

    /// Greedy placement, largest first: each buffer goes to the lowest offset where it
    /// overlaps no buffer already placed whose lifetime overlaps its own. Offsets are
    /// multiples of 16 floats (64 bytes, a cache line).
    static func place(sizes: [Int], lifetimes: [ClosedRange<Int>]) -> [Int] {
        func aligned(_ x: Int) -> Int { (x + 15) / 16 * 16 }
        var offsets = [Int](repeating: 0, count: sizes.count)
        var placed: [Int] = []
        for i in sizes.indices.sorted(by: { sizes[$0] > sizes[$1] || (sizes[$0] == sizes[$1] && $0 < $1) }) {
            let taken = placed.filter { lifetimes[$0].overlaps(lifetimes[i]) }
                .map { offsets[$0] ..< offsets[$0] + aligned(sizes[$0]) }
                .sorted { $0.lowerBound < $1.lowerBound }
            var offset = 0
            for range in taken where range.lowerBound < offset + aligned(sizes[i]) {
                offset = max(offset, range.upperBound)
            }
            offsets[i] = offset
            placed.append(i)
        }
        return offsets
    }
}
