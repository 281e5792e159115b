import Foundation

/// A model read from a checkpoint, with its class names and, when the file holds it,
/// the optimizer state to resume training.
public struct LoadedCheckpoint: Sendable {
    public let url: URL
    /// The model the file describes (`model.spec` until its dropout is changed).
    public let spec: ModelSpec
    public let labels: [String]?
    public let model: ActionModel
    public let optimizer: Adam?
}

/// Checkpoints are safetensors files with Keras's weight names (`convlstm1.kernel`, ...,
/// `dense2.bias`) and `__metadata__.model`, the `ModelSpec` (and optionally `.labels`, a
/// JSON array of class names). Files with `__metadata__.config` instead (Keras-made ones,
/// and ActionLab's own before the layer list was stored, with `.layers` when it was not
/// the seed stack's) load as the stack `ModelConfig.spec()` builds. Adam's state may be
/// stored beside the weights as `optimizer.m.<name>`, `optimizer.v.<name>`,
/// `optimizer.iterations` and `optimizer.learning_rate`; other tensors are ignored, so a
/// Keras fixture or a file from `safetensors.numpy.save_file` with these names loads as
/// a checkpoint.
public enum Checkpoint {
    public static func load(_ url: URL) throws(TensorFileError) -> LoadedCheckpoint {
        let file = try SafeTensorsFile(contentsOf: url)
        let (spec, specText) = try modelSpec(of: file, url: url)
        var labels: [String]? = nil
        if let labelsJSON = file.metadata["labels"] {
            guard let decoded = try? JSONDecoder().decode([String].self, from: Data(labelsJSON.utf8)) else {
                throw TensorFileError(url, "__metadata__.labels is not a JSON array of strings")
            }
            guard decoded.count == spec.classes else {
                throw TensorFileError(url, "__metadata__.labels names \(decoded.count) classes but the model has \(spec.classes)")
            }
            labels = decoded
        }
        try checkTensorsFit(file, spec: spec, specText: specText)
        let model: ActionModel
        do { model = try ActionModel(spec: spec) }
        catch { throw TensorFileError(url, "the \(specText) does not describe a model: \(error)") }
        for entry in model.parameterLayout {
            guard let found = file.entries[entry.name] else {
                throw TensorFileError(url, tensor: entry.name, "missing (the \(specText) needs it)")
            }
            guard found.dtype == .f32 else {
                throw TensorFileError(url, tensor: entry.name, "dtype is \(found.dtype.rawValue), expected F32")
            }
            guard found.shape == entry.shape else {
                throw TensorFileError(url, tensor: entry.name,
                                      "shape \(Tensor.describe(found.shape)) does not fit the \(specText), which needs \(Tensor.describe(entry.shape))")
            }
            do { try model.setParameter(entry.name, try finiteTensor(file, entry.name)) }
            catch let error as TensorFileError { throw error }
            catch { throw TensorFileError(url, tensor: entry.name, "\(error)") }
        }
        return LoadedCheckpoint(url: url, spec: spec, labels: labels, model: model,
                                optimizer: try loadOptimizer(file, model: model))
    }

    /// The model a checkpoint describes and how to name that description in messages:
    /// `__metadata__.model`, or else the stack of `__metadata__.config` (with the layer
    /// list of `__metadata__.layers` when an older ActionLab file has one).
    public static func modelSpec(of file: SafeTensorsFile, url: URL) throws(TensorFileError) -> (spec: ModelSpec, text: String) {
        if let modelJSON = file.metadata["model"] {
            guard let spec = try? JSONDecoder().decode(ModelSpec.self, from: Data(modelJSON.utf8)) else {
                throw TensorFileError(url, "__metadata__.model is not a model (input_shape and layers): \(modelJSON)")
            }
            return (spec, "model \(modelJSON)")
        }
        guard let configJSON = file.metadata["config"] else {
            throw TensorFileError(url, "not a checkpoint: __metadata__ has neither model nor config")
        }
        let config: ModelConfig
        do { config = try JSONDecoder().decode(ModelConfig.self, from: Data(configJSON.utf8)) }
        catch { throw TensorFileError(url, "__metadata__.config is not a model config: \(configJSON)") }
        do { try config.validate() }
        catch { throw TensorFileError(url, "__metadata__.config does not describe a model: \(error)") }
        var spec = config.spec()
        if let layersJSON = file.metadata["layers"] {
            guard let layers = try? JSONDecoder().decode([LayerSpec].self, from: Data(layersJSON.utf8)) else {
                throw TensorFileError(url, "__metadata__.layers is not a list of layers")
            }
            spec.layers = layers
        }
        return (spec, "config \(configJSON)")
    }

    /// Adam's state when every moment is present, else nil (a fresh optimizer then starts).
    private static func loadOptimizer(_ file: SafeTensorsFile, model: ActionModel) throws(TensorFileError) -> Adam? {
        guard file.contains("optimizer.iterations"), file.contains("optimizer.learning_rate") else { return nil }
        let iterations = try file.tensor("optimizer.iterations", float32Shape: [])
        let rate = try file.tensor("optimizer.learning_rate", float32Shape: [])
        var adam = Adam(learningRate: try optimizerLearningRate(rate.data[0], in: file.url))
        adam.iterations = try optimizerIterations(iterations.data[0], in: file.url)
        var m = [Float](repeating: 0, count: model.parameterCount), v = m
        for entry in model.parameterLayout where entry.trainable {
            let mt = try finiteTensor(file, "optimizer.m.\(entry.name)", shape: entry.shape)
            let vt = try finiteTensor(file, "optimizer.v.\(entry.name)", shape: entry.shape)
            m.replaceSubrange(entry.range, with: mt.data)
            v.replaceSubrange(entry.range, with: vt.data)
        }
        adam.m = m
        adam.v = v
        return adam
    }

    /// Writes `model` (and `labels`, and `optimizer`'s state when given) to `url` through
    /// a temporary file and a rename.
    public static func save(_ model: ActionModel, labels: [String]? = nil, optimizer: Adam? = nil,
                            metadata extra: [String: String] = [:], to url: URL) throws(TensorFileError) {
        if let labels, labels.count != model.classes {
            throw TensorFileError(url, "\(labels.count) labels given for a model of \(model.classes) classes")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = extra
        metadata["model"] = String(decoding: (try? encoder.encode(model.spec)) ?? Data(), as: UTF8.self)
        if let labels { metadata["labels"] = String(decoding: (try? encoder.encode(labels)) ?? Data(), as: UTF8.self) }
        var tensors = model.namedParameters
        if let optimizer, optimizer.m.count == model.parameterCount {
            tensors.append(("optimizer.iterations", Tensor(shape: [], data: [Float(optimizer.iterations)])))
            tensors.append(("optimizer.learning_rate", Tensor(shape: [], data: [optimizer.learningRate])))
            for entry in model.parameterLayout where entry.trainable {
                tensors.append(("optimizer.m.\(entry.name)", Tensor(shape: entry.shape, data: Array(optimizer.m[entry.range]))))
                tensors.append(("optimizer.v.\(entry.name)", Tensor(shape: entry.shape, data: Array(optimizer.v[entry.range]))))
            }
        }
        try SafeTensors.write(tensors, metadata: metadata, to: url)
    }
}
