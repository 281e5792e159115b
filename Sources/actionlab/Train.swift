import ActionNet
import ActionStore
import ArgumentParser
import ClipIO
import Foundation
import Training

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the seed stack headless on a project's labelled clips or a tensor file.",
        discussion: """
            DIR: the project's labelled, readable clips (the folder is scanned first), sampled \
            through DIR/.actionlab/cache. The run is recorded in the project database like a run \
            started in the app; its checkpoints (last, best) and metrics.csv go to \
            DIR/.actionlab/runs/<run-id>/. Values not given come from --preset (quick by default, \
            or the project's [sampling] for the frame sizes when no preset is named).

            --tensors FILE holds x (N, T, H, W, C) float32 in [0, 1] and y, one-hot (N, classes) \
            or integer labels (N). Without --init a new model is made for x's shape with \
            --filters, --dense and --seed (the seed stack's sizes unless a preset is named); \
            the trained model goes to --out (model.safetensors).

            Progress goes to standard error: a progress bar on a terminal, plain lines otherwise. \
            Ctrl-C stops after the current batch and saves the last checkpoint.
            """)

    enum Head: String, ExpressibleByArgument, CaseIterable {
        case flatten, globalMaxPool = "global-max-pool", globalAveragePool = "global-average-pool"
        var head: ModelHead {
            switch self {
            case .flatten: .flatten
            case .globalMaxPool: .globalMaxPool
            case .globalAveragePool: .globalAveragePool
            }
        }
    }

    enum Input: String, ExpressibleByArgument, CaseIterable {
        case frames, frameDifferences = "frame-differences", signedDifferences = "signed-differences"
        case framesAndDifferences = "frames-and-differences", motion, framesAndMotion = "frames-and-motion"
        case differencesAndMotion = "differences-and-motion"
        var transform: InputTransform {
            switch self {
            case .frames: .frames
            case .frameDifferences: .frameDifferences
            case .signedDifferences: .signedDifferences
            case .framesAndDifferences: .framesAndDifferences
            case .motion: .motion
            case .framesAndMotion: .framesAndMotion
            case .differencesAndMotion: .differencesAndMotion
            }
        }
    }

    enum Normalization: String, ExpressibleByArgument, CaseIterable {
        case none, standardize, scale
        var mode: ClipNormalizationMode? { ClipNormalizationMode(rawValue: rawValue) }
    }

    enum Grouping: String, ExpressibleByArgument, CaseIterable {
        case none, folder, prefix
        var grouping: SplitGrouping { SplitGrouping(rawValue: rawValue)! }
    }

    @Argument(help: "The project folder (default: none; give DIR or --tensors).")
    var dir: String?
    @Option(help: "A safetensors file with x and y, instead of a project folder.")
    var tensors: String?
    @Option(help: """
        Starting values: quick (24 frames of 48x48 as optical flow, filters 16/8/8, global max pool, \
        dense 64, label-safe augmentation, 40 epochs), seed (60 of 192x192, 64/32/16, flatten, dense 256, 30 epochs), \
        tiny (4 of 24x24, 4/4/4, dense 16, 2 epochs) or tensors (the seed stack, 10 epochs, no validation).
        """)
    var preset: TrainingPreset?

    @Option(help: "Frames per clip (T).")
    var frames: Int?
    @Option(help: "Frame height (H).")
    var height: Int?
    @Option(help: "Frame width (W).")
    var width: Int?
    @Option(help: "Channels (C): 1 gray, 3 RGB.")
    var channels: Int?
    @Option(help: "Filters of each ConvLSTM2D layer for a new model, comma-separated.")
    var filters: String?
    @Option(help: "Units of the hidden Dense layer for a new model.")
    var dense: Int?
    @Option(help: "Input and recurrent dropout of every ConvLSTM2D.")
    var dropout: Float?
    @Option(help: "What follows the ConvLSTM blocks: flatten (the seed stack), global-max-pool or global-average-pool.")
    var head: Head?
    @Option(help: "Dropout rate before the classifier (the last Dense layer); 0 for none.")
    var headDropout: Float?
    @Option(help: "AdamW's decoupled weight decay of every trainable parameter (0: plain Adam).")
    var weightDecay: Float?
    @Option(help: "Momentum of BatchNormalization's moving statistics (Keras: 0.99).")
    var bnMomentum: Float?
    @Option(help: "What the model sees: frames, differences between frames (absolute or signed), optical flow (motion), or two of them as channels.")
    var input: Input?
    @Option(help: "Normalise each clip on its own before the network: standardize (every channel to mean 0, deviation 1), scale (divide by the clip's root mean square; keeps direction) or none.")
    var normalize: Normalization?

    @Option(help: "Passes over the training samples.")
    var epochs: Int?
    @Option(help: "Samples per training step.")
    var batchSize: Int?
    @Option(help: "Adam learning rate.")
    var lr: Float?
    @Option(help: "Fraction of each class held out for validation (stratified, fixed by --seed).")
    var validationSplit: Double?
    @Option(help: "Keep clips of one group on one side of the split: none, folder or prefix (name up to its last _ or -).")
    var groupBy: Grouping = .none
    @Option(help: "Augment training clips: a comma-separated list of flip, crop, jitter, or none (quick: all three).")
    var augment: String?
    @Option(help: "Stop after this many epochs without a better validation accuracy (0: never).")
    var patience: Int?
    @Option(help: "Halve the learning rate after this many epochs without a lower validation loss (0: never).")
    var reduceLrPatience: Int?
    @Flag(help: "Keep the samples in order instead of shuffling every epoch.")
    var noShuffle = false
    @Option(help: "Seed for the initial weights, the split, shuffling, dropout and augmentation.")
    var seed: UInt64 = 0

    @Option(help: "Start from this checkpoint (and its optimizer state, when it has one).")
    var `init`: String?
    @Option(help: "Also write the best checkpoint here (--tensors: model.safetensors by default).")
    var out: String?
    @Option(help: "Also write the per-epoch CSV here.")
    var csv: String?
    @Option(help: "Continue the stopped run with this id from its last checkpoint (with DIR).")
    var resume: Int64?
    @Option(help: "OpenBLAS threads (default 2; with --distributed, this machine's cores shared by its ranks).")
    var threads: Int?
    @Option(help: ArgumentHelp(precisionHelp.abstract + " Recorded with the run; checkpoints stay float32. With --resume: the run's own unless given."))
    var precision: Precision?
    @Flag(help: "Be one rank of data-parallel training started by `mpirun -np K actionlab train ...`.")
    var distributed = false

    func validate() throws {
        guard (dir == nil) != (tensors == nil) else {
            throw ValidationError("give either a project folder DIR or --tensors FILE")
        }
        if resume != nil && dir == nil { throw ValidationError("--resume needs the project folder DIR") }
        if `init` != nil, filters != nil || dense != nil || head != nil || headDropout != nil || bnMomentum != nil || normalize != nil {
            throw ValidationError("--filters, --dense, --head, --head-dropout, --bn-momentum and --normalize describe a new model; "
                                  + "with --init the checkpoint's model is trained")
        }
        if tensors != nil, frames != nil || height != nil || width != nil || channels != nil {
            throw ValidationError("--frames, --height, --width and --channels come from x with --tensors")
        }
        if let epochs, !(1...TrainingSettings.maximumEpochs).contains(epochs) {
            throw ValidationError("--epochs must be from 1 to \(TrainingSettings.maximumEpochs), got \(epochs)")
        }
        if let batchSize { try validateBatchSize(batchSize) }
        if let threads { try validateThreads(threads) }
    }

    func run() throws {
        if distributed { return try runDistributed() }
        BLAS.setThreads(threads ?? 2)
        try reportingErrors {
            if let precision { try checkPrecision(precision) }
            let job = try makeJob()
            let progress = TrainingProgressPrinter(interactive: isatty(STDERR_FILENO) == 1)
            let trainer = Trainer(job: job) { progress.show($0) }
            let interrupt = stopOnInterrupt(trainer, progress)
            trainer.start()
            let final = trainer.wait()
            interrupt.cancel()
            try report(final, of: job, progress)
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Says where the finished run's checkpoint went, or throws how the run failed.
    func report(_ final: TrainingEvent?, of job: TrainingJob, _ progress: TrainingProgressPrinter) throws {
        switch final {
        case .finished(let summary)?:
            if let out = job.output, summary.bestCheckpoint != nil || FileManager.default.fileExists(atPath: out.path) {
                progress.line("wrote \(out.path)")
            }
        case .failed(let failure)?:
            throw Failure(description: failure.message)
        default:
            throw Failure(description: "training ended without a result")
        }
    }

    /// The job the arguments describe; `scan` first brings the project's clip list up to date.
    func makeJob(scan: Bool = true) throws -> TrainingJob {
        if let tensors { return try tensorJob(URL(fileURLWithPath: tensors)) }
        let layout = ProjectLayout(root: URL(fileURLWithPath: dir!))
        let store = try ProjectStore.open(layout)
        if scan { try scanReportingUnlistedFolders(store) }
        let loader = ProjectDataset.cached(layout)
        if let resume {
            var job = try TrainingJob.resuming(runID: resume, store: store, source: .project(store, loader: loader),
                                               epochs: epochs)
            job.output = out.map { URL(fileURLWithPath: $0) }
            job.csv = csv.map { URL(fileURLWithPath: $0) }
            if let precision { job.settings.precision = precision }
            return job
        }
        var settings = try Self.projectSettings(store, preset: preset)
        if let initPath = `init` {
            let loaded = try Checkpoint.load(URL(fileURLWithPath: initPath))
            try ClipClassifier.checkSampleSize(of: loaded)
            try settings.adoptInput(of: loaded)
        } else {
            try applyModelFlags(&settings.model)
        }
        try applyTrainingFlags(&settings)
        var job = TrainingJob(source: .project(store, loader: loader), settings: settings, store: store)
        job.initialCheckpoint = `init`.map { URL(fileURLWithPath: $0) }
        job.output = out.map { URL(fileURLWithPath: $0) }
        job.csv = csv.map { URL(fileURLWithPath: $0) }
        return job
    }

    /// The settings a new run on the project starts from: `preset` (quick by default, or
    /// the project's [sampling] when no preset is named) with the project's [training] choices.
    static func projectSettings(_ store: ProjectStore, preset: TrainingPreset?) throws -> TrainingSettings {
        let layout = store.layout
        let classes = store.classes.count
        var settings = (preset ?? .quick).settings(classes: classes)
        let config = try ProjectConfig.load(layout)
        if preset == nil, let sampling = config.sampling {
            let asked = SamplingSettings(frames: sampling.frames, height: sampling.height, width: sampling.width,
                                         channels: sampling.channels)
            if let problem = asked.problem { throw Failure(description: "\(layout.configURL.path): [sampling]: \(problem)") }
            settings = TrainingPreset.project(classes: classes, sampling: sampling)
        }
        if let choices = config.training { settings = try settings.applying(choices, file: layout.configURL.path) }
        return settings
    }

    /// A run on a tensor file: the `tensors` preset (the seed stack's sizes and the original
    /// command's defaults) unless a preset or flags say otherwise.
    private func tensorJob(_ url: URL) throws -> TrainingJob {
        let data: TensorFileRows
        var settings: TrainingSettings
        var classNames: [String]? = nil
        if let initPath = `init` {
            let loaded = try Checkpoint.load(URL(fileURLWithPath: initPath))
            try ClipClassifier.checkSampleSize(of: loaded)
            data = try TensorFileRows.open(url, expected: loaded.spec.inputShape, classes: loaded.spec.classes)
            settings = (preset ?? .tensors).settings(classes: loaded.spec.classes)
            try settings.adoptInput(of: loaded)
            classNames = loaded.labels
        } else {
            data = try TensorFileRows.open(url)
            let shape = data.sampleShape, classes = data.y!.shape[1]
            settings = (preset ?? .tensors).settings(classes: classes)
            (settings.model.frames, settings.model.height, settings.model.width, settings.model.channels)
                = (shape[0], shape[1], shape[2], shape[3])
            try applyModelFlags(&settings.model)
        }
        try applyTrainingFlags(&settings)
        let samples = try SampleSet(tensorFile: data, classNames: classNames)
        var job = TrainingJob(source: .samples(samples), settings: settings)
        job.initialCheckpoint = `init`.map { URL(fileURLWithPath: $0) }
        job.output = URL(fileURLWithPath: out ?? "model.safetensors")
        job.csv = csv.map { URL(fileURLWithPath: $0) }
        return job
    }

    private func applyModelFlags(_ model: inout ModelConfig) throws {
        if let frames { model.frames = frames }
        if let height { model.height = height }
        if let width { model.width = width }
        if let channels { model.channels = channels }
        if let filters { model.filters = try parseFilters(filters) }
        if let dense { model.denseUnits = dense }
    }

    private func applyTrainingFlags(_ settings: inout TrainingSettings) throws {
        if let dropout { (settings.model.dropout, settings.model.recurrentDropout) = (dropout, dropout) }
        if let head { settings.head = head.head }
        if let headDropout { settings.headDropout = headDropout }
        if let weightDecay { settings.weightDecay = weightDecay }
        if let input { settings.input = input.transform }
        if let normalize { settings.normalization = normalize.mode }
        if let bnMomentum { settings.batchNormMomentum = bnMomentum }
        if let epochs { settings.epochs = epochs }
        if let batchSize { settings.batchSize = batchSize }
        if let lr { settings.learningRate = lr }
        if let precision { settings.precision = precision }
        if let validationSplit { settings.validationFraction = validationSplit }
        settings.groupBy = groupBy.grouping
        settings.shuffle = !noShuffle
        settings.seed = seed
        if let augment {
            // Mirrors and reversal keep the label swaps the project declares, or, named
            // here without any, declare every class symmetric under them.
            let declared = settings.augmentation
            var augmentation = Augmentation()
            for name in augment.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                switch name {
                case "none": augmentation = .off
                case "flip": augmentation.horizontalFlip = declared.horizontalFlip ?? .symmetric
                case "vflip": augmentation.verticalFlip = declared.verticalFlip ?? .symmetric
                case "reverse": augmentation.timeReversal = declared.timeReversal ?? .symmetric
                case "crop": augmentation.randomCrop = true
                case "jitter", "shift": augmentation.temporalJitter = true
                case "speed": augmentation.speedJitter = true
                case "light": augmentation.brightnessContrast = true
                default:
                    throw ValidationError("--augment takes crop, shift, speed, light, flip, vflip, reverse or none, got '\(name)'")
                }
            }
            settings.augmentation = augmentation
        }
        if let patience { settings.earlyStoppingPatience = patience > 0 ? patience : nil }
        if let reduceLrPatience {
            settings.reduceLearningRate = reduceLrPatience > 0 ? PlateauSchedule(factor: 0.5, patience: reduceLrPatience) : nil
        }
        try settings.validate()
    }

    /// The first Ctrl-C asks the trainer to stop after its batch; a second one quits at once.
    private func stopOnInterrupt(_ trainer: Trainer, _ progress: TrainingProgressPrinter) -> any DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "ActionLab.interrupt"))
        nonisolated(unsafe) var interrupted = false
        source.setEventHandler {
            if interrupted { Foundation.exit(130) }
            interrupted = true
            progress.line("stopping after this batch (Ctrl-C again to quit at once)")
            trainer.stop()
        }
        source.resume()
        return source
    }
}

