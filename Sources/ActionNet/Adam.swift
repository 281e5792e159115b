/// Adam exactly as Keras 3 applies it, step s = iterations + 1:
///
///     alpha = lr * sqrt(1 - beta2^s) / (1 - beta1^s)
///     m += (g - m) * (1 - beta1);  v += (g^2 - v) * (1 - beta2)
///     w -= alpha * m / (sqrt(v) + eps)
///
/// With a `weightDecay` above 0 this is Keras's AdamW: before that step every trainable
/// parameter decays as `w -= lr * weightDecay * w`, decoupled from the gradient. Like
/// Keras's default (nothing excluded), that is every trainable parameter: kernels,
/// biases and BatchNormalization's gamma and beta; the moving statistics never move.
///
/// The moments follow the model's parameter layout; only trainable parameters move.
public struct Adam: Sendable, Equatable {
    /// Mutable so that a schedule (reduce on plateau) can change it between steps.
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Decoupled weight decay per step, times the learning rate (0: plain Adam).
    public var weightDecay: Float
    /// Steps taken so far.
    public internal(set) var iterations: Int = 0
    /// First and second moments, one per parameter value (empty until the first step).
    public internal(set) var m: [Float] = []
    public internal(set) var v: [Float] = []

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7,
                weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// One update of `parameters` from `gradients` over the `trainable` ranges.
    mutating func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                         count: Int, trainable: [Range<Int>]) {
        if m.count != count {
            m = [Float](repeating: 0, count: count)
            v = [Float](repeating: 0, count: count)
        }
        let step = Double(iterations + 1)
        let alpha = Float(Double(learningRate) * (1 - pow(Double(beta2), step)).squareRoot()
                          / (1 - pow(Double(beta1), step)))
        let (b1, b2, eps) = (1 - beta1, 1 - beta2, epsilon)
        let decay = learningRate * weightDecay
        m.withUnsafeMutableBufferPointer { mp in
            v.withUnsafeMutableBufferPointer { vp in
                for range in trainable {
                    if decay != 0 { for i in range { parameters[i] -= parameters[i] * decay } }
                    for i in range {
                        let g = gradients[i]
                        mp[i] += (g - mp[i]) * b1
                        vp[i] += (g * g - vp[i]) * b2
                        parameters[i] -= (mp[i] * alpha) / (vp[i].squareRoot() + eps)
                    }
                }
            }
        }
        iterations += 1
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
