/// The largest model ActionNet builds. A checkpoint's config and layer list come from a
/// file, and a flag can ask for any size: every size is bounded before any layer is made,
/// so products of sizes cannot overflow and a model cannot ask for terabytes.
public enum ModelLimits {
    /// Timesteps of the input (as `SamplingSettings.maximumFrames`).
    public static let maximumFrames = 10_000
    /// Height and width of the input (as `SamplingSettings.maximumSide`).
    public static let maximumSide = 8192
    /// Channels of the input.
    public static let maximumChannels = 4
    /// Filters of a ConvLSTM2D layer (the seed stack's widest has 64).
    public static let maximumFilters = 4096
    /// Units of a Dense layer (the whole model is bounded by `maximumParameters` too).
    public static let maximumUnits = 1 << 20
    /// Classes: action datasets have hundreds; each label is a one-hot row this wide.
    public static let maximumClasses = 10_000
    /// Side of a ConvLSTM2D kernel (odd); a pooling window is at most `maximumSide`.
    public static let maximumKernelSize = 15
    /// Layers in a model.
    public static let maximumLayers = 256
    /// Parameters of the whole model: 500 million Float32 values are 2 GB, and training
    /// keeps four such buffers (values, gradients, Adam's two moments).
    public static let maximumParameters = 500_000_000

    /// Checks every size in `spec` against the bounds, naming the first beyond them.
    public static func check(_ spec: ModelSpec) throws(ModelError) {
        if spec.inputShape.count == 4 {
            try bound("frames", spec.frames, maximumFrames)
            try bound("height", spec.height, maximumSide)
            try bound("width", spec.width, maximumSide)
            try bound("channels", spec.channels, maximumChannels)
        }
        if spec.layers.count > maximumLayers {
            throw ModelError("the model has \(spec.layers.count) layers, more than the \(maximumLayers) accepted")
        }
        for layer in spec.layers {
            switch layer {
            case let .convLSTM2D(filters, kernelSize, _, _, _):
                try bound("filters", filters, maximumFilters)
                try bound("kernel size", kernelSize, maximumKernelSize)
            case let .maxPool(size):
                try bound("pool size", size, maximumSide)
            case let .dense(units, _):
                try bound("dense units", units, maximumUnits)
            case .batchNormalization, .flatten, .globalAveragePool, .dropout, .clipNormalization:
                break
            }
        }
        try bound("classes", spec.classes, maximumClasses)
    }

    /// Checks the parameter count of built `layers` (each with bounded sizes) without
    /// allocating them; the shapes' products are computed with overflow checks.
    static func checkParameterCount(of layers: [any Layer]) throws(ModelError) {
        var total = 0
        for layer in layers {
            for parameter in layer.parameters {
                guard let count = checkedProduct(parameter.shape),
                      case let (sum, false) = total.addingReportingOverflow(count), sum <= maximumParameters else {
                    throw ModelError("\(layer.name).\(parameter.name) of shape \(Tensor.describe(parameter.shape)) takes the model "
                                     + "beyond \(maximumParameters) parameters")
                }
                total = sum
            }
        }
    }

    /// The product of `values`, nil when it overflows.
    public static func checkedProduct(_ values: [Int]) -> Int? {
        var product = 1
        for value in values {
            guard case let (next, false) = product.multipliedReportingOverflow(by: value) else { return nil }
            product = next
        }
        return product
    }

    private static func bound(_ name: String, _ value: Int, _ maximum: Int) throws(ModelError) {
        if value > maximum { throw ModelError("\(name) must be at most \(maximum), got \(value)") }
    }
}
