import ActionNet
import Foundation
import TestSupport
import Testing

/// `actionlab summary`, `predict` and `train` through the built binary.
@Suite struct CommandTests {
    @Test func summaryAtTheDefaultsPrintsTheSeedNumbers() throws {
        let result = try ActionLabBinary.run(["summary"])
        #expect(result.status == 0)
        for piece in ["150,016", "110,720", "27,712", "2,359,552", "1,285", "(None, 60, 192, 192, 64)",
                      "Total params: 2,649,733", "Trainable params: 2,649,509", "Non-trainable params: 224"] {
            #expect(result.stdout.contains(piece), "\(piece)")
        }
        let odd = try ActionLabBinary.run(["summary", "--frames", "7", "--height", "33", "--width", "21", "--channels", "3",
                                           "--filters", "5,3,2", "--dense", "10", "--classes", "4"])
        #expect(odd.stdout.contains("(None, 7, 17, 11, 5)") && odd.stdout.contains("Total params: 3,098"))
        let bad = try ActionLabBinary.run(["summary", "--filters", "64,x"])
        #expect(bad.status != 0 && bad.stderr.contains("--filters"))
    }

    /// `bench --json` prints the object the README and docs/performance.md describe, for
    /// both algorithms; its figures are timings, so only their presence and sense are checked.
    @Test(arguments: ["winograd", "im2col"]) func benchPrintsOneJSONObject(algorithm: String) throws {
        struct Report: Decodable {
            struct Shape: Decodable {
                let train_seconds_per_step: Double, infer_seconds_per_clip: Double
                let peak_rss_bytes: Int, gflop_per_step: Double, gflops: Double
            }
            let sgemm_gflops: Double, openblas_core: String, threads: Int, precision: String, shapes: [String: Shape]
        }
        let result = try ActionLabBinary.run(["bench", "--shape", "tiny", "--steps", "1", "--threads", "1",
                                              "--algorithm", algorithm, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        #expect(report.threads == 1 && !report.openblas_core.isEmpty && report.sgemm_gflops > 0)
        #expect(report.precision == "fp32")
        let tiny = try #require(report.shapes["tiny"])
        #expect(abs(tiny.gflop_per_step - 31.4) < 0.1)
        #expect(tiny.train_seconds_per_step > 0 && tiny.infer_seconds_per_clip > 0 && tiny.peak_rss_bytes > 0)
        #expect(abs(tiny.gflops - tiny.gflop_per_step / tiny.train_seconds_per_step) < 1e-6 * tiny.gflops)
        let bad = try ActionLabBinary.run(["bench", "--algorithm", "direct"])
        #expect(bad.status != 0 && bad.stderr.contains("direct"), "\(bad.stderr)")
    }

    struct PredictOutput: Decodable {
        struct Prediction: Decodable { let sample: Int; let label: String; let probabilities: [Float] }
        let labels: [String]
        let predictions: [Prediction]
    }

    @Test(arguments: [Fixtures.kerasGray, Fixtures.kerasRGB]) func predictReproducesKerasInference(url: URL) throws {
        let result = try ActionLabBinary.run(["predict", "--checkpoint", url.path, "--tensors", url.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(PredictOutput.self, from: Data(result.stdout.utf8))
        let expected = try SafeTensorsFile(contentsOf: url).tensor("infer.dense2")
        #expect(maxAbsDifference(output.predictions.flatMap(\.probabilities), expected.data) <= 2e-5)
        let text = try ActionLabBinary.run(["predict", "--checkpoint", url.path, "--tensors", url.path])
        #expect(text.stdout.split(separator: "\n").count == expected.shape[0])
    }

    @Test func trainFromAFixtureEqualsKerasThreeSteps() throws {
        let folder = try TemporaryFolder()
        let url = Fixtures.kerasGray
        let out = folder.file("trained.safetensors")
        let result = try ActionLabBinary.run(["train", "--tensors", url.path, "--init", url.path, "--epochs", "3",
                                              "--batch-size", "3", "--lr", "1e-3", "--dropout", "0", "--validation-split", "0",
                                              "--no-shuffle", "--seed", "1", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("epoch 3/3"))
        let trained = try Checkpoint.load(out)
        let file = try SafeTensorsFile(contentsOf: url)
        for entry in trained.model.parameterLayout {
            let error = maxAbsDifference(trained.model.parameter(entry.name)!.data, try file.tensor("step3.\(entry.name)").data)
            #expect(error <= 1e-4, "\(entry.name): \(error)")
        }
        #expect(trained.optimizer?.iterations == 3)
    }

    @Test func trainRefusesTimeLastWithTheNumpyFix() throws {
        let folder = try TemporaryFolder()
        let data = folder.file("wrong.safetensors")
        try SafeTensors.write([(name: "x", tensor: Tensor(shape: [4, 12, 12, 5])), (name: "y", tensor: Tensor(shape: [4], data: [0, 1, 2, 3]))], to: data)
        let result = try ActionLabBinary.run(["train", "--tensors", data.path, "--epochs", "1", "--out", folder.file("m.safetensors").path])
        #expect(result.status == 1)
        #expect(result.stderr.contains(data.path))
        #expect(result.stderr.contains("(4, 12, 12, 5)"))
        #expect(result.stderr.contains("(N, T, H, W, C)"))
        #expect(result.stderr.contains("np.moveaxis(x, -1, 1)[..., None]"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("m.safetensors").path))
    }

    @Test func predictWithACorruptCheckpointNamesTheFile() throws {
        let folder = try TemporaryFolder()
        let bad = folder.file("bad.safetensors")
        try Data("not a checkpoint".utf8).write(to: bad)
        let result = try ActionLabBinary.run(["predict", "--checkpoint", bad.path, "--tensors", Fixtures.kerasGray.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains(bad.path))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
