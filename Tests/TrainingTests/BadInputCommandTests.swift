import ActionNet
import ClipIO
import Foundation
import TestSupport
import Testing
import Training

/// Flags and files beyond the bounds, through the built binary and the classifier:
/// one clear message and a non-zero exit, nothing written.
@Suite struct BadInputCommandTests {
    @Test func flagsBeyondTheirBoundsAreRefused() throws {
        let x = Fixtures.kerasGray.path
        let cases: [([String], String)] = [
            (["train", "--tensors", x, "--batch-size", "9223372036854775807"], "--batch-size must be from 1 to 65536"),
            (["train", "--tensors", x, "--epochs", "3000000000", "--patience", "1"], "--epochs must be from 1 to 100000"),
            (["summary", "--filters", "3000000000"], "filters must be at most 4096, got 3000000000"),
            (["summary", "--dense", "1099511627776"], "dense units must be at most 1048576"),
            (["eval", "--checkpoint", x, "--tensors", x, "--threads", "100000"], "--threads must be from 1 to 256"),
            (["predict", "--checkpoint", x, "--tensors", x, "--batch-size", "0"], "--batch-size must be from 1 to 65536"),
            // Each within its own bound, together 167 GB of frames for one clip.
            (["synth", FileManager.default.temporaryDirectory.appendingPathComponent("synth-\(UUID().uuidString)").path,
              "--frames", "10000", "--size", "4096"], "--frames 10000 at --size 4096: a sample of 10000 x 4096 x 4096 x 1 values"),
        ]
        for (arguments, message) in cases {
            let result = try ActionLabBinary.run(arguments)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    /// One NaN pixel: refused when the file is read, before any training; --out is not written.
    @Test func aNaNPixelIsRefusedBeforeTraining() throws {
        let project = try TemporaryProject()
        let data = project.file("nan.safetensors"), out = project.file("model.safetensors")
        var pixels = (0..<128).map { Float($0 % 7) / 7 }
        pixels[77] = .nan
        try SafeTensors.write([("x", Tensor(shape: [4, 2, 4, 4, 1], data: pixels)), ("y", Tensor(shape: [4], data: [0, 1, 0, 1]))],
                              to: data)
        let result = try ActionLabBinary.run(["train", "--tensors", data.path, "--filters", "1", "--dense", "2",
                                              "--epochs", "2", "--out", out.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(data.path): tensor 'x': 1 values are NaN or infinite (the first in sample 2"),
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// Every clip is tried: the unreadable ones are reported, the others classified.
    @Test func predictReportsEachBadClipAndClassifiesTheRest() throws {
        let project = try TemporaryProject()
        let good = project.file("good.mp4")
        let writer = try MP4Writer(url: good, width: 16, height: 16, fps: 8, quality: 20)
        for frame in 0..<8 { try writer.append([UInt8](repeating: UInt8(30 * frame), count: 256), channels: 1) }
        try writer.finish()
        try Data("not a video".utf8).write(to: project.file("notes.mp4"))
        let result = try ActionLabBinary.run(["predict", "--checkpoint", Fixtures.kerasGray.path,
                                              "missing.mp4", "good.mp4", "notes.mp4"], currentDirectory: project.root)
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("good.mp4\t"), "\(result.stdout)")
        let errors = result.stderr.split(separator: "\n")
        #expect(errors.count == 2 && errors[0] == "missing.mp4: no such file" && errors[1].hasPrefix("notes.mp4: cannot open"),
                "\(result.stderr)")
        let json = try ActionLabBinary.run(["predict", "--json", "--checkpoint", Fixtures.kerasGray.path,
                                            "missing.mp4", "good.mp4"], currentDirectory: project.root)
        #expect(json.status == 1)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["predictions"] as? [Any])?.count == 1)
        #expect((object?["failures"] as? [[String: String]])?.first?["error"] == "no such file")
    }

    /// A valid 2 KB checkpoint whose input is 10000 x 8192 x 8192 x 3 (its pools bring
    /// that down to one value): refused before a clip is sampled for it.
    @Test func checkpointWhoseInputIsLargerThanMemoryIsRefused() throws {
        let project = try TemporaryProject()
        let spec = ModelSpec(inputShape: [10_000, 8192, 8192, 3], layers: [.convLSTM2D(filters: 1, kernelSize: 1, returnSequences: false, dropout: 0, recurrentDropout: 0),
                                  .maxPool(size: 64), .maxPool(size: 64), .maxPool(size: 2), .flatten,
                                  .dense(units: 2, activation: .softmax)])
        let url = project.file("huge-input.safetensors")
        try Checkpoint.save(try ActionModel(spec: spec), to: url)
        #expect(try Data(contentsOf: url).count < 4096)
        do {
            _ = try ClipClassifier(checkpoint: url)
            Issue.record("a classifier was made for a 2 TB input")
        } catch {
            #expect("\(error)".hasPrefix("\(url.path): the model's input: a sample of 10000 x 8192 x 8192 x 3 values takes 8053.06 GB"),
                    "\(error)")
        }
    }
}
