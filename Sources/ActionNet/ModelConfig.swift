/// The sizes of a ConvLSTM stack, from which `spec` builds its layer list. It is the
/// `__metadata__.config` of Keras-made checkpoints (and of ActionLab's before the layer
/// list was stored): the JSON `{"frames","height","width","channels","filters":[f1,f2,f3],"dense_units","classes"}`
/// plus ActionLab's `dropout` and `recurrent_dropout` (absent in Keras-made files: then
/// the seed's 0.1 applies).
public struct ModelConfig: Codable, Sendable, Equatable {
    public var frames: Int
    public var height: Int
    public var width: Int
    public var channels: Int
    /// Filters of each ConvLSTM2D layer; all but the last return sequences.
    public var filters: [Int]
    public var denseUnits: Int
    public var classes: Int
    /// Input dropout of every ConvLSTM2D (a variational mask per sequence).
    public var dropout: Float
    /// Recurrent dropout of every ConvLSTM2D (a variational mask per sequence).
    public var recurrentDropout: Float

    public init(frames: Int, height: Int, width: Int, channels: Int, filters: [Int],
                denseUnits: Int, classes: Int, dropout: Float = 0.1, recurrentDropout: Float = 0.1) {
        self.frames = frames
        self.height = height
        self.width = width
        self.channels = channels
        self.filters = filters
        self.denseUnits = denseUnits
        self.classes = classes
        self.dropout = dropout
        self.recurrentDropout = recurrentDropout
    }

    /// The original network: 60 frames of 192x192 grey, filters 64/32/16, dense 256,
    /// 5 classes, dropout and recurrent dropout 0.1.
    public static let seed = ModelConfig(frames: 60, height: 192, width: 192, channels: 1,
                                         filters: [64, 32, 16], denseUnits: 256, classes: 5)

    enum CodingKeys: String, CodingKey {
        case frames, height, width, channels, filters, classes, dropout
        case denseUnits = "dense_units"
        case recurrentDropout = "recurrent_dropout"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        frames = try c.decode(Int.self, forKey: .frames)
        height = try c.decode(Int.self, forKey: .height)
        width = try c.decode(Int.self, forKey: .width)
        channels = try c.decode(Int.self, forKey: .channels)
        filters = try c.decode([Int].self, forKey: .filters)
        denseUnits = try c.decode(Int.self, forKey: .denseUnits)
        classes = try c.decode(Int.self, forKey: .classes)
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? ModelConfig.seed.dropout
        recurrentDropout = try c.decodeIfPresent(Float.self, forKey: .recurrentDropout)
            ?? ModelConfig.seed.recurrentDropout
    }

    /// One sample's input shape (T, H, W, C).
    public var inputShape: [Int] { [frames, height, width, channels] }

    /// The stack at these sizes: an optional per-clip `normalization` of the input, then
    /// each ConvLSTM2D followed by a 2x2 max pool and BatchNormalization (with
    /// `batchNormMomentum`); then the `head`, an optional Dropout of `headDropout` before
    /// the classifier, Dense(relu) and Dense(softmax). With the defaults this is the seed
    /// stack, as Keras builds it from `config`.
    public func spec(head: ModelHead = .flatten, batchNormMomentum: Float = 0.99, headDropout: Float = 0,
                     normalization: ClipNormalizationMode? = nil) -> ModelSpec {
        var layers: [LayerSpec] = []
        if let normalization { layers.append(.clipNormalization(mode: normalization, epsilon: ClipNormalization.defaultEpsilon)) }
        var (height, width) = (self.height, self.width)
        for (index, f) in filters.enumerated() {
            layers.append(.convLSTM2D(filters: f, kernelSize: 3,
                                      returnSequences: index < filters.count - 1,
                                      dropout: dropout, recurrentDropout: recurrentDropout))
            layers.append(.maxPool(size: 2))
            (height, width) = ((height + 1) / 2, (width + 1) / 2)
            layers.append(.batchNormalization(momentum: batchNormMomentum, epsilon: 1e-3))
        }
        switch head {
        case .flatten:
            layers.append(.flatten)
        case .globalMaxPool:
            // One max pool as wide as what is left of the frame: one value per filter.
            layers += [.maxPool(size: max(height, width)), .flatten]
        case .globalAveragePool:
            layers.append(.globalAveragePool)
        }
        layers.append(.dense(units: denseUnits, activation: .relu))
        if headDropout > 0 { layers.append(.dropout(rate: headDropout)) }
        layers.append(.dense(units: classes, activation: .softmax))
        return ModelSpec(inputShape: inputShape, layers: layers)
    }

    /// Checks that every size is usable, naming the first one that is not.
    public func validate() throws(ModelError) {
        for (name, value) in [("frames", frames), ("height", height), ("width", width),
                              ("channels", channels), ("dense units", denseUnits)] where value < 1 {
            throw ModelError("\(name) must be at least 1, got \(value)")
        }
        if classes < 2 { throw ModelError("classes must be at least 2, got \(classes)") }
        if filters.isEmpty { throw ModelError("filters must list at least one ConvLSTM2D layer") }
        if let bad = filters.first(where: { $0 < 1 }) { throw ModelError("filters must be at least 1, got \(bad)") }
        for (name, p) in [("dropout", dropout), ("recurrent dropout", recurrentDropout)]
            where !(p >= 0 && p < 1) {
            throw ModelError("\(name) must be in [0, 1), got \(p)")
        }
    }
}
