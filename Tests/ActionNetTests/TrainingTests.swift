import ActionNet
import Foundation
import TestSupport
import Testing

@Suite struct TrainingTests {
    /// Adam steps over `x` and `y` in batches of `batchSize`, `epochs` times, in order or
    /// shuffled every epoch by `shuffleSeed`; returns each epoch's mean loss.
    func train(_ model: ActionModel, x: Tensor, y: Tensor, epochs: Int, batchSize: Int, shuffleSeed: UInt64? = nil,
               optimizer: inout Adam) throws -> [Float] {
        let n = x.shape[0]
        var random = SeededGenerator(seed: shuffleSeed ?? 0)
        var losses: [Float] = []
        for _ in 0..<epochs {
            var order = Array(0..<n)
            if shuffleSeed != nil { order.shuffle(using: &random) }
            var sum = 0.0
            for start in stride(from: 0, to: n, by: batchSize) {
                let indices = Array(order[start ..< min(start + batchSize, n)])
                let step = try model.trainStep(x: x.samples(at: indices), y: y.samples(at: indices), optimizer: &optimizer)
                sum += Double(step.loss) * Double(indices.count)
            }
            losses.append(Float(sum / Double(n)))
        }
        return losses
    }

    /// Batch = N, dropout 0: three training steps are Keras's three Adam steps.
    @Test(arguments: [Fixtures.kerasGray, Fixtures.kerasRGB]) func threeStepsOfOneBatchAreKerasThreeSteps(url: URL) throws {
        let checkpoint = try Checkpoint.load(url)
        let data = try TensorDataset.load(url, expected: checkpoint.spec.inputShape, classes: checkpoint.spec.classes)
        let model = checkpoint.model
        try model.setDropout(0, recurrent: 0)
        var adam = Adam(learningRate: 1e-3)
        let losses = try train(model, x: data.x, y: try #require(data.y), epochs: 3, batchSize: data.count, optimizer: &adam)
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(isClose(losses, try file.tensor("train.step_losses").data, rtol: 1e-5, atol: 0))
        for entry in model.parameterLayout {
            let error = maxAbsDifference(model.parameter(entry.name)!.data, try file.tensor("step3.\(entry.name)").data)
            #expect(error <= 1e-4, "\(entry.name): \(error)")
        }
        #expect(adam.iterations == 3)
        #expect(model.statistics.count == model.layers.count)
        #expect(model.statistics.first { $0.name == "maxpool1" }?.gradientNorm == nil)
        #expect((model.statistics.first { $0.name == "convlstm1" }?.gradientNorm ?? 0) > 0)
    }

    @Test func aTinyModelLearnsASeparableTask() throws {
        let (xs, ys) = brightOrDarkFrames()
        let model = try ActionModel(config: ModelConfig(frames: 3, height: 6, width: 6, channels: 1, filters: [4],
                                                        denseUnits: 8, classes: 2, dropout: 0.1, recurrentDropout: 0.1), seed: 2)
        var adam = Adam(learningRate: 1e-2)
        // The last quarter is held out.
        let losses = try train(model, x: xs.samples(0 ..< 12), y: ys.samples(0 ..< 12), epochs: 15, batchSize: 4,
                               shuffleSeed: 1, optimizer: &adam)
        #expect(try #require(losses.last) < losses[0])
        #expect(try model.evaluate(x: xs.samples(12 ..< 16), y: ys.samples(12 ..< 16)).accuracy == 1)
        #expect(try model.evaluate(x: xs, y: ys).accuracy == 1)
    }

    @Test func sameSeedSameRun() throws {
        func run() throws -> [Float] {
            let config = ModelConfig(frames: 2, height: 4, width: 4, channels: 1, filters: [2, 2], denseUnits: 4, classes: 2)
            let model = try ActionModel(spec: config.spec(headDropout: 0.5), seed: 9)
            var random = SeededGenerator(seed: 3)
            let x = Tensor(shape: [6, 2, 4, 4, 1], data: (0..<192).map { _ in Float(random.nextUnit()) })
            let y = Tensor(shape: [6, 2], data: [1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1])
            var adam = Adam()
            _ = try train(model, x: x, y: y, epochs: 2, batchSize: 4, shuffleSeed: 4, optimizer: &adam)
            return model.flatParameters
        }
        #expect(try run() == run())
    }

    @Test func badTargetsAndInputsAreRefused() throws {
        let model = try ActionModel(config: ModelConfig(frames: 2, height: 4, width: 4, channels: 1, filters: [2], denseUnits: 4, classes: 3))
        var adam = Adam()
        let x = Tensor(shape: [2, 2, 4, 4, 1])
        #expect(throws: ModelError.self) { try model.trainStep(x: x, y: Tensor(shape: [2, 2]), optimizer: &adam) }
        #expect(throws: ModelError.self) { try model.predict(Tensor(shape: [2, 2, 4, 5, 1])) }
    }
}

@Suite struct TensorDatasetTests {
    func write(_ tensors: [(String, Tensor)], _ folder: TemporaryFolder, _ name: String = "data.safetensors") throws -> URL {
        let url = folder.file(name)
        try SafeTensors.write(tensors.map { (name: $0.0, tensor: $0.1) }, to: url)
        return url
    }

