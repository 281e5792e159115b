import ActionNet
import ArgumentParser
import ClipIO
import Foundation
import Training

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print each clip's (or sample's) top label and class probabilities.",
        discussion: """
            Clips are decoded and sampled as the checkpoint's model expects (its frames, size and \
            channels). --tensors FILE holds samples as x (N, T, H, W, C) float32 instead.
            """)

    @Option(help: "The checkpoint (safetensors) to predict with.")
    var checkpoint: String
    @Argument(help: "Video clips to classify.")
    var clips: [String] = []
    @Option(help: "A safetensors file with the samples, instead of clips.")
    var tensors: String?
    @Option(help: "The name of the samples tensor in --tensors.")
    var name = "x"
    @Option(help: "Samples per forward pass.")
    var batchSize = 8
    @Option(help: "OpenBLAS threads.")
    var threads = 2
    @Option(help: precisionHelp)
    var precision: Precision = .fp32
    @Flag(help: "Print one JSON object instead of lines of text.")
    var json = false

    struct PredictionOutput: Encodable {
        let sample: Int
        /// The clip's path as given; absent for tensor samples.
        let clip: String?
        let label: String
        let probabilities: [Float]
    }

    /// A clip that could not be classified, and why.
    struct ClipFailure: Encodable {
        let clip: String
        let error: String
    }

    struct Output: Encodable {
        let labels: [String]
        let predictions: [PredictionOutput]
        /// Absent when every clip was classified.
        let failures: [ClipFailure]?
    }

    func validate() throws {
        guard clips.isEmpty != (tensors == nil) else {
            throw ValidationError("give either clips to classify or --tensors FILE")
        }
        try validateBatchSize(batchSize)
        try validateThreads(threads)
    }

    func run() throws {
        BLAS.setThreads(threads)
        try reportingErrors {
            try checkPrecision(precision)
            let loaded = try Checkpoint.load(URL(fileURLWithPath: checkpoint))
            let labels = loaded.labels ?? (0..<loaded.spec.classes).map { "class\($0)" }
            var predictions: [PredictionOutput] = []
            var failures: [ClipFailure] = []
            if let tensors {
                // Rows are read as batches need them: memory does not grow with the file.
                let data = try TensorFileRows.open(URL(fileURLWithPath: tensors), xName: name,
                                                   expected: loaded.spec.inputShape, requireLabels: false)
                let classifier = try ClipClassifier(checkpoint: URL(fileURLWithPath: checkpoint))
                try classifier.setPrecision(precision)
                let probabilities = try classifier.predict(rows: data, batchSize: batchSize)
                let classes = loaded.spec.classes
                predictions = (0..<data.count).map { i in
                    let p = Prediction(classNames: labels, probabilities: Array(probabilities.data[i * classes ..< (i + 1) * classes]))
                    return PredictionOutput(sample: i, clip: nil, label: p.topLabel, probabilities: p.probabilities)
                }
            } else {
                let classifier = try ClipClassifier(checkpoint: URL(fileURLWithPath: checkpoint))
                try classifier.setPrecision(precision)
                // A clip that cannot be read is reported and the others still classified.
                for (i, clip) in clips.enumerated() {
                    do {
                        let p = try classifier.classify(clip: URL(fileURLWithPath: clip))
                        predictions.append(PredictionOutput(sample: i, clip: clip, label: p.topLabel, probabilities: p.probabilities))
                    } catch let error as ClipIOError {
                        failures.append(ClipFailure(clip: clip, error: error.reason))
                    } catch {
                        failures.append(ClipFailure(clip: clip, error: "\(error)"))
                    }
                    if !json, let failure = failures.last, failure.clip == clip {
                        FileHandle.standardError.write(Data("\(clip): \(failure.error)\n".utf8))
                    }
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                let output = Output(labels: labels, predictions: predictions, failures: failures.isEmpty ? nil : failures)
                print(String(decoding: try encoder.encode(output), as: UTF8.self))
            } else {
                for p in predictions {
                    let values = zip(labels, p.probabilities).map { "\($0) \(String(format: "%.4f", $1))" }
                    print("\(p.clip ?? String(p.sample))\t\(p.label)\t" + values.joined(separator: "  "))
                }
            }
            if !failures.isEmpty { throw ExitCode(1) }
        }
    }
}

/// Samples per forward pass: at least one, and no more than a training batch may hold.
func validateBatchSize(_ batchSize: Int) throws {
    guard (1...TrainingSettings.maximumBatchSize).contains(batchSize) else {
        throw ValidationError("--batch-size must be from 1 to \(TrainingSettings.maximumBatchSize), got \(batchSize)")
    }
}

extension Precision: ExpressibleByArgument {}

/// The help of every `--precision` option.
let precisionHelp = ArgumentHelp(
    "Number format of the matrix products: fp32, or bf16 (bfloat16 inputs summed in float32; needs a CPU with AVX512_BF16).")

/// Fails, saying what to use instead, when this CPU cannot compute products in
/// `precision`: before any clip is read for a run that would fail at its first step.
func checkPrecision(_ precision: Precision) throws {
    try precision.checkSupported(by: .current)
}

/// OpenBLAS threads: from 1 to 256.
func validateThreads(_ threads: Int) throws {
    guard (1...256).contains(threads) else { throw ValidationError("--threads must be from 1 to 256, got \(threads)") }
}

/// Runs `body`; an error becomes one line on standard error and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do { try body() }
    catch let error as ExitCode { throw error }
    catch {
        FileHandle.standardError.write(Data("actionlab: \(error)\n".utf8))
        throw ExitCode(1)
    }
}
