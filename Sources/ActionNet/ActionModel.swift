/// A named parameter tensor's place in the model's parameter buffer.
public struct ParameterEntry: Sendable, Equatable {
    /// Checkpoint name, e.g. "convlstm1.kernel".
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public let trainable: Bool
    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset ..< offset + count }
}

/// Per-layer numbers after a training step, for watching a network learn.
public struct LayerStatistics: Sendable, Equatable {
    public let name: String
    /// Mean and standard deviation of the layer's output over the batch.
    public let activationMean: Float
    public let activationStd: Float
    /// L2 norm of the gradient of the layer's trainable parameters; nil without any.
    public let gradientNorm: Float?
}

/// The result of one training step: the mean loss and the batch's probabilities (B, classes).
public struct StepResult: Sendable {
    public let loss: Float
    public let probabilities: Tensor
}

/// A model built from its `ModelSpec` (the seed ConvLSTM stack or any other layer list):
/// the layers, one buffer holding every parameter, one for their gradients, and the
/// activations.
///
/// A model is used from one thread at a time; it may be handed to another thread (the
/// background trainer) as a whole.
public final class ActionModel: @unchecked Sendable {
    /// What this model is; its dropout rates follow `setDropout`.
    public private(set) var spec: ModelSpec
    public let layers: [any Layer]
    /// Every parameter, in layer order (a ConvLSTM's kernel and recurrent kernel adjacent).
    public let parameterLayout: [ParameterEntry]
    public let parameterCount: Int
    /// Statistics of the last training step (empty before the first).
    public private(set) var statistics: [LayerStatistics] = []

    let values: FloatBuffer       // all parameters
    let gradients: FloatBuffer    // d(loss)/d(parameters), same layout
    private var activations: [FloatBuffer?]   // per layer: (B, outputShape)
    private var dActivations: [FloatBuffer?]
    private var arena: FloatBuffer?           // what `activations` and `dActivations` view
    private var batchCapacity = 0
    /// Whether the arena holds the layers' training state (laid out for a training step).
    private var arenaHoldsTrainingState = false
    private let entryIndex: [String: Int]
    /// Whether layer i hands its own large working buffers back to the system after its
    /// backward pass: only when a layer with large buffers of its own (a ConvLSTM, which
    /// keeps training state) runs its backward pass later in the step and can use the
    /// memory. The step's last such backward pass, the first ConvLSTM's whatever layers
    /// come before it, keeps them: the next forward pass would only fault them in again.
    let handsBackAfterBackward: [Bool]

    /// One sample's input shape (T, H, W, C) and the number of classes.
    public var inputShape: [Int] { spec.inputShape }
    public var classes: Int { spec.classes }

    /// Builds the model `spec` describes, with Keras's initialisers drawn from `seed`.
    public init(spec: ModelSpec, seed: UInt64 = 0) throws(ModelError) {
        self.spec = spec
        let built = try ActionModel.buildLayers(spec: spec, seed: seed)
        layers = built
        handsBackAfterBackward = built.indices.map { i in built[..<i].contains { $0 is any TrainingStateLayer } }

        var layout: [ParameterEntry] = []
        var offset = 0
        for layer in built {
            layer.parameterOffset = offset
            for p in layer.parameters {
                layout.append(ParameterEntry(name: "\(layer.name).\(p.name)", shape: p.shape, offset: offset, trainable: p.trainable))
                offset += p.count
            }
        }
        parameterLayout = layout
        parameterCount = offset
        entryIndex = Dictionary(uniqueKeysWithValues: layout.enumerated().map { ($1.name, $0) })
        values = FloatBuffer(count: offset)
        gradients = FloatBuffer(count: offset)
        activations = Array(repeating: nil, count: built.count)
        dActivations = Array(repeating: nil, count: built.count)

        var random = SeededGenerator(seed: seed)
        for layer in built {
            var at = layer.parameterOffset
            for p in layer.parameters {
                initialize(values.pointer + at, shape: p.shape, with: p.initializer, random: &random)
                at += p.count
            }
        }
    }

    /// The stack of `config`'s sizes with the seed's head (`ModelConfig.spec()`).
    public convenience init(config: ModelConfig, seed: UInt64 = 0) throws(ModelError) {
        try config.validate()
        try self.init(spec: config.spec(), seed: seed)
    }

