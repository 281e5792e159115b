@testable import ActionNet
import Foundation
import TestSupport
import Testing

/// The Keras 3.15 reference tensors (Tests/TestSupport/Fixtures/keras, copied from the
/// design's shared fixtures): inference outputs, loss, gradients and Adam steps.
@Suite struct KerasParityTests {
    static let fixtures = [Fixtures.kerasGray, Fixtures.kerasRGB]

    /// The fixture's model (dropout 0, as the fixtures were made) and its tensors.
    func load(_ url: URL) throws -> (ActionModel, SafeTensorsFile) {
        let checkpoint = try Checkpoint.load(url)
        try checkpoint.model.setDropout(0, recurrent: 0)
        return (checkpoint.model, try SafeTensorsFile(contentsOf: url))
    }

    @Test(arguments: fixtures) func everyInferenceOutputMatches(url: URL) throws {
        let (model, file) = try load(url)
        let outputs = try model.layerOutputs(try file.tensor("x"))
        for (layer, output) in zip(model.layers, outputs) {
            let expected = try file.tensor("infer.\(layer.name)")
            #expect(output.shape == expected.shape, "\(layer.name)")
            let error = maxAbsDifference(output.data, expected.data)
            #expect(error <= 2e-5, "\(url.lastPathComponent) infer.\(layer.name): max error \(error)")
        }
        let probabilities = try model.predict(try file.tensor("x"), batchSize: 2)
        #expect(maxAbsDifference(probabilities.data, try file.tensor("infer.dense2").data) <= 2e-5)
    }

    @Test(arguments: fixtures) func lossAndGradientsMatch(url: URL) throws {
        let (model, file) = try load(url)
        // grad.* came from an eager GradientTape, whose MaxPool3D gradient goes to every
        // value within 1e-5 of a window's maximum; the RGB fixture has such a near tie
        // (7.5e-6 apart) in convlstm1's output. Keras's compiled training step (step1.*,
        // step3.*) routes to the first maximum, ActionLab's default.
        model.setMaxPool3DTieTolerance(1e-5)
        let result = try model.computeGradients(x: try file.tensor("x"), y: try file.tensor("y"))
        let loss = try file.tensor("train.loss").data[0]
        #expect(abs(result.loss - loss) <= 1e-5 * abs(loss), "loss \(result.loss) vs Keras \(loss)")
        #expect(maxAbsDifference(result.probabilities.data, try file.tensor("train.probs").data) <= 2e-5)
        for entry in model.parameterLayout where entry.trainable {
            let expected = try file.tensor("grad.\(entry.name)")
            let error = maxAbsDifference(model.gradient(entry.name)!.data, expected.data)
            let scale = maxMagnitude(expected.data)
            #expect(error <= 1e-4 * scale, "\(url.lastPathComponent) grad.\(entry.name): max error \(error), largest \(scale)")
        }
    }

    @Test(arguments: fixtures) func adamStepsMatch(url: URL) throws {
        try checkAdamSteps(url)
    }

    /// The same with every buffer memory-mapped, so that each buffer the model discards
    /// between uses really reads as zeros afterwards: nothing may read one after discarding it.
    @Test func adamStepsMatchWhenEveryBufferCanBeDiscarded() throws {
        try checkAdamSteps(Fixtures.kerasGray, bufferMappingThreshold: 0)
        let (model, file) = try load(Fixtures.kerasRGB)
        model.setBufferMappingThreshold(0)
        model.setMaxPool3DTieTolerance(1e-5)
        _ = try model.computeGradients(x: try file.tensor("x"), y: try file.tensor("y"))
        for entry in model.parameterLayout where entry.trainable {
            let expected = try file.tensor("grad.\(entry.name)")
            #expect(maxAbsDifference(model.gradient(entry.name)!.data, expected.data) <= 1e-4 * maxMagnitude(expected.data))
        }
        // The statistics were taken before any activation was discarded.
        #expect(model.statistics.allSatisfy { $0.activationStd > 0 })
    }

    func checkAdamSteps(_ url: URL, bufferMappingThreshold: Int? = nil) throws {
        let (model, file) = try load(url)
        if let bufferMappingThreshold { model.setBufferMappingThreshold(bufferMappingThreshold) }
        let x = try file.tensor("x"), y = try file.tensor("y")
        let losses = try file.tensor("train.step_losses").data
        var adam = Adam(learningRate: 1e-3)
        for step in 1...3 {
            let result = try model.trainStep(x: x, y: y, optimizer: &adam)
            #expect(abs(result.loss - losses[step - 1]) <= 1e-5 * abs(losses[step - 1]), "step \(step) loss")
            guard step != 2 else { continue }
            for entry in model.parameterLayout {
                let expected = try file.tensor("step\(step).\(entry.name)")
                let error = maxAbsDifference(model.parameter(entry.name)!.data, expected.data)
                #expect(error <= 1e-4, "\(url.lastPathComponent) step\(step).\(entry.name): max error \(error)")
            }
        }
    }
}
