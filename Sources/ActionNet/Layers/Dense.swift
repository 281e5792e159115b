import COpenBLAS

/// Dense: y = activation(x W + b), x (B, I), W (I, O), b (O).
///
/// With softmax the backward pass takes d(loss)/d(logits) as `dOutput`: the model fuses
/// softmax with the categorical cross-entropy, whose logit gradient is the stable
/// (p - y) / B, instead of differentiating the softmax on its own.
public final class Dense: MatrixProductLayer {
    public let name: String
    public var typeName: String { "Dense" }
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let units: Int
    public let activation: Activation
    public var parameterOffset = 0
    /// The layer's matrix products, in the model's precision.
    let matmul = MatrixProduct()

    private let I: Int
    /// (B, O) pre-activation values of the last forward pass.
    public private(set) var logits: [Float] = []
    private var dPre: [Float] = []

    public init(name: String, inputShape: [Int], units: Int, activation: Activation) {
        precondition(inputShape.count == 1, "Dense takes flat (I) inputs")
        self.name = name
        self.inputShape = inputShape
        self.units = units
        self.activation = activation
        I = inputShape[0]
        outputShape = [units]
    }

    /// Values of the logits and of their gradient for `batch` samples, (B, O) each.
    private func rowValues(batch: Int) -> Int { batch * units }

    public func trainingWorkingBytes(batch: Int, inputGradient: Bool) -> Int {
        2 * rowValues(batch: batch) * MemoryLayout<Float>.stride
    }
    public var heldWorkingBytes: Int { (logits.count + dPre.count) * MemoryLayout<Float>.stride }

    public var parameters: [ParameterSpec] {
        [ParameterSpec(name: "kernel", shape: [I, units], trainable: true,
                       initializer: .glorotUniform(fanIn: I, fanOut: units)),
         ParameterSpec(name: "bias", shape: [units], trainable: true, initializer: .zeros)]
    }

    public func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch: Int,
                        parameters: UnsafeMutablePointer<Float>, training: Bool) {
        let O = units
        let kernel = parameters + offset(of: "kernel"), bias = parameters + offset(of: "bias")
        for b in 0..<batch { (output + b * O).update(from: bias, count: O) }
        self.matmul(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batch), Int32(O), Int32(I),
                    1, input, Int32(I), kernel, Int32(O), 1, output, Int32(O))
        logits = Array(UnsafeBufferPointer(start: output, count: rowValues(batch: batch)))
        switch activation {
        case .linear: break
        case .relu:
            for i in 0..<(batch * O) { output[i] = max(output[i], 0) }
        case .softmax:
            for b in 0..<batch {
                let row = output + b * O
                var top = -Float.infinity
                for j in 0..<O { top = max(top, row[j]) }
                var sum: Float = 0
                for j in 0..<O { row[j] = expf(row[j] - top); sum += row[j] }
                for j in 0..<O { row[j] /= sum }
            }
        }
    }

    /// ReLU's gradient reads the output; the fused softmax and linear ones do not.
    public var needsOutputForBackward: Bool { activation == .relu }

    public func backward(dInput: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        let O = units, n = rowValues(batch: batch)
        let kernel = parameters + offset(of: "kernel")
        let dKernel = gradients + offset(of: "kernel"), dBias = gradients + offset(of: "bias")
        if dPre.count != n { dPre = [Float](repeating: 0, count: n) }
        for i in 0..<n {
            dPre[i] = activation == .relu ? (output[i] > 0 ? dOutput[i] : 0) : dOutput[i]
        }
        dPre.withUnsafeBufferPointer { d in
            let dp = d.baseAddress!
            // dW (I, O) += x^T (I, B) dPre (B, O)
            self.matmul(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(I), Int32(O), Int32(batch),
                        1, input, Int32(I), dp, Int32(O), 1, dKernel, Int32(O))
            for b in 0..<batch { for j in 0..<O { dBias[j] += dp[b * O + j] } }
            // dx (B, I) += dPre (B, O) W^T (O, I)
            if let dInput {
                self.matmul(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(I), Int32(O),
                            1, dp, Int32(O), kernel, Int32(O), 1, dInput, Int32(I))
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