    /// The layers of `spec`, named as Keras names them in the checkpoint (convlstm1,
    /// maxpool1, batchnorm1, ..., flatten, dense1, dense2), without parameters.
    static func buildLayers(spec: ModelSpec, seed: UInt64) throws(ModelError) -> [any Layer] {
        guard spec.inputShape.count == 4, spec.inputShape.allSatisfy({ $0 >= 1 }) else {
            throw ModelError("the input must be (T, H, W, C) with every size at least 1, got \(Tensor.describe(spec.inputShape))")
        }
        try ModelLimits.check(spec)
        var built: [any Layer] = []
        var counters: [String: Int] = [:]
        /// Layers with parameters are numbered from 1; the others are numbered from their second.
        func name(_ kind: String, numberedFromOne: Bool = true) -> String {
            counters[kind, default: 0] += 1
            let n = counters[kind, default: 1]
            return numberedFromOne ? "\(kind)\(n)" : (n == 1 ? kind : "\(kind)\(n)")
        }
        var shape = spec.inputShape
        for (index, layerSpec) in spec.layers.enumerated() {
            let layer: any Layer
            switch layerSpec {
            case let .convLSTM2D(filters, kernelSize, returnSequences, dropout, recurrentDropout):
                guard shape.count == 4 else { throw ModelError("ConvLSTM2D needs (T, H, W, C) input, got \(Tensor.describe(shape))") }
                guard filters > 0, kernelSize > 0, kernelSize % 2 == 1 else {
                    throw ModelError("ConvLSTM2D needs filters >= 1 and an odd kernel size, got \(filters), \(kernelSize)")
                }
                for (what, rate) in [("dropout", dropout), ("recurrent dropout", recurrentDropout)] where !(rate >= 0 && rate < 1) {
                    throw ModelError("ConvLSTM2D \(what) must be in [0, 1), got \(rate)")
                }
                layer = ConvLSTM2D(name: name("convlstm"), inputShape: shape, filters: filters,
                                   kernelSize: kernelSize, returnSequences: returnSequences, dropout: dropout,
                                   recurrentDropout: recurrentDropout, seed: seed &+ UInt64(index + 1) &* 0x9E37_79B9)
            case let .maxPool(size):
                guard size >= 1 else { throw ModelError("MaxPool windows must be at least 1 wide, got \(size)") }
                guard shape.count == 3 || shape.count == 4 else {
                    throw ModelError("MaxPool needs (T, H, W, C) or (H, W, C) input, got \(Tensor.describe(shape))")
                }
                layer = MaxPool(name: name("maxpool"), inputShape: shape, size: size)
            case let .batchNormalization(momentum, epsilon):
                guard momentum >= 0 && momentum < 1, epsilon > 0 else {
                    throw ModelError("BatchNormalization needs a momentum in [0, 1) and a positive epsilon, got \(momentum), \(epsilon)")
                }
                layer = BatchNormalization(name: name("batchnorm"), inputShape: shape, momentum: momentum, epsilon: epsilon)
            case .flatten:
                layer = Flatten(name: name("flatten", numberedFromOne: false), inputShape: shape)
            case let .dense(units, activation):
                guard units > 0 else { throw ModelError("Dense needs at least 1 unit, got \(units)") }
                guard shape.count == 1 else { throw ModelError("Dense needs flat input, got \(Tensor.describe(shape)); add a Flatten") }
                layer = Dense(name: name("dense"), inputShape: shape, units: units, activation: activation)
            case .globalAveragePool:
                guard shape.count == 3 else {
                    throw ModelError("GlobalAveragePooling2D needs (H, W, C) input (after a ConvLSTM2D that returns its last step), got \(Tensor.describe(shape))")
                }
                layer = GlobalAveragePool(name: name("global_average_pooling", numberedFromOne: false), inputShape: shape)
            case let .clipNormalization(mode, epsilon):
                guard epsilon > 0, epsilon.isFinite else {
                    throw ModelError("ClipNormalization needs a positive epsilon, got \(epsilon)")
                }
                layer = ClipNormalization(name: name("clip_normalization", numberedFromOne: false), inputShape: shape,
                                          mode: mode, epsilon: epsilon)
            case let .dropout(rate):
                guard rate >= 0 && rate < 1 else { throw ModelError("Dropout rate must be in [0, 1), got \(rate)") }
                layer = Dropout(name: name("dropout", numberedFromOne: false), inputShape: shape, rate: rate,
                                seed: seed &+ UInt64(index + 1) &* 0x9E37_79B9)
            }
            built.append(layer)
            shape = layer.outputShape
        }
        guard case let .dense(classes, .softmax)? = spec.layers.last, classes >= 2 else {
            throw ModelError("the last layer must be Dense(classes, softmax) with at least 2 classes")
        }
        try ModelLimits.checkParameterCount(of: built)
        return built
    }

