import ActionNet
import ArgumentParser
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
    @Flag(help: "Print one JSON object instead of lines of text.")
    var json = false

    struct PredictionOutput: Encodable {
        let sample: Int
        /// The clip's path as given; absent for tensor samples.
        let clip: String?
        let label: String
        let probabilities: [Float]
    }

    struct Output: Encodable {
        let labels: [String]
        let predictions: [PredictionOutput]
    }

    func validate() throws {
        guard clips.isEmpty != (tensors == nil) else {
            throw ValidationError("give either clips to classify or --tensors FILE")
        }
    }

    func run() throws {
        BLAS.setThreads(threads)
        try reportingErrors {
            let loaded = try Checkpoint.load(URL(fileURLWithPath: checkpoint))
            let labels = loaded.labels ?? (0..<loaded.spec.classes).map { "class\($0)" }
            var predictions: [PredictionOutput] = []
            if let tensors {
                let data = try TensorDataset.load(URL(fileURLWithPath: tensors), xName: name,
                                                  expected: loaded.spec.inputShape, requireLabels: false)
                let probabilities = try ClipClassifier(checkpoint: URL(fileURLWithPath: checkpoint)).predict(data.x, batchSize: batchSize)
                let classes = loaded.spec.classes
                predictions = (0..<data.count).map { i in
                    let p = Prediction(classNames: labels, probabilities: Array(probabilities.data[i * classes ..< (i + 1) * classes]))
                    return PredictionOutput(sample: i, clip: nil, label: p.topLabel, probabilities: p.probabilities)
                }
            } else {
                let classifier = try ClipClassifier(checkpoint: URL(fileURLWithPath: checkpoint))
                for (i, clip) in clips.enumerated() {
                    let p = try classifier.classify(clip: URL(fileURLWithPath: clip))
                    predictions.append(PredictionOutput(sample: i, clip: clip, label: p.topLabel, probabilities: p.probabilities))
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(Output(labels: labels, predictions: predictions)), as: UTF8.self))
            } else {
                for p in predictions {
                    let values = zip(labels, p.probabilities).map { "\($0) \(String(format: "%.4f", $1))" }
                    print("\(p.clip ?? String(p.sample))\t\(p.label)\t" + values.joined(separator: "  "))
                }
            }
        }
    }
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
