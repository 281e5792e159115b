/// Mean categorical cross-entropy of softmax(logits) against targets, computed from the
/// logits (log-sum-exp) so it stays finite when a probability underflows, as Keras does
/// for a softmax output. `logits` and `targets` are (B, K).
///
/// Writes d(loss)/d(logits) = (p * Σy - y) / normalizer into `dLogits` when given: that is
/// (p - y) / B for one-hot targets, with no division by small probabilities.
/// `normalizer` is the number of samples the mean runs over (the batch, or the global
/// batch when several replicas share it).
public func softmaxCrossEntropy(dLogits: UnsafeMutablePointer<Float>?, logits: UnsafePointer<Float>,
                                targets: UnsafePointer<Float>, batch: Int, classes: Int,
                                normalizer: Int? = nil) -> Float {
    let scale = 1 / Double(normalizer ?? batch)
    var total = 0.0
    for b in 0..<batch {
        let z = logits + b * classes, y = targets + b * classes
        var top = -Double.infinity
        for k in 0..<classes { top = max(top, Double(z[k])) }
        var sum = 0.0
        for k in 0..<classes { sum += exp(Double(z[k]) - top) }
        let lse = top + log(sum)
        var ySum = 0.0
        for k in 0..<classes {
            total += Double(y[k]) * (lse - Double(z[k]))
            ySum += Double(y[k])
        }
        if let dLogits {
            for k in 0..<classes {
                let p = exp(Double(z[k]) - lse)
                dLogits[b * classes + k] = Float((p * ySum - Double(y[k])) * scale)
            }
        }
    }
    return Float(total * scale)
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
