import ActionNet
import ArgumentParser
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the seed stack headless; progress goes to standard error.",
        discussion: """
            --tensors FILE holds x (N, T, H, W, C) float32 in [0, 1] and y, one-hot (N, classes) \
            or integer labels (N). Without --init a new model is made for x's shape with \
            --filters, --dense and --seed.
            """)

    @Option(help: "A safetensors file with x and y.")
    var tensors: String
    @Option(help: "Start from this checkpoint (and its optimizer state, when it has one).")
    var `init`: String?
    @Option(help: "Where to write the trained checkpoint.")
    var out = "model.safetensors"
    @Option(help: "Passes over the training samples.")
    var epochs = 10
    @Option(help: "Samples per training step.")
    var batchSize = 8
    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3
    @Option(help: "Input and recurrent dropout of every ConvLSTM2D.")
    var dropout: Float = ModelConfig.seed.dropout
    @Option(help: "Fraction of the samples (the last ones) held out for validation.")
    var validationSplit = 0.0
    @Flag(help: "Keep the samples in file order instead of shuffling every epoch.")
    var noShuffle = false
    @Option(help: "Seed for the initial weights, dropout masks and shuffling.")
    var seed: UInt64 = 0
    @Option(help: "Filters of each ConvLSTM2D layer for a new model, comma-separated.")
    var filters = ModelConfig.seed.filters.map(String.init).joined(separator: ",")
    @Option(help: "Units of the hidden Dense layer for a new model.")
    var dense = ModelConfig.seed.denseUnits
    @Option(help: "OpenBLAS threads.")
    var threads = 2

    func run() throws {
        BLAS.setThreads(threads)
        let filterList = try parseFilters(filters)
        try reportingErrors {
            let tensorsURL = URL(fileURLWithPath: tensors)
            var model: SeedStack
            var optimizer = Adam(learningRate: lr)
            var labels: [String]? = nil
            let data: TensorDataset
            if let initPath = `init` {
                let loaded = try Checkpoint.load(URL(fileURLWithPath: initPath))
                data = try TensorDataset.load(tensorsURL, expected: loaded.config.inputShape, classes: loaded.config.classes)
                model = loaded.model
                labels = loaded.labels
                if var resumed = loaded.optimizer {
                    resumed.learningRate = lr
                    optimizer = resumed
                    log("resuming Adam at step \(resumed.iterations)")
                }
            } else {
                data = try TensorDataset.load(tensorsURL)
                let shape = data.sampleShape
                let config = ModelConfig(frames: shape[0], height: shape[1], width: shape[2], channels: shape[3],
                                         filters: filterList, denseUnits: dense, classes: data.y!.shape[1])
                model = try SeedStack(config: config, seed: seed)
            }
            try model.setDropout(dropout, recurrent: dropout)
            let options = FitOptions(epochs: epochs, batchSize: batchSize, validationSplit: validationSplit,
                                     shuffle: !noShuffle, seed: seed)
            log("training \(data.count) samples of \(Tensor.describe(data.sampleShape)), "
                + "\(model.parameterCount) parameters, OpenBLAS \(BLAS.coreName) x\(BLAS.threads)")
            var lastLine = Date()
            try model.fit(x: data.x, y: data.y!, options: options, optimizer: &optimizer) { event in
                switch event {
                case let .batch(epoch, batch, batches, loss):
                    // A line now and then within long epochs, so a quiet terminal is never a stuck one.
                    if Date().timeIntervalSince(lastLine) > 10 && batch < batches {
                        log("epoch \(epoch)/\(epochs) batch \(batch)/\(batches) loss \(String(format: "%.4f", loss))")
                        lastLine = Date()
                    }
                case let .epoch(result):
                    var line = "epoch \(result.epoch)/\(epochs) loss \(String(format: "%.4f", result.loss))"
                        + " accuracy \(String(format: "%.4f", result.accuracy))"
                    if let vl = result.validationLoss, let va = result.validationAccuracy {
                        line += " val_loss \(String(format: "%.4f", vl)) val_accuracy \(String(format: "%.4f", va))"
                    }
                    log(line + " (\(String(format: "%.1f", result.seconds)) s)")
                    lastLine = Date()
                }
            }
            try Checkpoint.save(model, labels: labels, optimizer: optimizer, to: URL(fileURLWithPath: out))
            log("wrote \(out)")
        }
    }

    private func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
