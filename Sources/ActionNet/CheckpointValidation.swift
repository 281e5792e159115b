import Foundation

/// Checks of what a checkpoint file claims, made before anything is built from it.
extension Checkpoint {
    /// The most optimizer steps a checkpoint may record (2^30, about a billion): far beyond
    /// any run, and a whole number as Float32.
    public static let maximumIterations = 1 << 30

    /// Refuses a config whose model is beyond `ModelLimits`, or whose parameters the file
    /// does not hold with the shapes the config implies. Only layer shapes are computed:
    /// nothing is allocated or initialised until the file is known to fit.
    static func checkTensorsFit(_ file: SafeTensorsFile, spec: ModelSpec, specText: String) throws(TensorFileError) {
        let url = file.url
        let layers: [any Layer]
        do { layers = try ActionModel.buildLayers(spec: spec, seed: 0) }
        catch { throw TensorFileError(url, "the \(specText) does not describe a model: \(error)") }
        for layer in layers {
            for parameter in layer.parameters {
                let name = "\(layer.name).\(parameter.name)"
                guard let found = file.entries[name] else {
                    throw TensorFileError(url, tensor: name, "missing (the \(specText) needs it)")
                }
                guard found.dtype == .f32 else {
                    throw TensorFileError(url, tensor: name, "dtype is \(found.dtype.rawValue), expected F32")
                }
                guard found.shape == parameter.shape else {
                    throw TensorFileError(url, tensor: name, "shape \(Tensor.describe(found.shape)) does not fit the "
                                          + "\(specText), which needs \(Tensor.describe(parameter.shape))")
                }
            }
        }
    }

    /// The tensor `name`, refused when any of its values is NaN or infinite: such weights
    /// make every prediction NaN.
    static func finiteTensor(_ file: SafeTensorsFile, _ name: String, shape: [Int]? = nil) throws(TensorFileError) -> Tensor {
        let tensor: Tensor
        if let shape { tensor = try file.tensor(name, float32Shape: shape) } else { tensor = try file.tensor(name) }
        let bad = tensor.data.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        if bad > 0 {
            throw TensorFileError(file.url, tensor: name, "\(bad) of its \(tensor.count) values are NaN or infinite")
        }
        return tensor
    }

    /// Adam's step count stored as a Float32 scalar: a whole number from 0 to `maximumIterations`.
    static func optimizerIterations(_ value: Float, in url: URL) throws(TensorFileError) -> Int {
        guard value.isFinite, value >= 0, value <= Float(maximumIterations), value == value.rounded() else {
            throw TensorFileError(url, tensor: "optimizer.iterations",
                                  "\(value) is not a step count (a whole number from 0 to \(maximumIterations))")
        }
        return Int(value)
    }

    /// Adam's stored learning rate: finite and positive.
    static func optimizerLearningRate(_ value: Float, in url: URL) throws(TensorFileError) -> Float {
        guard value.isFinite, value > 0 else {
            throw TensorFileError(url, tensor: "optimizer.learning_rate", "\(value) is not a positive learning rate")
        }
        return value
    }
}
