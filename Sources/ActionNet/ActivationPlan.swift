/// Where a training step's layer outputs, output gradients and kept training state live:
/// one arena, in which buffers whose lifetimes do not overlap share memory.
///
/// Handing a dead buffer's pages back to the system and faulting them in again at its
/// next use cost about a tenth of a seed-size step; the arena is reused instead, and
/// still holds only what is live at once. Lifetimes are counted in the step's events:
/// forward of layer i at time i, the loss at n, backward of layer i at 2n - i.
///
/// A layer's training state (`TrainingStateLayer`: the ConvLSTM's gates and cell
/// states of every step) lives from its forward pass to its backward pass. The later
/// layers' state fits where the first layer's output and gradient lie, which are dead
/// meanwhile: in the arena it takes no memory of its own and faults no pages in again.
struct ActivationPlan {
    /// Offsets into the arena, in floats, of each layer's output, output gradient and
    /// training state (0 floats for a layer that keeps none, or outside training).
    let outputOffsets: [Int]
    let gradientOffsets: [Int]
    let stateOffsets: [Int]
    /// Floats in the arena.
    let size: Int
    /// Every buffer's floats and lifetime: the outputs in layer order, then the gradients,
    /// then the training states.
    let sizes: [Int]
    let lifetimes: [ClosedRange<Int>]

    /// The plan for `batch` samples; with `training` false, the layers' training state
    /// is left out (each layer then keeps its own inference buffers).
    init(layers: [any Layer], batch: Int, training: Bool = true) {
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
        for (i, layer) in layers.enumerated() {
            // The training state: written by the forward pass, read by the backward pass.
            sizes.append(training ? layer.lentStateCount(batch: batch) : 0)
            lifetimes.append(i ... backward(i))
        }
        (self.sizes, self.lifetimes) = (sizes, lifetimes)
        let offsets = Self.place(sizes: sizes, lifetimes: lifetimes)
        outputOffsets = Array(offsets[0 ..< n])
        gradientOffsets = Array(offsets[n ..< 2 * n])
        stateOffsets = Array(offsets[2 * n ..< 3 * n])
        size = zip(offsets, sizes).map { $0 + $1 }.max() ?? 0
    }

    /// Greedy placement: each buffer goes to the lowest offset where it overlaps no
    /// buffer already placed whose lifetime overlaps its own, taking the buffers largest
    /// first, and again longest-lived first (then largest); the smaller arena wins.
    /// Longest-lived first reaches the most memory live at once for the seed stack in
    /// training (3,510 MiB with its training state, against 3,645 largest first), as the
    /// first layer's state, alive all step, goes first. Offsets are multiples of 16
    /// floats (64 bytes, a cache line).
    static func place(sizes: [Int], lifetimes: [ClosedRange<Int>]) -> [Int] {
        let largest = sizes.indices.sorted { sizes[$0] > sizes[$1] || (sizes[$0] == sizes[$1] && $0 < $1) }
        let longest = sizes.indices.sorted {
            let a = lifetimes[$0].count, b = lifetimes[$1].count
            return a > b || (a == b && (sizes[$0] > sizes[$1] || (sizes[$0] == sizes[$1] && $0 < $1)))
        }
        func end(_ offsets: [Int]) -> Int { zip(offsets, sizes).map { $0 + $1 }.max() ?? 0 }
        let bySize = place(sizes: sizes, lifetimes: lifetimes, order: largest)
        let byLifetime = place(sizes: sizes, lifetimes: lifetimes, order: longest)
        return end(byLifetime) < end(bySize) ? byLifetime : bySize
    }

    /// First-fit placement of the buffers in `order`.
    static func place(sizes: [Int], lifetimes: [ClosedRange<Int>], order: [Int]) -> [Int] {
        func aligned(_ x: Int) -> Int { (x + 15) / 16 * 16 }
        var offsets = [Int](repeating: 0, count: sizes.count)
        var placed: [Int] = []
        for i in order where sizes[i] > 0 {
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

/// The memory a training step of a model takes besides its parameters, their gradients
/// and the optimizer's state.
public struct TrainingMemory: Sendable, Equatable {
    /// The activation arena (`ActivationPlan`): layer outputs, their gradients and the
    /// layers' training state.
    public let arenaBytes: Int
    /// The layers' own working memory outside the arena (`Layer.trainingWorkingBytes`).
    public let layerBytes: Int
    public var bytes: Int { arenaBytes + layerBytes }
}

/// What a training step's memory depends on besides the model and its precision: the
/// threads its work is split over (each part of a ConvLSTM pass has its own scratch and
/// partial gradients) and whether float32 products run on ActionNet's own kernel, which
/// keeps packed copies of constant operands (`MatrixProduct`).
public struct ComputeSetup: Sendable, Equatable {
    public var threads: Int
    public var ownFloat32Kernel: Bool

    public init(threads: Int, ownFloat32Kernel: Bool) {
        self.threads = max(1, threads)
        self.ownFloat32Kernel = ownFloat32Kernel
    }

    /// This process's: `BLAS.threads` and this CPU's float32 kernel.
    public static var current: ComputeSetup {
        ComputeSetup(threads: BLAS.threads, ownFloat32Kernel: MatrixProduct.ownFloat32Kernel)
    }
}

extension ActionModel {
    /// The memory a model of `spec` with its products in `precision` takes for training
    /// steps of `batch` samples on `setup`, besides its parameters: its activation arena,
    /// laid out by `ActivationPlan` as the model lays it out, and its layers' working
    /// memory, counted as each layer sizes it. Builds the layers only, not their
    /// parameters, so it costs no memory of its own.
    public static func trainingMemory(spec: ModelSpec, batch: Int, precision: Precision = .fp32,
                                      setup: ComputeSetup = .current) throws(ModelError) -> TrainingMemory {
        let layers = try buildLayers(spec: spec, seed: 0)
        for case let layer as ConvLSTM2D in layers { layer.threads = setup.threads }
        for case let layer as any MatrixProductLayer in layers {
            layer.matmul.precision = precision
            layer.matmul.ownFloat32Kernel = setup.ownFloat32Kernel
        }
        return trainingMemory(layers: layers, batch: batch)
    }

    /// `trainingMemory(spec:batch:precision:)` of this model's layers as they are set now
    /// (precision, algorithm, threads).
    public func trainingMemory(batch: Int) -> TrainingMemory { Self.trainingMemory(layers: layers, batch: batch) }

    private static func trainingMemory(layers: [any Layer], batch: Int) -> TrainingMemory {
        let batch = max(1, batch)
        let arena = MemoryLayout<Float>.stride * ActivationPlan(layers: layers, batch: batch, training: true).size
        // The model's first layer gets no input gradient (`computeGradients`).
        let working = layers.enumerated().reduce(0) { $0 + $1.element.trainingWorkingBytes(batch: batch, inputGradient: $1.offset > 0) }
        return TrainingMemory(arenaBytes: arena, layerBytes: working)
    }

    /// Bytes of working memory the layers hold outside the arena (`Layer.heldWorkingBytes`).
    public var heldWorkingBytes: Int { layers.reduce(0) { $0 + $1.heldWorkingBytes } }
}