/// Shows a run's events on standard error: a redrawn progress bar on a terminal, and
/// plain lines otherwise (one per epoch, and one every 10 s inside long epochs).
final class TrainingProgressPrinter: @unchecked Sendable {
    // Called on the trainer's queue, and from the interrupt handler: `lock` guards the fields.
    private let lock = NSLock()
    private let interactive: Bool
    private var barShown = false
    private var lastDraw = 0.0
    private var lastLine = Date()
    private var classNames: [String] = []
    private var lastValidationAccuracy: Float?
    /// The clips decoded so far while the run trains.
    private var decoding: LoadingProgress?

    init(interactive: Bool) { self.interactive = interactive }

    func line(_ text: String) {
        lock.withLock { write(text) }
    }

    /// Writes a whole line, first clearing the progress bar when one is shown.
    private func write(_ text: String) {
        var output = text + "\n"
        if barShown { output = "\r\u{1B}[2K" + output }
        barShown = false
        FileHandle.standardError.write(Data(output.utf8))
    }

    func show(_ event: TrainingEvent) {
        lock.withLock { handle(event) }
    }

    private func handle(_ event: TrainingEvent) {
        switch event {
        case .loading(let p):
            // Clips decode while the first epoch trains: the epoch's bar says how far.
            decoding = p
            if p.done == p.total { write("decoded \(p.total) clips") }
        case .skipped(let skipped):
            write("skipped \(skipped.id): \(skipped.reason)")
        case .started(let s):
            classNames = s.classNames
            var text = s.runID.map { "run \($0): " } ?? ""
            text += "training \(s.trainingCount) samples, validating \(s.validationCount); "
                + "input \(Tensor.describe(s.model.inputShape)), \(s.model.layers.count) layers, "
                + "\(s.parameterCount) parameters; OpenBLAS \(BLAS.coreName) x\(BLAS.threads)"
                + (s.settings.precision == .fp32 ? "" : ", \(s.settings.precision.rawValue) products")
            write(text)
            write("estimate: \(duration(s.estimate.secondsPerEpoch)) per epoch, \(megabytes(s.estimate.memoryBytes)) of memory"
                  + (s.firstEpoch > 1 ? "; resuming at epoch \(s.firstEpoch)" : ""))
            for skipped in s.skipped.prefix(10) { write("skipped \(skipped.id): \(skipped.reason)") }
            if s.skipped.count > 10 { write("... and \(s.skipped.count - 10) more skipped") }
            if let directory = s.runDirectory { write("run folder: \(directory.path)") }
        case .batch(let b):
            if interactive {
                var tail = String(format: "loss %.4f acc %.3f", b.meanLoss, b.meanAccuracy)
                if let v = lastValidationAccuracy { tail += String(format: " | val_acc %.3f", v) }
                tail += String(format: " | %.1f samples/s | ETA %@", b.samplesPerSecond, duration(b.etaSeconds))
                if let d = decoding, d.done < d.total { tail += " | decoding \(d.done)/\(d.total) clips" }
                drawBar("epoch \(b.epoch)/\(b.epochs)", done: b.batch, total: b.batches, tail: tail)
            } else if Date().timeIntervalSince(lastLine) > 10 && b.batch < b.batches {
                var text = "epoch \(b.epoch)/\(b.epochs) batch \(b.batch)/\(b.batches) loss \(String(format: "%.4f", b.loss))"
                if let d = decoding, d.done < d.total { text += "; decoding \(d.done)/\(d.total) clips" }
                write(text)
                lastLine = Date()
            }
        case .validation(let v):
            if interactive { drawBar("validating", done: v.batch, total: v.batches, tail: "ETA " + duration(v.etaSeconds)) }
        case .epoch(let e):
            var text = "epoch \(e.epoch)/\(e.epochs) loss \(String(format: "%.4f", e.loss))"
                + " accuracy \(String(format: "%.4f", e.accuracy))"
            if let vl = e.validationLoss, let va = e.validationAccuracy {
                text += " val_loss \(String(format: "%.4f", vl)) val_accuracy \(String(format: "%.4f", va))"
            }
            text += " lr \(String(format: "%g", e.learningRate)) (\(String(format: "%.1f", e.seconds)) s)"
            if e.isBest && e.validationAccuracy != nil { text += " best" }
            lastValidationAccuracy = e.validationAccuracy
            write(text)
            lastLine = Date()
        case .learningRateChanged(let c):
            write("learning rate \(String(format: "%g", c.from)) -> \(String(format: "%g", c.to)) after epoch \(c.epoch)")
        case .checkpoint:
            break
        case .paused(let p):
            write("paused at epoch \(p.epoch), batch \(p.batch)")
        case .resumed:
            write("resumed")
        case .finished(let s):
            var text = "\(s.status.rawValue.replacingOccurrences(of: "_", with: " ")): \(s.reason); \(s.epochsCompleted) epochs in \(duration(s.seconds))"
            if let best = s.bestValidationAccuracy, let epoch = s.bestEpoch {
                text += String(format: "; best val_accuracy %.4f at epoch %d", best, epoch)
            }
            write(text)
            if let last = s.lastCheckpoint { write("last checkpoint: \(last.path)") }
            if let best = s.bestCheckpoint, best != s.lastCheckpoint { write("best checkpoint: \(best.path)") }
        case .failed:
            break   // the command prints the message as its error
        }
    }

    private func drawBar(_ label: String, done: Int, total: Int, tail: String) {
        let now = Date().timeIntervalSince1970
        guard done == total || now - lastDraw > 0.1 else { return }
        lastDraw = now
        let width = 24, filled = total > 0 ? width * done / total : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(label) [\(bar)] \(done)/\(total) \(tail)".utf8))
        barShown = true
    }

    private func duration(_ seconds: Double) -> String { Formatting.duration(seconds) }

    private func megabytes(_ bytes: Int) -> String { Formatting.bytes(bytes) }
}