    /// A smooth moving blob: (N, T, H, W) of real-looking video.
    func movingBlob(samples: Int, T: Int, H: Int, W: Int) -> [[[[Float]]]] {
        (0..<samples).map { n in
            (0..<T).map { t in
                (0..<H).map { y in
                    (0..<W).map { x in
                        let cx = Double(W) * (0.2 + 0.6 * Double(t) / Double(T)), cy = Double(H) * (0.3 + 0.1 * Double(n))
                        let d = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)
                        return Float(exp(-d / Double(H * W) * 12))
                    }
                }
            }
        }
    }

    func expectLayoutError(_ url: URL, expected: [Int]? = nil, mentions parts: [String]) {
        do {
            _ = try TensorDataset.load(url, expected: expected)
            Issue.record("loaded but should not")
        } catch let error as LayoutError {
            let text = error.description
            #expect(text.contains(url.path))
            #expect(text.contains("(N, T, H, W, C)"))
            for part in parts { #expect(text.contains(part), "\(text) should mention \(part)") }
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func timeLastIsRefusedWithTheMoveaxisFix() throws {
        let folder = try TemporaryFolder()
        let blob = movingBlob(samples: 2, T: 6, H: 8, W: 8)
        // (N, H, W, T), as np.moveaxis(video, 1, -1) would give.
        var data = [Float]()
        for n in 0..<2 { for y in 0..<8 { for x in 0..<8 { for t in 0..<6 { data.append(blob[n][t][y][x]) } } } }
        let url = try write([("x", Tensor(shape: [2, 8, 8, 6], data: data)), ("y", Tensor(shape: [2], data: [0, 1]))], folder)
        expectLayoutError(url, mentions: ["(2, 8, 8, 6)", "np.moveaxis(x, -1, 1)[..., None]", "(N, H, W, T)"])
        expectLayoutError(url, expected: [6, 8, 8, 1], mentions: ["(N, T, H, W, C) = (N, 6, 8, 8, 1)", "np.moveaxis(x, -1, 1)[..., None]"])
    }

    @Test func missingChannelAxisIsRefused() throws {
        let folder = try TemporaryFolder()
        let url = try write([("x", Tensor(shape: [2, 6, 8, 8])), ("y", Tensor(shape: [2], data: [0, 1]))], folder)
        expectLayoutError(url, mentions: ["(2, 6, 8, 8)", "x[..., None]"])
    }

    @Test func timeAfterTheFrameAxesIsRefusedWhenTheModelIsKnown() throws {
        let folder = try TemporaryFolder()
        let url = try write([("x", Tensor(shape: [2, 8, 8, 6, 1])), ("y", Tensor(shape: [2], data: [0, 1]))], folder)
        expectLayoutError(url, expected: [6, 8, 8, 1], mentions: ["(2, 8, 8, 6, 1)", "np.moveaxis(x, 3, 1)"])
    }

    @Test func reshapeInsteadOfMoveaxisIsRefused() throws {
        let folder = try TemporaryFolder()
        let (T, H, W) = (16, 24, 24)
        let blob = movingBlob(samples: 2, T: T, H: H, W: W)
        var correct = [Float](), reshaped = [Float]()
        for n in 0..<2 {
            for t in 0..<T { for y in 0..<H { for x in 0..<W { correct.append(blob[n][t][y][x]) } } }
            // (N, H, W, T) memory order, later read as (N, T, H, W, 1).
            for y in 0..<H { for x in 0..<W { for t in 0..<T { reshaped.append(blob[n][t][y][x]) } } }
        }
        let labels = Tensor(shape: [2], data: [0, 1])
        let bad = try write([("x", Tensor(shape: [2, T, H, W, 1], data: reshaped)), ("y", labels)], folder, "bad.safetensors")
        expectLayoutError(bad, mentions: ["reshape", "np.moveaxis"])
        let good = try write([("x", Tensor(shape: [2, T, H, W, 1], data: correct)), ("y", labels)], folder, "good.safetensors")
        #expect(try TensorDataset.load(good).count == 2)
        // Noise is smooth along no axis and must not be mistaken for a reshape.
        var random = SeededGenerator(seed: 1)
        let noise = try write([("x", Tensor(shape: [2, T, H, W, 1], data: (0..<(2 * T * H * W)).map { _ in Float(random.nextUnit()) })), ("y", labels)],
                              folder, "noise.safetensors")
        #expect(try TensorDataset.load(noise).count == 2)
    }

    @Test func integerLabelsBecomeOneHot() throws {
        let folder = try TemporaryFolder()
        let url = try write([("x", Tensor(shape: [3, 2, 3, 3, 1])), ("y", Tensor(shape: [3], data: [2, 0, 1]))], folder)
        let data = try TensorDataset.load(url, classes: 4)
        #expect(data.y == Tensor(shape: [3, 4], data: [0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0]))
        #expect(try TensorDataset.load(url).y?.shape == [3, 3])
        #expect(throws: TensorFileError.self) { try TensorDataset.load(url, classes: 2) }
        let notOneHot = try write([("x", Tensor(shape: [2, 2, 3, 3, 1])), ("y", Tensor(shape: [2, 2], data: [1, 1, 0, 1]))], folder, "b.safetensors")
        #expect(throws: TensorFileError.self) { try TensorDataset.load(notOneHot) }
        let rows = try write([("x", Tensor(shape: [2, 2, 3, 3, 1])), ("y", Tensor(shape: [3], data: [0, 1, 1]))], folder, "c.safetensors")
        #expect(throws: TensorFileError.self) { try TensorDataset.load(rows) }
        let noY = try write([("x", Tensor(shape: [2, 2, 3, 3, 1]))], folder, "d.safetensors")
        #expect(throws: TensorFileError.self) { try TensorDataset.load(noY) }
        #expect(try TensorDataset.load(noY, requireLabels: false).y == nil)
    }
}

/// A separable task for tiny models: 16 clips of 3 frames of 6x6 noise, class 0 bright
/// (even clips), class 1 dark. A model that learns anything tells them apart.
func brightOrDarkFrames() -> (x: Tensor, y: Tensor) {
    var random = SeededGenerator(seed: 5)
    let n = 16, per = 3 * 6 * 6
    var x = [Float](), y = [Float]()
    for i in 0..<n {
        let bright = i % 2 == 0
        x += (0..<per).map { _ in Float(random.nextUnit()) * 0.5 + (bright ? 0.5 : 0) }
        y += bright ? [1, 0] : [0, 1]
    }
    return (Tensor(shape: [n, 3, 6, 6, 1], data: x), Tensor(shape: [n, 2], data: y))
}
