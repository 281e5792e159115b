import ActionNet
import ActionStore
import ArgumentParser
import Training

/// The options of the commands that train models of their own on a project's labelled
/// clips to judge them (`review`, `train-curve`): the preset they start from and how
/// they train. The project's `[sampling]` and `[training]` apply as for `train`.
struct ModelTrainingOptions: ParsableArguments {
    @Option(help: "Starting values of every model: quick, seed, tiny or tensors (see `actionlab train --help`).")
    var preset: TrainingPreset?
    @Option(help: "Epochs of every model (default: the preset's).")
    var epochs: Int?
    @Option(help: "Keep the clips of one group together (in one fold, on one side of a split): none, folder or prefix.")
    var groupBy: Train.Grouping = .none
    @Option(help: "Seed for the folds or the split, the initial weights, shuffling and augmentation.")
    var seed: UInt64 = 0
    @Option(help: "Samples per training step (default: the preset's).")
    var batchSize: Int?
    @Option(help: ArgumentHelp(precisionHelp.abstract + " Default: the project's, else fp32."))
    var precision: Precision?
    @Option(help: "OpenBLAS threads.")
    var threads = 2

    func validate() throws {
        if let epochs, !(1...TrainingSettings.maximumEpochs).contains(epochs) {
            throw ValidationError("--epochs must be from 1 to \(TrainingSettings.maximumEpochs), got \(epochs)")
        }
        if let batchSize { try validateBatchSize(batchSize) }
        try validateThreads(threads)
    }

    /// The project's settings for the preset with these options applied; the caller
    /// validates them after its own changes.
    func settings(_ store: ProjectStore) throws -> TrainingSettings {
        var settings = try Train.projectSettings(store, preset: preset)
        if let epochs { settings.epochs = epochs }
        if let batchSize { settings.batchSize = batchSize }
        if let precision { settings.precision = precision }
        try checkPrecision(settings.precision)
        settings.groupBy = groupBy.grouping
        settings.seed = seed
        return settings
    }
}