    // MARK: parameters

    public var trainableParameterCount: Int { parameterLayout.filter(\.trainable).reduce(0) { $0 + $1.count } }

    /// The parameter called `name` (e.g. "dense1.kernel"), or nil.
    public func parameter(_ name: String) -> Tensor? {
        guard let i = entryIndex[name] else { return nil }
        let e = parameterLayout[i]
        return Tensor(shape: e.shape, data: Array(UnsafeBufferPointer(start: values.pointer + e.offset, count: e.count)))
    }

    /// The gradient of the parameter called `name` from the last training step, or nil.
    public func gradient(_ name: String) -> Tensor? {
        guard let i = entryIndex[name] else { return nil }
        let e = parameterLayout[i]
        return Tensor(shape: e.shape, data: Array(UnsafeBufferPointer(start: gradients.pointer + e.offset, count: e.count)))
    }

    /// Replaces the parameter called `name`; its shape must match.
    public func setParameter(_ name: String, _ tensor: Tensor) throws(ModelError) {
        guard let i = entryIndex[name] else { throw ModelError("the model has no parameter \(name)") }
        let e = parameterLayout[i]
        guard tensor.shape == e.shape else {
            throw ModelError("\(name) must have shape \(Tensor.describe(e.shape)), got \(tensor.shapeDescription)")
        }
        (values.pointer + e.offset).update(from: tensor.data, count: e.count)
    }

