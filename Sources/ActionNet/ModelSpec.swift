/// A model: the shape of one input sample and the list of its layers. Everything that
/// builds, stores, summarises or trains a model reads this value and nothing else; the
/// number of classes is the width of the last (softmax) layer.
///
/// Encoded as the checkpoint's `__metadata__.model` JSON:
/// `{"input_shape":[T,H,W,C],"layers":[{"convLSTM2D":{...}},{"maxPool":{"size":2}},...]}`.
public struct ModelSpec: Codable, Sendable, Equatable {
    /// One sample's input shape (T, H, W, C).
    public var inputShape: [Int]
    public var layers: [LayerSpec]

    public init(inputShape: [Int], layers: [LayerSpec]) {
        self.inputShape = inputShape
        self.layers = layers
    }

    /// The classes the last layer tells apart (0 when the list does not end in a Dense layer).
    public var classes: Int {
        guard case let .dense(units, _)? = layers.last else { return 0 }
        return units
    }

    /// The parts of the input shape, as the clip sampling names them (0 when missing).
    public var frames: Int { inputShape.count == 4 ? inputShape[0] : 0 }
    public var height: Int { inputShape.count == 4 ? inputShape[1] : 0 }
    public var width: Int { inputShape.count == 4 ? inputShape[2] : 0 }
    public var channels: Int { inputShape.count == 4 ? inputShape[3] : 0 }

    /// This model with every ConvLSTM2D's input and recurrent dropout set to these rates
    /// (dropout is a training setting: the weights do not depend on it).
    public func withConvLSTMDropout(_ dropout: Float, recurrent recurrentDropout: Float) -> ModelSpec {
        var changed = self
        changed.layers = layers.map { spec in
            guard case let .convLSTM2D(f, k, r, _, _) = spec else { return spec }
            return .convLSTM2D(filters: f, kernelSize: k, returnSequences: r, dropout: dropout, recurrentDropout: recurrentDropout)
        }
        return changed
    }

    /// The same model without any dropout: what two models must share for the weights
    /// of one to fit the other.
    public var withoutDropout: ModelSpec {
        var changed = withConvLSTMDropout(0, recurrent: 0)
        changed.layers = changed.layers.map { spec in
            guard case .dropout = spec else { return spec }
            return .dropout(rate: 0)
        }
        return changed
    }

    /// Checks that the layers can be built on this input, naming the first problem.
    public func validate() throws(ModelError) {
        _ = try ActionModel.buildLayers(spec: self, seed: 0)
    }

    enum CodingKeys: String, CodingKey {
        case inputShape = "input_shape", layers
    }
}

/// One layer of a model and its settings. A model is a list of these; variants of the
/// seed stack are other lists, not other code.
public enum LayerSpec: Codable, Sendable, Equatable {
    /// ConvLSTM2D with a square odd kernel, "same" padding and zero initial state.
    case convLSTM2D(filters: Int, kernelSize: Int, returnSequences: Bool, dropout: Float, recurrentDropout: Float)
    /// Max pooling of height and width by `size` with "same" padding (MaxPool3D with pool
    /// (1, size, size) on sequences, MaxPool2D on single frames). A pool as wide as the
    /// frame is a global max pool: one value per filter.
    case maxPool(size: Int)
    /// BatchNormalization over the last axis.
    case batchNormalization(momentum: Float, epsilon: Float)
    case flatten
    case dense(units: Int, activation: Activation)
    /// The mean over height and width of (H, W, C): one value per filter.
    case globalAveragePool
    /// Inverted dropout: in training each value is zeroed with probability `rate` and the
    /// others scaled by 1 / (1 - rate); at inference the identity.
    case dropout(rate: Float)
    /// Each sample normalised on its own over (T, H, W): see `ClipNormalization`.
    case clipNormalization(mode: ClipNormalizationMode, epsilon: Float)
}

/// The activation applied by a Dense layer. `softmax` is fused with the categorical
/// cross-entropy in training, so the last layer's gradient is the stable `p - y`.
public enum Activation: String, Codable, Sendable, Equatable {
    case linear, relu, softmax
}

/// What follows the last ConvLSTM block of a stack (`ModelConfig.spec`).
public enum ModelHead: String, Codable, Sendable, CaseIterable {
    /// Flatten -> Dense(relu) -> Dense(softmax): the seed stack.
    case flatten
    /// A max pool over the whole remaining frame (one value per filter), then Flatten ->
    /// Dense -> Dense. Where the figure is no longer matters, and the dense layer is tiny:
    /// far less to overfit on a few dozen clips.
    case globalMaxPool = "global_max_pool"
    /// The mean over the remaining frame (one value per filter), then Dense -> Dense:
    /// like the global max pool, but every position contributes to every gradient.
    case globalAveragePool = "global_average_pool"
}

/// A model that cannot be built or run as asked: bad sizes, or an input of the wrong shape.
public struct ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
