/// The mean over height and width: (H, W, C) -> (C), one value per filter (Keras's
/// GlobalAveragePooling2D). Every position gets an equal share of the gradient.
public final class GlobalAveragePool: Layer {
    public let name: String
    public var typeName: String { "GlobalAveragePooling2D" }
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var parameterOffset = 0
    public var parameters: [ParameterSpec] { [] }

    private let positions: Int, C: Int

    public init(name: String, inputShape: [Int]) {
        precondition(inputShape.count == 3, "GlobalAveragePool takes (H, W, C)")
        self.name = name
        self.inputShape = inputShape
        positions = inputShape[0] * inputShape[1]
        C = inputShape[2]
        outputShape = [C]
    }

    public var needsInputForBackward: Bool { false }
    public var needsOutputForBackward: Bool { false }

    public func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, batch: Int,
                        parameters: UnsafeMutablePointer<Float>, training: Bool) {
        let (positions, C) = (positions, C)
        for b in 0..<batch {
            let src = input + b * positions * C, dst = output + b * C
            // Summed in Double: a large frame adds many values of one sign.
            var sums = [Double](repeating: 0, count: C)
            for p in 0..<positions {
                for c in 0..<C { sums[c] += Double(src[p * C + c]) }
            }
            for c in 0..<C { dst[c] = Float(sums[c] / Double(positions)) }
        }
    }

    public func backward(dInput: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                         input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        guard let dInput else { return }
        let (positions, C) = (positions, C), share = 1 / Float(positions)
        for b in 0..<batch {
            let dst = dInput + b * positions * C, g = dOutput + b * C
            for p in 0..<positions {
                for c in 0..<C { dst[p * C + c] += g[c] * share }
            }
        }
    }
}
