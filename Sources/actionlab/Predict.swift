import ActionNet
import ArgumentParser
import Foundation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print each sample's class probabilities and top label.",
        discussion: "The samples come from a safetensors file holding x (N, T, H, W, C) float32.")

    @Option(help: "The checkpoint (safetensors) to predict with.")
    var checkpoint: String
    @Option(help: "A safetensors file with the samples.")
    var tensors: String
    @Option(help: "The name of the samples tensor in --tensors.")
    var name = "x"
    @Option(help: "Samples per forward pass.")
    var batchSize = 8
    @Option(help: "OpenBLAS threads.")
    var threads = 2
    @Flag(help: "Print one JSON object instead of lines of text.")
    var json = false

    struct Prediction: Encodable {
        let sample: Int
        let label: String
        let probabilities: [Float]
    }

    struct Output: Encodable {
        let labels: [String]
        let predictions: [Prediction]
    }

    func run() throws {
        BLAS.setThreads(threads)
        try reportingErrors {
            let loaded = try Checkpoint.load(URL(fileURLWithPath: checkpoint))
            let data = try TensorDataset.load(URL(fileURLWithPath: tensors), xName: name,
                                              expected: loaded.config.inputShape, requireLabels: false)
            let probabilities = try loaded.model.predict(data.x, batchSize: batchSize)
            let labels = loaded.labels ?? (0..<loaded.config.classes).map { "class\($0)" }
            let classes = loaded.config.classes
            let predictions = (0..<data.count).map { i in
                let row = Array(probabilities.data[i * classes ..< (i + 1) * classes])
                let top = row.indices.max { row[$0] < row[$1] }!
                return Prediction(sample: i, label: labels[top], probabilities: row)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(Output(labels: labels, predictions: predictions)), as: UTF8.self))
            } else {
                for p in predictions {
                    let values = zip(labels, p.probabilities).map { "\($0) \(String(format: "%.4f", $1))" }
                    print("\(p.sample)\t\(p.label)\t" + values.joined(separator: "  "))
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
