import Foundation

/// A model read from a checkpoint, with its class names and, when the file holds it,
/// the optimizer state to resume training.
public struct LoadedCheckpoint: Sendable {
    public let url: URL
    public let config: ModelConfig
    public let labels: [String]?
    public let model: SeedStack
    public let optimizer: Adam?
}

/// Checkpoints are safetensors files with Keras's weight names (`convlstm1.kernel`, ...,
/// `dense2.bias`) and `__metadata__.config` (and optionally `.labels`, a JSON array of
/// class names). Adam's state may be stored beside the weights as `optimizer.m.<name>`,
/// `optimizer.v.<name>`, `optimizer.iterations` and `optimizer.learning_rate`; other
/// tensors are ignored, so a Keras fixture or a file from `safetensors.numpy.save_file`
/// with these names loads as a checkpoint.
public enum Checkpoint {
    public static func load(_ url: URL) throws(TensorFileError) -> LoadedCheckpoint {
        let file = try SafeTensorsFile(contentsOf: url)
        guard let configJSON = file.metadata["config"] else {
            throw TensorFileError(url, "not a checkpoint: __metadata__ has no config")
        }
        let config: ModelConfig
        do { config = try JSONDecoder().decode(ModelConfig.self, from: Data(configJSON.utf8)) }
        catch { throw TensorFileError(url, "__metadata__.config is not a model config: \(configJSON)") }
        var labels: [String]? = nil
        if let labelsJSON = file.metadata["labels"] {
            guard let decoded = try? JSONDecoder().decode([String].self, from: Data(labelsJSON.utf8)) else {
                throw TensorFileError(url, "__metadata__.labels is not a JSON array of strings")
            }
            guard decoded.count == config.classes else {
                throw TensorFileError(url, "__metadata__.labels names \(decoded.count) classes but the config has \(config.classes)")
            }
            labels = decoded
        }
        var specs: [LayerSpec]? = nil
        if let layersJSON = file.metadata["layers"] {
            guard let decoded = try? JSONDecoder().decode([LayerSpec].self, from: Data(layersJSON.utf8)) else {
                throw TensorFileError(url, "__metadata__.layers is not a list of layers")
            }
            specs = decoded
        }
        let model: SeedStack
        do { model = try SeedStack(config: config, layers: specs) }
        catch { throw TensorFileError(url, "__metadata__.config does not describe a model: \(error)") }
        let configText = "config \(configJSON)"
        for entry in model.parameterLayout {
            guard let found = file.entries[entry.name] else {
                throw TensorFileError(url, tensor: entry.name, "missing (the \(configText) needs it)")
            }
            guard found.dtype == .f32 else {
                throw TensorFileError(url, tensor: entry.name, "dtype is \(found.dtype.rawValue), expected F32")
            }
            guard found.shape == entry.shape else {
                throw TensorFileError(url, tensor: entry.name,
                                      "shape \(Tensor.describe(found.shape)) does not fit the \(configText), which needs \(Tensor.describe(entry.shape))")
            }
            do { try model.setParameter(entry.name, try file.tensor(entry.name)) }
            catch let error as TensorFileError { throw error }
            catch { throw TensorFileError(url, tensor: entry.name, "\(error)") }
        }
        return LoadedCheckpoint(url: url, config: config, labels: labels, model: model,
                                optimizer: try loadOptimizer(file, model: model))
    }

    /// Adam's state when every moment is present, else nil (a fresh optimizer then starts).
    private static func loadOptimizer(_ file: SafeTensorsFile, model: SeedStack) throws(TensorFileError) -> Adam? {
        guard file.contains("optimizer.iterations"), file.contains("optimizer.learning_rate") else { return nil }
        let iterations = try file.tensor("optimizer.iterations", float32Shape: [])
        let rate = try file.tensor("optimizer.learning_rate", float32Shape: [])
        var adam = Adam(learningRate: rate.data[0])
        adam.iterations = Int(iterations.data[0])
        var m = [Float](repeating: 0, count: model.parameterCount), v = m
        for entry in model.parameterLayout where entry.trainable {
            let mt = try file.tensor("optimizer.m.\(entry.name)", float32Shape: entry.shape)
            let vt = try file.tensor("optimizer.v.\(entry.name)", float32Shape: entry.shape)
            m.replaceSubrange(entry.range, with: mt.data)
            v.replaceSubrange(entry.range, with: vt.data)
        }
        adam.m = m
        adam.v = v
        return adam
    }

    /// Writes `model` (and `labels`, and `optimizer`'s state when given) to `url` through
    /// a temporary file and a rename.
    public static func save(_ model: SeedStack, labels: [String]? = nil, optimizer: Adam? = nil,
                            metadata extra: [String: String] = [:], to url: URL) throws(TensorFileError) {
        if let labels, labels.count != model.config.classes {
            throw TensorFileError(url, "\(labels.count) labels given for a model of \(model.config.classes) classes")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = extra
        metadata["config"] = String(decoding: (try? encoder.encode(model.config)) ?? Data(), as: UTF8.self)
        if model.specs != model.config.layers {
            metadata["layers"] = String(decoding: (try? encoder.encode(model.specs)) ?? Data(), as: UTF8.self)
        }
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
