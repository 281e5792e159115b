/// Inverted dropout (Keras's Dropout): in a training-mode pass each value is zeroed with
/// probability `rate` and the others multiplied by 1 / (1 - rate), so inference, which
/// passes values through unchanged, sees the same expected scale.
///
/// The mask of training step s is drawn from the layer's seed and s alone, so a run
/// with the same seed drops the same values at the same step.
public final class Dropout: Layer {
    public let name: String
    public var typeName: String { "Dropout" }
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let rate: Float
    public var parameterOffset = 0
    public var parameters: [ParameterSpec] { [] }

    private var seed: UInt64
    /// Training-mode passes so far: the step whose mask comes next.
    public private(set) var step: UInt64 = 0
    /// When set, every training pass uses this step's mask and the count stays: a
    /// gradient check then differentiates one function.
    var fixedStep: UInt64?
    /// The last training pass's multipliers (0 or 1 / (1 - rate)), one per value.
    private var mask: [Float] = []

    public init(name: String, inputShape: [Int], rate: Float, seed: UInt64) {
        precondition(rate >= 0 && rate < 1, "Dropout rates are in [0, 1)")
        self.name = name
        self.inputShape = inputShape
        outputShape = inputShape
        self.rate = rate
        self.seed = seed
    }

    /// Gives replica `replica` of data-parallel training masks of its own: replicas share
    /// a seed but train different samples. Replica 0 keeps the layer's masks.
    public func separateDropoutStream(forReplica replica: Int) {
        guard replica > 0 else { return }
        var random = SeededGenerator(seed: seed ^ (UInt64(replica) &* 0xD1B5_4A32_D192_ED03))
        seed = random.next()
    }

    /// Values of the mask of a training pass of `batch` samples (none without dropout).
    private func maskCount(batch: Int) -> Int { rate > 0 ? batch * inputSize : 0 }

    public func trainingWorkingBytes(batch: Int, inputGradient: Bool) -> Int {
        maskCount(batch: batch) * MemoryLayout<Float>.stride
    }
    public var heldWorkingBytes: Int { mask.count * MemoryLayout<Float>.stride }

    public var needsInputForBackward: Bool { false }
    public var needsOutputForBackward: Bool { false }

    public func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch: Int,
                        parameters: UnsafeMutablePointer<Float>, training: Bool) {
        let n = batch * inputSize
        guard training, rate > 0 else {
            output.update(from: input, count: n)
            return
        }
        var random = SeededGenerator(seed: seed ^ ((fixedStep ?? step) &* 0x9E37_79B9_7F4A_7C15))
        if fixedStep == nil { step += 1 }
        let keep = 1 / (1 - rate)
        if mask.count != maskCount(batch: batch) { mask = [Float](repeating: 0, count: maskCount(batch: batch)) }
        for i in 0..<n {
            mask[i] = Float(random.nextUnit()) < rate ? 0 : keep
            output[i] = input[i] * mask[i]
        }
    }

    public func backward(dInput: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        guard let dInput else { return }
        let n = batch * inputSize
        if rate == 0 {
            for i in 0..<n { dInput[i] += dOutput[i] }
            return
        }
        precondition(mask.count == maskCount(batch: batch), "\(name): backward needs a training-mode forward pass first")
        for i in 0..<n { dInput[i] += dOutput[i] * mask[i] }
    }
}
