@testable import ActionNet
import Foundation
import TestSupport
import Testing

/// Small files that claim too much: each is refused with the file and the problem named,
/// before anything is built or allocated from what they claim.
@Suite struct CraftedFileTests {
    let folder: TemporaryFolder
    let config = ModelConfig(frames: 2, height: 4, width: 4, channels: 1, filters: [2], denseUnits: 3, classes: 2)

    init() throws { folder = try TemporaryFolder() }

    /// A small checkpoint with Adam's state, after one training step.
    func checkpointWithOptimizer() throws -> URL {
        let model = try ActionModel(config: config, seed: 1)
        var adam = Adam(learningRate: 0.01)
        let x = Tensor(shape: [2, 2, 4, 4, 1], data: (0..<64).map { Float($0 % 7) / 7 })
        try model.trainStep(x: x, y: Tensor(shape: [2, 2], data: [1, 0, 0, 1]), optimizer: &adam)
        let url = folder.file("model.safetensors")
        try Checkpoint.save(model, optimizer: adam, to: url)
        return url
    }

    /// `url`'s scalar tensor `name` overwritten with `value`, in a copy.
    func withScalar(_ name: String, _ value: Float, in url: URL) throws -> URL {
        let file = try SafeTensorsFile(contentsOf: url)
        let entry = try #require(file.entries[name])
        var bytes = try Data(contentsOf: url)
        let length = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let at = 8 + length + entry.range.lowerBound
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange(at ..< at + 4, with: $0) }
        let copy = folder.file("edited-\(UUID().uuidString).safetensors")
        try bytes.write(to: copy)
        return copy
    }

    /// `url`'s header with `__metadata__` entries replaced by `metadata`, in a copy; without
    /// the stored model unless `metadata` gives one, so that a `config` is what describes it.
    func withMetadata(_ metadata: [String: String], in url: URL) throws -> URL {
        let bytes = try Data(contentsOf: url)
        let length = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = try #require(try JSONSerialization.jsonObject(with: bytes.subdata(in: 8 ..< 8 + length)) as? [String: Any])
        var existing = header["__metadata__"] as? [String: String] ?? [:]
        existing["model"] = nil
        existing.merge(metadata) { $1 }
        header["__metadata__"] = existing
        let copy = folder.file("edited-\(UUID().uuidString).safetensors")
        try writeRawSafeTensors(header: header, data: bytes.subdata(in: 8 + length ..< bytes.count), to: copy)
        return copy
    }

    func loadingError(_ url: URL) -> String? {
        do {
            _ = try Checkpoint.load(url)
            return nil
        } catch {
            let text = "\(error)"
            #expect(text.hasPrefix(url.path + ": "), "\(text)")
            return text
        }
    }

    @Test func optimizerIterationsThatAreNotAStepCount() throws {
        let url = try checkpointWithOptimizer()
        #expect(loadingError(url) == nil)
        for value: Float in [.nan, .infinity, -.infinity, 1e30, -1, 2.5] {
            let edited = try withScalar("optimizer.iterations", value, in: url)
            let error = try #require(loadingError(edited), "\(value) loaded")
            #expect(error.contains("tensor 'optimizer.iterations': \(value) is not a step count"), "\(error)")
        }
        let badRate = try withScalar("optimizer.learning_rate", .nan, in: url)
        #expect(loadingError(badRate)?.contains("tensor 'optimizer.learning_rate': nan is not a positive learning rate") == true)
    }

    @Test func nonFiniteWeightsAreRefused() throws {
        let url = try checkpointWithOptimizer()
        let edited = try withScalar("dense2.bias", .nan, in: url)
        #expect(loadingError(edited)?.contains("tensor 'dense2.bias': 1 of its 2 values are NaN or infinite") == true)
    }

    /// Sizes that overflow or would take terabytes, in a 2 KB file.
    @Test func modelSizesBeyondTheBoundsAreRefusedBeforeBuilding() throws {
        let url = try checkpointWithOptimizer()
        func config(_ fields: String) -> String {
            #"{"frames": 2, "height": 4, "width": 4, "channels": 1, "classes": 2, "# + fields + "}"
        }
        let cases: [(String, String)] = [
            (config(#""filters": [3000000000], "dense_units": 3"#), "filters must be at most 4096, got 3000000000"),
            (config(#""filters": [2], "dense_units": 1099511627776"#), "dense units must be at most 1048576, got 1099511627776"),
            (#"{"frames": 10000, "height": 8192, "width": 8192, "channels": 1, "classes": 2, "filters": [4096], "dense_units": 1048576}"#,
             "beyond 500000000 parameters"),
        ]
        for (json, message) in cases {
            let edited = try withMetadata(["config": json], in: url)
            let error = try #require(loadingError(edited), "\(json) loaded")
            #expect(error.contains(message), "\(error)")
        }
        let kernel = try withMetadata(["model": #"{"input_shape": [2, 4, 4, 1], "layers": [{"convLSTM2D": {"filters": 2, "kernelSize": 2147483649, "returnSequences": false, "dropout": 0, "recurrentDropout": 0}}, {"flatten": {}}, {"dense": {"units": 2, "activation": "softmax"}}]}"#],
                                      in: url)
        let error = try #require(loadingError(kernel))
        #expect(error.contains("kernel size must be at most 15, got 2147483649"), "\(error)")
    }

    /// 300 filters where the file holds 2: refused from the shapes, before 300 filters' weights are drawn.
    @Test func configWiderThanItsTensorsIsRefusedFromTheShapes() throws {
        let url = try checkpointWithOptimizer()
        let edited = try withMetadata(["config": #"{"frames": 2, "height": 4, "width": 4, "channels": 1, "classes": 2, "filters": [300], "dense_units": 3}"#],
                                      in: url)
        let error = try #require(loadingError(edited))
        #expect(error.contains("tensor 'convlstm1.kernel': shape (3, 3, 1, 8) does not fit"), "\(error)")
    }

    @Test func summaryRefusesSizesBeyondTheBounds() {
        #expect(throws: ModelError("filters must be at most 4096, got 3000000000")) {
            try ModelSummary(spec: ModelConfig(frames: 2, height: 8, width: 8, channels: 1, filters: [3_000_000_000],
                                               denseUnits: 2, classes: 2).spec(), name: "wide")
        }
        #expect(ModelLimits.checkedProduct([1 << 40, 1 << 30]) == nil)
        #expect(ModelLimits.checkedProduct([3, 4, 5]) == 60)
    }

    /// The file is read into memory of its own: cutting it afterwards changes nothing
    /// (a memory-mapped copy would crash the reader with SIGBUS).
    @Test func tensorFileCutAfterOpeningStillReads() throws {
        let url = folder.file("x.safetensors")
        let x = Tensor(shape: [4096], data: (0..<4096).map(Float.init))
        try SafeTensors.write([("x", x)], to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(truncate(url.path, 0) == 0)
        #expect(try file.tensor("x") == x)
    }

    @Test func fileThatShrinksWhileReadIsAnError() throws {
        let url = folder.file("short.bin")
        try Data(repeating: 7, count: 100).write(to: url)
        let descriptor = open(url.path, O_RDONLY)
        defer { close(descriptor) }
        // The size taken before reading was 150 bytes; only 100 are there.
        #expect(throws: TensorFileError(url, "the file shrank while it was read (100 of 150 bytes)")) {
            _ = try SafeTensorsFile.readExactly(descriptor, count: 150, url: url)
        }
    }

    @Test func namedPipeIsRefusedWithoutWaiting() throws {
        let url = folder.file("pipe.safetensors")
        #expect(mkfifo(url.path, 0o600) == 0)
        #expect(throws: TensorFileError(url, "not a regular file (a folder, named pipe or device)")) {
            _ = try SafeTensorsFile(contentsOf: url)
        }
    }

    @Test func hugeIntegerLabelIsRefused() throws {
        let url = folder.file("labels.safetensors")
        try SafeTensors.write([("x", Tensor(shape: [1, 1, 2, 2, 1], data: [0, 0.5, 0.5, 1])),
                               ("y", Tensor(shape: [1], data: [999_999]))], to: url)
        #expect(throws: TensorFileError(url, tensor: "y", "integer labels must be whole numbers from 0 to 9999 "
                                        + "(the most classes a model may have), found 999999.0")) {
            _ = try TensorDataset.load(url)
        }
    }

    @Test func nonFinitePixelIsRefused() throws {
        let url = folder.file("nan.safetensors")
        var data = [Float](repeating: 0.5, count: 2 * 2 * 3 * 3)
        data[20] = .nan
        try SafeTensors.write([("x", Tensor(shape: [2, 2, 3, 3, 1], data: data)), ("y", Tensor(shape: [2], data: [0, 1]))], to: url)
        #expect(throws: TensorFileError(url, tensor: "x", "1 values are NaN or infinite (the first in sample 1, value nan); "
                                        + "replace them, e.g. x = np.nan_to_num(x)")) {
            _ = try TensorDataset.load(url)
        }
    }
}