    /// Every parameter by name.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        parameterLayout.map { ($0.name, parameter($0.name)!) }
    }

    /// All parameter values in layout order (for averaging replicas or comparing runs).
    public var flatParameters: [Float] { values.array }

    /// All gradients of the last step in layout order; writable so that replicas can
    /// average them before `applyGradients`.
    public func withGradients<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: gradients.pointer, count: parameterCount))
    }

    /// Sets one reducer on every BatchNormalization layer (see `BatchNormalization.statisticsReducer`).
    public func setBatchNormReducer(_ reducer: (@Sendable (UnsafeMutableBufferPointer<Double>) -> Void)?) {
        for case let bn as BatchNormalization in layers { bn.statisticsReducer = reducer }
    }

    /// Sets the input and recurrent dropout of every ConvLSTM2D (a training setting; the
    /// weights are unchanged).
    public func setDropout(_ dropout: Float, recurrent recurrentDropout: Float) throws(ModelError) {
        for (name, p) in [("dropout", dropout), ("recurrent dropout", recurrentDropout)] where !(p >= 0 && p < 1) {
            throw ModelError("\(name) must be in [0, 1), got \(p)")
        }
        spec = spec.withConvLSTMDropout(dropout, recurrent: recurrentDropout)
        for case let layer as ConvLSTM2D in layers {
            layer.dropout = dropout
            layer.recurrentDropout = recurrentDropout
        }
    }

    /// The number format of the matrix products (`Precision`), float32 unless set.
    public private(set) var precision: Precision = .fp32

    /// Computes the matrix products in `precision` from now on; the weights stay float32.
    /// bf16 needs a CPU with AVX512_BF16: on another (as `cpu` describes it) this throws.
    public func setPrecision(_ precision: Precision, cpu: CPUFeatures = .current) throws(ModelError) {
        try precision.checkSupported(by: cpu)
        self.precision = precision
        for case let layer as any MatrixProductLayer in layers { layer.matmul.precision = precision }
    }

    /// Sets `MaxPool.nearTieTolerance` of every MaxPool3D layer: 0 (the default, Keras's
    /// compiled training step) or 1e-5 (TensorFlow's eager GradientTape).
    public func setMaxPool3DTieTolerance(_ tolerance: Float) {
        for case let pool as MaxPool in layers where pool.inputShape.count == 4 { pool.nearTieTolerance = tolerance }
    }

    /// Memory-maps every ConvLSTM2D working buffer of at least `bytes` bytes (the default
    /// is `FloatBuffer.defaultMappingThreshold`); with 0, each buffer the model discards
    /// between uses reads as zeros afterwards, which shows whether anything reads one then.
    func setBufferMappingThreshold(_ bytes: Int) {
        for case let layer as ConvLSTM2D in layers { layer.bufferMappingThreshold = bytes }
    }

    /// Writes `value` over the whole activation arena, as other buffers sharing its memory
    /// might: a test that nothing reads a buffer of it before writing it in the same pass.
    func overwriteArena(with value: Float) {
        arena?.pointer.update(repeating: value, count: arena!.count)
    }

    /// Floats in the activation arena, 0 before the first pass.
    var arenaCount: Int { arena?.count ?? 0 }

    // MARK: running

    /// Checks that `x` is (N, T, H, W, C) for this model.
    public func checkInput(_ x: Tensor) throws(ModelError) {
        guard x.shape.count == 5, Array(x.shape.dropFirst()) == spec.inputShape else {
            throw ModelError("input has shape \(x.shapeDescription); the model takes (N, T, H, W, C) = "
                             + Tensor.describe([-1] + spec.inputShape).replacingOccurrences(of: "-1", with: "N"))
        }
    }

    /// Lays out every layer's output and output gradient for `batch` samples in one
    /// arena (`ActivationPlan`): outputs and gradients that are never needed at the same
    /// time in a training step share memory. For training, the arena also holds the
    /// layers' training state (`TrainingStateLayer`), which then stays resident between
    /// steps in memory the step needs anyway; an inference-only arena leaves it out, so
    /// that predicting never reserves it.
    func reserve(batch: Int, training: Bool) {
        guard batch > batchCapacity || (training && !arenaHoldsTrainingState) else { return }
        batchCapacity = max(batch, batchCapacity)
        // A larger inference batch drops the training state: the next training step lays
        // the arena out again with it.
        arenaHoldsTrainingState = training
        let plan = ActivationPlan(layers: layers, batch: batchCapacity, training: training)
        let arena = FloatBuffer(count: plan.size)
        self.arena = arena
        for (i, layer) in layers.enumerated() {
            activations[i] = FloatBuffer(viewing: arena, offset: plan.outputOffsets[i], count: batchCapacity * layer.outputSize)
            dActivations[i] = FloatBuffer(viewing: arena, offset: plan.gradientOffsets[i], count: batchCapacity * layer.outputSize)
            guard let stateful = layer as? any TrainingStateLayer else { continue }
            let state = training ? FloatBuffer(viewing: arena, offset: plan.stateOffsets[i],
                                               count: stateful.trainingStateCount(batch: batchCapacity)) : nil
            stateful.useTrainingStateMemory(state, batch: batchCapacity)
        }
    }

    /// Runs every layer on `batch` samples at `input`; returns the last layer's output.
    /// A layer's output lives only as long as the plan needs it: `observe` sees each
    /// one as it is made.
    private func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool, measure: Bool = false,
                         observe: ((Int, UnsafePointer<Float>) -> Void)? = nil) -> UnsafeMutablePointer<Float> {
        reserve(batch: batch, training: training)
        var x = input
        if measure { statistics = [] }
        for (i, layer) in layers.enumerated() {
            let out = activations[i]!.pointer
            layer.forward(output: out, input: x, batch: batch, parameters: values.pointer, training: training)
            if measure { statistics.append(activationStatistics(layer, out, count: batch * layer.outputSize)) }
            observe?(i, out)
            x = UnsafePointer(out)
        }
        return activations[layers.count - 1]!.pointer
    }

    /// Class probabilities (N, classes) for `x` (N, T, H, W, C) in inference mode
    /// (BatchNorm uses its moving statistics, no dropout), `batchSize` samples at a time.
    public func predict(_ x: Tensor, batchSize: Int = 8) throws(ModelError) -> Tensor {
        try checkInput(x)
        let n = x.shape[0], per = x.count / max(n, 1), classes = spec.classes
        var out = [Float](repeating: 0, count: n * classes)
        var start = 0
        while start < n {
            let b = min(max(batchSize, 1), n - start)
            x.data.withUnsafeBufferPointer { xp in
                let probabilities = forward(xp.baseAddress! + start * per, batch: b, training: false)
                for i in 0..<(b * classes) { out[start * classes + i] = probabilities[i] }
            }
            start += b
        }
        return Tensor(shape: [n, classes], data: out)
    }

    /// Mean loss and accuracy of `x` against one-hot `y` in inference mode.
    public func evaluate(x: Tensor, y: Tensor, batchSize: Int = 8) throws(ModelError) -> (loss: Float, accuracy: Float) {
        try checkInput(x)
        let n = x.shape[0], per = x.count / max(n, 1), classes = spec.classes
        guard y.shape == [n, classes] else {
            throw ModelError("targets have shape \(y.shapeDescription); expected (\(n), \(classes))")
        }
        guard n > 0 else { return (0, 0) }
        var total = 0.0, correct = 0
        var start = 0
        while start < n {
            let b = min(max(batchSize, 1), n - start)
            x.data.withUnsafeBufferPointer { xp in
                let probabilities = forward(xp.baseAddress! + start * per, batch: b, training: false)
                let logits = (layers[layers.count - 1] as! Dense).logits
                y.data.withUnsafeBufferPointer { yp in
                    let targets = yp.baseAddress! + start * classes
                    total += Double(softmaxCrossEntropy(dLogits: nil, logits: logits, targets: targets,
                                                        batch: b, classes: classes)) * Double(b)
                    correct += countCorrect(probabilities, targets, batch: b, classes: classes)
                }
            }
            start += b
        }
        return (Float(total / Double(n)), Float(correct) / Float(n))
    }

    /// Every layer's output (N, outputShape) for `x` in inference mode, in layer order.
    public func layerOutputs(_ x: Tensor) throws(ModelError) -> [Tensor] {
        try checkInput(x)
        let n = x.shape[0]
        var outputs: [Tensor] = []
        x.data.withUnsafeBufferPointer { xp in
            _ = forward(xp.baseAddress!, batch: n, training: false) { i, out in
                outputs.append(Tensor(shape: [n] + self.layers[i].outputShape,
                                      data: Array(UnsafeBufferPointer(start: out, count: n * self.layers[i].outputSize))))
            }
        }
        return outputs
    }

    /// Training-mode forward and backward pass on one batch: x (B, T, H, W, C), targets
    /// y (B, classes) one-hot (or any rows summing to one). Leaves d(mean loss)/d(parameters)
    /// in the gradient buffer and moves BatchNorm's moving statistics; the weights are
    /// unchanged until `applyGradients`. `lossNormalizer` is the number of samples the
    /// mean runs over (the global batch when replicas share one).
    public func computeGradients(x: Tensor, y: Tensor, lossNormalizer: Int? = nil,
                                 collectStatistics: Bool = true) throws(ModelError) -> StepResult {
        try checkInput(x)
        let batch = x.shape[0], classes = spec.classes
        guard batch > 0 else { throw ModelError("the batch is empty") }
        guard y.shape == [batch, classes] else {
            throw ModelError("targets have shape \(y.shapeDescription); expected (\(batch), \(classes))")
        }
        gradients.zero()
        let last = layers.count - 1
        let (loss, probabilities): (Float, [Float]) = x.data.withUnsafeBufferPointer { xp in
            let input = xp.baseAddress!
            let probs = forward(input, batch: batch, training: true, measure: collectStatistics)
            let probabilities = Array(UnsafeBufferPointer(start: probs, count: batch * classes))
            let logits = (layers[last] as! Dense).logits
            let loss = logits.withUnsafeBufferPointer { lp in
                y.data.withUnsafeBufferPointer { yp in
                    softmaxCrossEntropy(dLogits: dActivations[last]!.pointer, logits: lp.baseAddress!,
                                        targets: yp.baseAddress!, batch: batch, classes: classes,
                                        normalizer: lossNormalizer)
                }
            }
            for i in stride(from: last, through: 0, by: -1) {
                let layerInput = i == 0 ? input : UnsafePointer(activations[i - 1]!.pointer)
                // Zeroed only now: it shares memory with outputs read until here.
                let dInput = i == 0 ? nil : dActivations[i - 1]!.pointer
                dInput?.update(repeating: 0, count: batch * layers[i - 1].outputSize)
                layers[i].backward(dInput: dInput, dOutput: dActivations[i]!.pointer, input: layerInput,
                                   output: activations[i]!.pointer, batch: batch,
                                   parameters: values.pointer, gradients: gradients.pointer)
                if handsBackAfterBackward[i] { layers[i].discardTrainingState() }
            }
            return (loss, probabilities)
        }
        if collectStatistics { statistics = addGradientNorms(statistics) }
        return StepResult(loss: loss, probabilities: Tensor(shape: [batch, classes], data: probabilities))
    }

    /// One Adam step from the gradients of the last `computeGradients`.
    public func applyGradients(optimizer: inout Adam) {
        let trainable = parameterLayout.filter(\.trainable).map(\.range)
        optimizer.update(parameters: values.pointer, gradients: gradients.pointer,
                         count: parameterCount, trainable: trainable)
    }

    /// One training step: forward, loss, backward, Adam.
    @discardableResult
    public func trainStep(x: Tensor, y: Tensor, optimizer: inout Adam) throws(ModelError) -> StepResult {
        let result = try computeGradients(x: x, y: y)
        applyGradients(optimizer: &optimizer)
        return result
    }

    /// Samples whose largest probability is at their target's largest value.
    func countCorrect(_ probabilities: UnsafePointer<Float>, _ targets: UnsafePointer<Float>, batch: Int, classes: Int) -> Int {
        var correct = 0
        for b in 0..<batch {
            let p = probabilities + b * classes, t = targets + b * classes
            var best = 0, target = 0
            for k in 1..<classes {
                if p[k] > p[best] { best = k }
                if t[k] > t[target] { target = k }
            }
            if best == target { correct += 1 }
        }
        return correct
    }

    /// Mean and standard deviation of a layer's output, right after its forward pass.
    private func activationStatistics(_ layer: any Layer, _ a: UnsafePointer<Float>, count n: Int) -> LayerStatistics {
        // Blocks of 256 values summed in eight float lanes, the blocks' sums in doubles: a
        // single double accumulator would be one long dependency chain, a large share of a
        // step at the seed size; 32 floats per lane lose nothing a statistic shows.
        var sum = 0.0, squares = 0.0, j = 0
        while j + 256 <= n {
            var s = SIMD8<Float>(), q = SIMD8<Float>()
            for k in stride(from: j, to: j + 256, by: 8) {
                let v = SIMD8<Float>(a + k)
                s += v
                // A fused multiply-add: built for Zen 4 (znver4), `q += v * v` compiled to
                // scalar code interleaving s and q, ten times slower.
                q.addProduct(v, v)
            }
            sum += Double(s.sum())
            squares += Double(q.sum())
            j += 256
        }
        while j < n { let v = Double(a[j]); sum += v; squares += v * v; j += 1 }
        let mean = sum / Double(max(n, 1))
        let std = max(squares / Double(max(n, 1)) - mean * mean, 0).squareRoot()
        return LayerStatistics(name: layer.name, activationMean: Float(mean), activationStd: Float(std), gradientNorm: nil)
    }

    /// The same statistics with each layer's parameter-gradient norm, after the backward pass.
    private func addGradientNorms(_ statistics: [LayerStatistics]) -> [LayerStatistics] {
        zip(layers, statistics).map { layer, s in
            guard layer.trainableParameterCount > 0 else { return s }
            var sum = 0.0
            for e in parameterLayout where e.trainable && e.name.hasPrefix(layer.name + ".") {
                for j in e.range { sum += Double(gradients.pointer[j]) * Double(gradients.pointer[j]) }
            }
            return LayerStatistics(name: s.name, activationMean: s.activationMean, activationStd: s.activationStd,
                                   gradientNorm: Float(sum.squareRoot()))
        }
    }
}

#if canImport(Foundation)
import Foundation
#endif
