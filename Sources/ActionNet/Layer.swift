// Shape letters used throughout ActionNet:
//   B = batch, T = timesteps, H = height, W = width, C = input channels,
//   F = filters of a ConvLSTM2D, P = B*H*W pixels of one timestep, K = columns of im2col.
// Every tensor is row-major and channels-last.

/// A named parameter of a layer, e.g. `kernel` of shape (3, 3, C, 4F).
public struct ParameterSpec: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    /// Trainable parameters get gradients and Adam updates; the others (BatchNorm's
    /// moving statistics) change only in training-mode forward passes.
    public let trainable: Bool
    public let initializer: Initializer
    public var count: Int { shape.reduce(1, *) }
}

/// How a parameter starts, as Keras initialises the same layer.
public enum Initializer: Sendable, Equatable {
    case zeros, ones
    /// Uniform in ±sqrt(6 / (fanIn + fanOut)).
    case glorotUniform(fanIn: Int, fanOut: Int)
    /// An orthogonal matrix of (rows = product of all but the last axis, columns = last axis).
    case orthogonal
    /// The ConvLSTM bias: zeros except ones for the forget gate (unit_forget_bias).
    case lstmBias(units: Int)
}

/// A layer with a forward pass and a backward pass over a batch, llm.c style: outputs
/// first, then inputs. Parameters live in one buffer shared by the whole model; a layer
/// finds its own at `parameterOffset`, in the order of `parameters`.
public protocol Layer: AnyObject {
    /// Model-unique name, e.g. "convlstm1".
    var name: String { get }
    /// Keras class name, e.g. "ConvLSTM2D".
    var typeName: String { get }
    /// One sample's input and output shapes (without the batch axis).
    var inputShape: [Int] { get }
    var outputShape: [Int] { get }
    var parameters: [ParameterSpec] { get }
    var parameterOffset: Int { get set }

    /// Computes `output` (B, outputShape) from `input` (B, inputShape). In training mode
    /// the layer keeps what its backward pass needs, and BatchNorm updates its moving
    /// statistics in `parameters`.
    func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch: Int,
                 parameters: UnsafeMutablePointer<Float>, training: Bool)

    /// Whether `backward` reads `input` / `output`. When neither the layer nor its
    /// successor needs an activation, the model reuses its memory for the gradient.
    var needsInputForBackward: Bool { get }
    var needsOutputForBackward: Bool { get }

    /// Gives back the memory of what the forward pass kept for the backward pass, once
    /// the backward pass is done (the next training pass rebuilds it).
    func discardTrainingState()

    /// After a training-mode forward pass on the same batch: adds d(loss)/d(input) into
    /// `dInput` (when given) and d(loss)/d(parameters) into `gradients`.
    func backward(dInput: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                  input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int,
                  parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>)

    /// Bytes of the layer's own working memory, outside the model's activation arena,
    /// that a training step (forward and backward pass) of `batch` samples makes it hold
    /// at most, with its current settings (threads, precision, algorithm): its buffers,
    /// and the packed copies of its matrix products' constant operands. `inputGradient`
    /// says whether its backward pass computes the gradient of its input (every layer's
    /// but the model's first). Computed from the same sizes its passes allocate.
    func trainingWorkingBytes(batch: Int, inputGradient: Bool) -> Int

    /// Bytes of working memory outside the arena the layer holds: its buffers as they are
    /// now, and the most its matrix products have held packed at once (those copies come
    /// and go within a step). What `trainingWorkingBytes` counts in advance.
    var heldWorkingBytes: Int { get }
}

extension Layer {
    public var needsInputForBackward: Bool { true }
    public var needsOutputForBackward: Bool { true }
    public func discardTrainingState() {}
    public func trainingWorkingBytes(batch: Int, inputGradient: Bool) -> Int { 0 }
    public var heldWorkingBytes: Int { 0 }
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
    public var trainableParameterCount: Int { parameters.filter(\.trainable).reduce(0) { $0 + $1.count } }
    var inputSize: Int { inputShape.reduce(1, *) }
    var outputSize: Int { outputShape.reduce(1, *) }

    /// Offset of the named parameter inside the model's parameter buffer.
    func offset(of parameter: String) -> Int {
        var offset = parameterOffset
        for p in parameters {
            if p.name == parameter { return offset }
            offset += p.count
        }
        preconditionFailure("\(name) has no parameter \(parameter)")
    }
}

/// A layer whose training-mode forward pass keeps large state for its backward pass (the
/// ConvLSTM's gates and cell states of every step) in memory the model lends it from its
/// activation arena (`ActivationPlan`), instead of memory of its own.
protocol TrainingStateLayer: Layer {
    /// Floats the training-mode forward pass of `batch` samples keeps for the backward pass.
    func trainingStateCount(batch: Int) -> Int

    /// Lends the layer memory of at least `trainingStateCount(batch:)` floats for the state
    /// of passes of up to `batch` samples, or takes the loan back (nil). The memory is
    /// the layer's only from its forward pass to its backward pass of a training step,
    /// and during its inference passes; other buffers use it in between, so the layer
    /// writes it before reading it.
    func useTrainingStateMemory(_ memory: FloatBuffer?, batch: Int)
}

extension Layer {
    /// `TrainingStateLayer.trainingStateCount`, 0 for other layers.
    func lentStateCount(batch: Int) -> Int { (self as? any TrainingStateLayer)?.trainingStateCount(batch: batch) ?? 0 }
}
