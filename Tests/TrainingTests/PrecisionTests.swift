import ActionNet
import ActionStore
import Foundation
import TestSupport
import Testing
@testable import Training

/// The precision of a run: a setting from actionlab.toml or the command line, recorded
/// with the run's settings, applied to the trainer's model; checkpoints stay float32.
@Suite struct PrecisionSettingTests {
    @Test func theTrainingSectionSetsThePrecision() throws {
        let text = "classes = [\"a\", \"b\"]\n[training]\nprecision = \"bf16\"\n"
        let choices = try #require(try ProjectConfig.parse(text, file: "actionlab.toml").training)
        #expect(choices.precision == "bf16")
        let settings = try TrainingPreset.quick.settings(classes: 2).applying(choices, file: "actionlab.toml")
        #expect(settings.precision == .bf16)
        #expect(TrainingPreset.quick.settings(classes: 2).precision == .fp32)
    }

    @Test func aBadPrecisionNamesTheFileAndTheChoices() throws {
        var choices = TrainingChoices()
        choices.precision = "fp16"
        let error = #expect(throws: TrainingError.self) {
            try TrainingPreset.quick.settings(classes: 2).applying(choices, file: "p/actionlab.toml")
        }
        #expect(error?.description == "p/actionlab.toml: [training] precision 'fp16' is not one of fp32, bf16")
        let text = "classes = [\"a\", \"b\"]\n[training]\nprecision = 16\n"
        let parseError = #expect(throws: ProjectConfigError.self) { try ProjectConfig.parse(text, file: "p/actionlab.toml") }
        #expect(parseError?.description == "p/actionlab.toml: [training] precision must be a name in quotes")
    }

    /// Recorded in the run's settings_json; settings stored before it existed read as fp32.
    @Test func theRunsSettingsRecordThePrecision() throws {
        var settings = TrainingPreset.quick.settings(classes: 3)
        settings.precision = .bf16
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        #expect(json.contains("\"precision\":\"bf16\""))
        #expect(try JSONDecoder().decode(TrainingSettings.self, from: Data(json.utf8)) == settings)
        var old = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
        old["precision"] = nil
        let decoded = try JSONDecoder().decode(TrainingSettings.self, from: try JSONSerialization.data(withJSONObject: old))
        #expect(decoded.precision == .fp32)
    }

    /// A bf16 run trains (on other weights than fp32's: its products ran) and writes a
    /// float32 checkpoint that loads and predicts in fp32.
    @Test(.enabled(if: CPUFeatures.current.hasAVX512BF16, "bfloat16 products need a CPU with AVX512_BF16"))
    func aBF16RunWritesAFloat32Checkpoint() throws {
        func run(_ precision: Precision) throws -> LoadedCheckpoint {
            var settings = TinyData.settings(epochs: 1)
            settings.precision = precision
            let project = try TemporaryProject()
            defer { withExtendedLifetime(project) {} }  // the folder holds the checkpoint read below
            let url = try TinyData.checkpoint(after: settings, in: project)
            let file = try SafeTensorsFile(contentsOf: url)
            #expect(!file.entries.isEmpty && file.entries.values.allSatisfy { $0.dtype == .f32 })
            return try Checkpoint.load(url)
        }
        let fp32 = try run(.fp32), bf16 = try run(.bf16)
        #expect(bf16.model.precision == .fp32)
        #expect(bf16.model.flatParameters != fp32.model.flatParameters)
    }
}
