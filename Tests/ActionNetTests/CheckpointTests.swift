import ActionNet
import Foundation
import TestSupport
import Testing

@Suite struct CheckpointTests {
    @Test func fixturesLoadAsCheckpoints() throws {
        let gray = try Checkpoint.load(Fixtures.kerasGray)
        // A Keras-made file has only `config`: its model is the stack of those sizes.
        #expect(gray.spec == ModelConfig(frames: 5, height: 12, width: 12, channels: 1, filters: [4, 3, 2],
                                         denseUnits: 16, classes: 5).spec())
        #expect(gray.labels == nil)
        #expect(gray.optimizer == nil)
        let file = try SafeTensorsFile(contentsOf: Fixtures.kerasGray)
        #expect(gray.model.parameter("convlstm2.recurrent_kernel") == (try file.tensor("convlstm2.recurrent_kernel")))
        let rgb = try Checkpoint.load(Fixtures.kerasRGB)
        #expect(rgb.spec.channels == 3 && rgb.spec.classes == 5)
        #expect(rgb.spec.layers.compactMap { if case let .convLSTM2D(f, _, _, _, _) = $0 { f } else { nil } } == [3, 2, 2])
    }

    @Test func saveAndLoadRoundTripIsBitExact() throws {
        let folder = try TemporaryFolder()
        let model = try ActionModel(config: ModelConfig(frames: 3, height: 7, width: 5, channels: 2, filters: [3, 2],
                                                      denseUnits: 4, classes: 3), seed: 42)
        // Train one step so that the optimizer has state and BatchNorm moved.
        var adam = Adam(learningRate: 0.01)
        var random = SeededGenerator(seed: 1)
        let x = Tensor(shape: [2, 3, 7, 5, 2], data: (0..<420).map { _ in Float(random.nextUnit()) })
        try model.trainStep(x: x, y: Tensor(shape: [2, 3], data: [1, 0, 0, 0, 0, 1]), optimizer: &adam)
        let url = folder.file("model.safetensors")
        try Checkpoint.save(model, labels: ["run", "walk", "jump"], optimizer: adam, to: url)
        let loaded = try Checkpoint.load(url)
        #expect(loaded.spec == model.spec)
        #expect(loaded.labels == ["run", "walk", "jump"])
        #expect(loaded.model.flatParameters == model.flatParameters)
        #expect(loaded.optimizer == adam)
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["model.safetensors"])
    }

    @Test func variantLayersRoundTrip() throws {
        let folder = try TemporaryFolder()
        let spec = ModelSpec(inputShape: [2, 4, 4, 1], layers: [
            .convLSTM2D(filters: 2, kernelSize: 5, returnSequences: false, dropout: 0, recurrentDropout: 0),
            .globalAveragePool, .dropout(rate: 0.25), .dense(units: 2, activation: .softmax)])
        let model = try ActionModel(spec: spec, seed: 3)
        try Checkpoint.save(model, to: folder.file("v.safetensors"))
        let loaded = try Checkpoint.load(folder.file("v.safetensors"))
        #expect(loaded.spec == spec && loaded.model.spec == spec)
        #expect(loaded.model.flatParameters == model.flatParameters)
        // The file says what the model is, in one place.
        let metadata = try SafeTensorsFile(contentsOf: folder.file("v.safetensors")).metadata
        #expect(metadata["config"] == nil && metadata["layers"] == nil)
        #expect(try JSONDecoder().decode(ModelSpec.self, from: Data(try #require(metadata["model"]).utf8)) == spec)
    }

    /// A checkpoint ActionLab wrote before it stored the model: `config`, and `layers` when
    /// the list was not the seed stack's (here a global max pool head).
    @Test func olderCheckpointsWithConfigAndLayersLoad() throws {
        let folder = try TemporaryFolder()
        let config = ModelConfig(frames: 2, height: 6, width: 6, channels: 1, filters: [2, 2], denseUnits: 4, classes: 3)
        let spec = config.spec(head: .globalMaxPool, batchNormMomentum: 0.9)
        let model = try ActionModel(spec: spec, seed: 5)
        let encoder = JSONEncoder()
        let metadata = ["config": String(decoding: try encoder.encode(config), as: UTF8.self),
                        "layers": String(decoding: try encoder.encode(spec.layers), as: UTF8.self)]
        let url = folder.file("old.safetensors")
        try SafeTensors.write(model.namedParameters, metadata: metadata, to: url)
        let loaded = try Checkpoint.load(url)
        #expect(loaded.spec == spec)
        #expect(loaded.model.flatParameters == model.flatParameters)
    }

    @Test func aModelThatIsNotAModelIsNamed() throws {
        let folder = try TemporaryFolder()
        let url = try fixtureWithHeader({ header in
            var metadata = header["__metadata__"] as? [String: String] ?? [:]
            metadata["model"] = #"{"input_shape":[5,12,12,1],"layers":[{"flatten":{}}]}"#
            header["__metadata__"] = metadata
        }, folder: folder)
        expectError(url, mentions: ["does not describe a model", "Dense(classes, softmax)"])
        let garbled = try fixtureWithHeader({ header in
            header["__metadata__"] = ["model": "[1, 2]"]
        }, folder: folder, name: "garbled.safetensors")
        expectError(garbled, mentions: ["__metadata__.model is not a model"])
    }

    /// The gray fixture's bytes with its header changed by `edit`.
    func fixtureWithHeader(_ edit: (inout [String: Any]) -> Void, folder: TemporaryFolder, name: String = "bad.safetensors") throws -> URL {
        let bytes = try Data(contentsOf: Fixtures.kerasGray)
        let length = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8 ..< 8 + length)) as! [String: Any]
        edit(&header)
        let url = folder.file(name)
        try writeRawSafeTensors(header: header, data: bytes.subdata(in: 8 + length ..< bytes.count), to: url)
        return url
    }

    func expectError(_ url: URL, mentions parts: [String]) {
        do {
            _ = try Checkpoint.load(url)
            Issue.record("\(url.lastPathComponent) loaded but should not")
        } catch {
            let text = "\(error)"
            #expect(text.contains(url.path), "\(text)")
            for part in parts { #expect(text.contains(part), "\(text) should mention \(part)") }
        }
    }

    @Test func truncatedFilesAreRefused() throws {
        let folder = try TemporaryFolder()
        let bytes = try Data(contentsOf: Fixtures.kerasGray)
        let cut = folder.file("cut.safetensors")
        try bytes.prefix(bytes.count - 100).write(to: cut)
        expectError(cut, mentions: ["truncated"])
        let tiny = folder.file("tiny.safetensors")
        try bytes.prefix(5).write(to: tiny)
        expectError(tiny, mentions: ["8-byte"])
        let headerCut = folder.file("headercut.safetensors")
        try bytes.prefix(200).write(to: headerCut)
        expectError(headerCut, mentions: ["truncated"])
    }

    @Test func lyingHeadersAreRefusedBeforeAnyAllocation() throws {
        let folder = try TemporaryFolder()
        // A header length of 2^62: must be refused, not allocated.
        let huge = folder.file("huge.safetensors")
        try writeRawSafeTensors(header: ["a": ["dtype": "F32", "shape": [1], "data_offsets": [0, 4]]], data: Data(count: 4),
                                to: huge, headerLength: 1 << 62)
        expectError(huge, mentions: ["header length"])
        // A shape that claims far more data than the offsets hold.
        let big = try fixtureWithHeader({ $0["dense1.kernel"] = ["dtype": "F32", "shape": [1 << 40, 1 << 30], "data_offsets": [7696, 8208]] }, folder: folder)
        expectError(big, mentions: ["dense1.kernel"])
        // Offsets past the end of the data.
        let past = try fixtureWithHeader({ $0["dense1.kernel"] = ["dtype": "F32", "shape": [8, 16], "data_offsets": [200_000, 200_512]] }, folder: folder, name: "past.safetensors")
        expectError(past, mentions: ["dense1.kernel", "past the end"])
        // Offsets that overlap another tensor.
        let overlap = try fixtureWithHeader({ $0["dense2.bias"] = ["dtype": "F32", "shape": [5], "data_offsets": [8200, 8220]] }, folder: folder, name: "overlap.safetensors")
        expectError(overlap, mentions: ["overlaps"])
        // Not JSON at all.
        let garbage = folder.file("garbage.safetensors")
        var length = UInt64(4).littleEndian
        var bytes = Data(bytes: &length, count: 8)
        bytes.append(contentsOf: [0x7B, 0x7B, 0x7D, 0x21])
        try bytes.write(to: garbage)
        expectError(garbage, mentions: ["not JSON"])
    }

    @Test func missingWrongShapeAndWrongDtypeNameTheTensor() throws {
        let folder = try TemporaryFolder()
        let missing = try fixtureWithHeader({ $0["convlstm2.bias"] = nil }, folder: folder, name: "missing.safetensors")
        expectError(missing, mentions: ["convlstm2.bias", "missing"])
        let shape = try fixtureWithHeader({ $0["dense2.bias"] = ["dtype": "F32", "shape": [1, 5], "data_offsets": [8208, 8228]] }, folder: folder, name: "shape.safetensors")
        expectError(shape, mentions: ["dense2.bias", "(1, 5)", "(5,)"])
        let dtype = try fixtureWithHeader({ $0["dense2.bias"] = ["dtype": "I32", "shape": [5], "data_offsets": [8208, 8228]] }, folder: folder, name: "dtype.safetensors")
        expectError(dtype, mentions: ["dense2.bias", "I32"])
    }

    @Test func configThatDoesNotFitTheWeightsIsRefused() throws {
        let folder = try TemporaryFolder()
        let url = try fixtureWithHeader({ header in
            var metadata = header["__metadata__"] as! [String: String]
            metadata["config"] = #"{"frames": 5, "height": 12, "width": 12, "channels": 1, "filters": [8, 3, 2], "dense_units": 16, "classes": 5}"#
            header["__metadata__"] = metadata
        }, folder: folder)
        expectError(url, mentions: ["convlstm1.kernel", "(3, 3, 1, 16)", "(3, 3, 1, 32)", "config"])
        let noConfig = try fixtureWithHeader({ $0["__metadata__"] = nil }, folder: folder, name: "noconfig.safetensors")
        expectError(noConfig, mentions: ["config"])
        let badConfig = try fixtureWithHeader({ $0["__metadata__"] = ["config": "{\"frames\": 5}"] }, folder: folder, name: "badconfig.safetensors")
        expectError(badConfig, mentions: ["config"])
    }

    @Test func missingFileIsReported() {
        let url = URL(fileURLWithPath: "/nonexistent/model.safetensors")
        expectError(url, mentions: ["cannot read"])
    }
}

@Suite struct SummaryTests {
    @Test func seedSummaryHasTheSeedNumbers() throws {
        let summary = try ModelSummary(spec: ModelConfig.seed.spec(), name: "seed")
        #expect(summary.rows.map(\.parameters) == [150_016, 0, 256, 110_720, 0, 128, 27_712, 0, 64, 0, 2_359_552, 1_285])
        #expect(summary.totalParameters == 2_649_733)
        #expect(summary.trainableParameters == 2_649_509)
        #expect(summary.nonTrainableParameters == 224)
        #expect(summary.rows.map(\.type) == ["ConvLSTM2D", "MaxPool3D", "BatchNormalization", "ConvLSTM2D", "MaxPool3D",
                                             "BatchNormalization", "ConvLSTM2D", "MaxPool2D", "BatchNormalization",
                                             "Flatten", "Dense", "Dense"])
        let text = summary.render()
        for piece in ["convlstm1 (ConvLSTM2D)", "(None, 60, 192, 192, 64)", "(None, 60, 96, 96, 64)", "(None, 48, 48, 16)",
                      "(None, 9216)", "2,359,552", "Total params: 2,649,733", "Trainable params: 2,649,509",
                      "Non-trainable params: 224"] {
            #expect(text.contains(piece), "\(piece)")
        }
    }

    /// Odd sizes, checked against Keras 3.15's model.summary() for the same stack.
    @Test func oddSizesAreComputed() throws {
        let config = ModelConfig(frames: 7, height: 33, width: 21, channels: 3, filters: [5, 3, 2], denseUnits: 10, classes: 4)
        let summary = try ModelSummary(spec: config.spec(), name: "odd")
        #expect(summary.rows.map(\.outputShape) == [[7, 33, 21, 5], [7, 17, 11, 5], [7, 17, 11, 5], [7, 17, 11, 3],
                                                    [7, 9, 6, 3], [7, 9, 6, 3], [9, 6, 2], [5, 3, 2], [5, 3, 2],
                                                    [30], [10], [4]])
        #expect(summary.rows.map(\.parameters) == [1460, 0, 20, 876, 0, 12, 368, 0, 8, 0, 310, 44])
        #expect(summary.totalParameters == 3098)
        // The built model agrees with the shape-only summary.
        #expect(try ActionModel(config: config).summary(name: "odd") == summary)
    }

    @Test func badSizesAreRefused() {
        #expect(throws: ModelError.self) { try ModelSummary(spec: ModelConfig(frames: 0, height: 8, width: 8, channels: 1, filters: [2], denseUnits: 2, classes: 2).spec(), name: "bad") }
        #expect(throws: ModelError.self) { try ModelConfig(frames: 2, height: 8, width: 8, channels: 1, filters: [], denseUnits: 2, classes: 2).validate() }
        #expect(throws: ModelError.self) { try ModelSummary(spec: ModelConfig(frames: 2, height: 8, width: 8, channels: 1, filters: [2], denseUnits: 2, classes: 1).spec(), name: "bad") }
        // A list that does not end in a softmax classifier is no model.
        #expect(throws: ModelError.self) { try ModelSummary(spec: ModelSpec(inputShape: [2, 8, 8, 1], layers: [.flatten]), name: "bad") }
    }

    /// The heads and the head dropout as the table shows them: one value per filter after
    /// either global pool, and a Dropout layer before the classifier.
    @Test func headsAndDropoutAreTableRows() throws {
        let config = ModelConfig(frames: 3, height: 9, width: 9, channels: 1, filters: [4, 6], denseUnits: 8, classes: 3)
        let average = try ModelSummary(spec: config.spec(head: .globalAveragePool, headDropout: 0.3), name: "m")
        #expect(average.rows.suffix(4).map(\.label) == ["global_average_pooling (GlobalAveragePooling2D)", "dense1 (Dense)",
                                                          "dropout (Dropout)", "dense2 (Dense)"])
        #expect(average.rows.suffix(4).map(\.outputShape) == [[6], [8], [8], [3]])
        let maxPool = try ModelSummary(spec: config.spec(head: .globalMaxPool), name: "m")
        #expect(maxPool.rows.first { $0.type == "Flatten" }?.outputShape == [6])
        #expect(average.totalParameters == maxPool.totalParameters)
        #expect(average.render().hasPrefix("Model: \"m\"  input (None, 3, 9, 9, 1)"))
    }
}
