import ActionNet
import ActionStore
import Foundation
import Testing
import Training

/// Samples whose content says which way they move: a bright bar travelling right
/// (`pan_left`'s picture), left (`pan_right`), down (`tilt_up`) or up (`tilt_down`).
enum DirectionalData {
    static let classes = ["pan_left", "pan_right", "tilt_up", "tilt_down"]
    static let (T, H, W) = (4, 8, 8)

    static func sample(_ classIndex: Int) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: T * H * W)
        for t in 0..<T {
            for i in 0..<H {
                switch classIndex {
                case 0: pixels[(t * H + i) * W + (1 + t)] = 255          // bar at x = 1 + t: moves right
                case 1: pixels[(t * H + i) * W + (6 - t)] = 255          // moves left
                case 2: pixels[(t * H + (1 + t)) * W + i] = 255          // moves down
                default: pixels[(t * H + (6 - t)) * W + i] = 255         // moves up
                }
            }
        }
        return pixels
    }

    static func set(perClass: Int) -> SampleSet {
        var pixels: [UInt8] = [], infos: [SampleInfo] = []
        for c in classes.indices {
            for n in 0..<perClass {
                pixels += sample(c)
                infos.append(SampleInfo(id: "\(classes[c])/\(n).mp4", classIndex: c))
            }
        }
        return SampleSet(classNames: classes, sampleShape: [T, H, W, 1], samples: infos, pixels: pixels)
    }

    /// Which class a (T, H, W, 1) sample of `x` shows, read from where its bar moves.
    static func shownClass(_ x: Tensor, _ n: Int) -> Int? {
        let size = T * H * W
        func brightColumn(_ t: Int) -> Int? {
            (0..<W).first { column in (0..<H).allSatisfy { y in xValue(x, n * size + (t * H + y) * W + column) > 0.5 } }
        }
        func brightRow(_ t: Int) -> Int? {
            (0..<H).first { y in (0..<W).allSatisfy { c in xValue(x, n * size + (t * H + y) * W + c) > 0.5 } }
        }
        if let a = brightColumn(0), let b = brightColumn(T - 1) { return b > a ? 0 : 1 }
        if let a = brightRow(0), let b = brightRow(T - 1) { return b > a ? 2 : 3 }
        return nil
    }

    private static func xValue(_ x: Tensor, _ i: Int) -> Float { x.data[i] }
}

@Suite struct LabelSwapTests {
    let set = DirectionalData.set(perClass: 10)

    /// Every augmented sample is labelled with the class it now shows.
    func expectLabelsMatchContent(_ augmentation: Augmentation, seed: UInt64 = 3) throws -> Int {
        var random = SeededGenerator(seed: seed)
        let indices = Array(0..<set.count)
        let (x, y) = try set.batch(indices, augmentation: augmentation, random: &random)
        var changed = 0
        for n in indices {
            let label = (0..<4).first { y.data[n * 4 + $0] == 1 }
            let shown = DirectionalData.shownClass(x, n)
            #expect(label == shown, "sample \(n) (\(set.samples[n].id)) shows \(String(describing: shown)) labelled \(String(describing: label))")
            if label != set.samples[n].classIndex { changed += 1 }
        }
        return changed
    }

    @Test func aMirroredPanLeftTrainsAsPanRight() throws {
        let changed = try expectLabelsMatchContent(Augmentation(horizontalFlip: ClassSwaps([["pan_left", "pan_right"]])))
        #expect(changed > 3 && changed < 17, "about half of the 20 pans are mirrored and relabelled")
    }

    @Test func anUpsideDownTiltUpTrainsAsTiltDown() throws {
        let changed = try expectLabelsMatchContent(Augmentation(verticalFlip: ClassSwaps([["tilt_up", "tilt_down"]])))
        #expect(changed > 3 && changed < 17)
    }

    @Test func aReversedClipSwapsBothDirections() throws {
        let reversal = ClassSwaps([["pan_left", "pan_right"], ["tilt_up", "tilt_down"]])
        let changed = try expectLabelsMatchContent(Augmentation(timeReversal: reversal))
        #expect(changed > 8 && changed < 32, "about half of all 40 clips are reversed and relabelled")
    }

    @Test func everythingTogetherStillLabelsWhatIsShown() throws {
        let augmentation = Augmentation(horizontalFlip: ClassSwaps([["pan_left", "pan_right"]]),
                                        verticalFlip: ClassSwaps([["tilt_up", "tilt_down"]]),
                                        timeReversal: ClassSwaps([["pan_left", "pan_right"], ["tilt_up", "tilt_down"]]))
        for seed in 0..<5 as Range<UInt64> { _ = try expectLabelsMatchContent(augmentation, seed: seed) }
    }

    @Test func theLabelSafeChangesNeverMirrorOrReverse() throws {
        // Speed and shift repeat edge frames, which can hide the bar's travel; without
        // them every sample must still show its own class.
        var safe = Augmentation.labelSafe
        (safe.speedJitter, safe.temporalJitter, safe.randomCrop) = (false, false, false)
        #expect(try expectLabelsMatchContent(safe) == 0)
        var random = SeededGenerator(seed: 9)
        let (x, y) = try set.batch(Array(0..<set.count), augmentation: .labelSafe, random: &random)
        for n in 0..<set.count {
            #expect(y.data[n * 4 + set.samples[n].classIndex] == 1)
            if let shown = DirectionalData.shownClass(x, n) { #expect(shown == set.samples[n].classIndex) }
        }
    }

    @Test func swapsMustNameTwoDifferentClassesOfTheProject() {
        for (pairs, message) in [([["pan_left", "zoom_in"]], "not a class"), ([["pan_left", "pan_left"]], "two different"),
                                 ([["pan_left", "pan_right"], ["pan_right", "tilt_up"]], "in two label swaps")] {
            let error = #expect(throws: TrainingError.self) {
                var random = SeededGenerator(seed: 0)
                _ = try set.batch([0], augmentation: Augmentation(horizontalFlip: ClassSwaps(pairs)), random: &random)
            }
            #expect(error?.description.contains(message) == true, "\(pairs): \(String(describing: error))")
        }
    }
}

@Suite struct RecipeChoiceTests {
    static let classes = ["pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in"]

    @Test func noPresetMirrorsOrReversesAProjectThatDidNotSaySo() throws {
        for preset in TrainingPreset.allCases {
            let settings = preset.settings(classes: 5)
            #expect(settings.augmentation.horizontalFlip == nil, "\(preset)")
            #expect(settings.augmentation.verticalFlip == nil, "\(preset)")
            #expect(settings.augmentation.timeReversal == nil, "\(preset)")
        }
        // A project file naming only the classes leaves them off too.
        let config = try ProjectConfig.parse(#"classes = ["pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in"]"#,
                                             file: "actionlab.toml")
        #expect(config.training == nil)
    }

    @Test func theTrainingSectionSetsTheRecipe() throws {
        let text = """
            classes = ["pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in"]
            [training]
            input = "signed_differences"
            speed = false
            horizontal_flip = [["pan_left", "pan_right"]]
            vertical_flip = true
            time_reversal = false
            normalize = "scale"
            head_dropout = 0.25
            weight_decay = 0.01
            """
        let config = try ProjectConfig.parse(text, file: "actionlab.toml")
        let choices = try #require(config.training)
        let settings = try TrainingPreset.quick.settings(classes: 5).applying(choices, file: "actionlab.toml")
        #expect(settings.input == .signedDifferences)
        #expect(settings.augmentation.horizontalFlip == ClassSwaps([["pan_left", "pan_right"]]))
        #expect(settings.augmentation.verticalFlip == .symmetric)
        #expect(settings.augmentation.timeReversal == nil)
        #expect(!settings.augmentation.speedJitter)
        #expect(settings.normalization == .scale)
        #expect(settings.modelSpec.layers.first == .clipNormalization(mode: .scale, epsilon: ClipNormalization.defaultEpsilon))
        #expect(settings.headDropout == 0.25 && settings.modelSpec.layers.contains(.dropout(rate: 0.25)))
        #expect(settings.weightDecay == 0.01)
    }

    @Test func normalizeNoneTakesThePresetsNormalizationAway() throws {
        var choices = TrainingChoices()
        choices.normalize = "none"
        var settings = TrainingPreset.quick.settings(classes: 5)
        settings.normalization = .standardize
        let applied = try settings.applying(choices, file: "p/actionlab.toml")
        #expect(applied.normalization == nil)
        #expect(!applied.modelSpec.layers.contains { if case .clipNormalization = $0 { true } else { false } })
        choices.normalize = "whiten"
        let error = #expect(throws: TrainingError.self) { try settings.applying(choices, file: "p/actionlab.toml") }
        #expect(error?.description.contains("p/actionlab.toml: [training] normalize 'whiten' is not one of none, standardize, scale") == true)
    }

    @Test(arguments: [
        ("horizontal_flip = [[\"pan_left\", \"walk\"]]", "'walk', which is not one of the classes"),
        ("horizontal_flip = \"yes\"", "must be false, true"),
        ("vertical_flip = [[\"tilt_up\", \"tilt_down\"], [\"tilt_up\", \"zoom_in\"]]", "names 'tilt_up' twice"),
        ("flip = true", "unknown [training] setting 'flip'"),
        ("crop = 1", "crop must be true or false"),
    ])
    func badTrainingSectionsNameTheProblem(line: String, message: String) {
        let text = "classes = [\"pan_left\", \"pan_right\", \"tilt_up\", \"tilt_down\", \"zoom_in\"]\n[training]\n\(line)\n"
        let error = #expect(throws: ProjectConfigError.self) { try ProjectConfig.parse(text, file: "p/actionlab.toml") }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(error?.description.hasPrefix("p/actionlab.toml") == true)
    }

    @Test func unknownInputsAndHeadsNameTheFile() throws {
        var choices = TrainingChoices()
        choices.input = "optical"
        let error = #expect(throws: TrainingError.self) {
            try TrainingPreset.quick.settings(classes: 5).applying(choices, file: "p/actionlab.toml")
        }
        #expect(error?.description.contains("p/actionlab.toml: [training] input 'optical'") == true)
    }

    @Test func oldRunSettingsWithAFlipFlagStillDecode() throws {
        let json = #"{"horizontal_flip": true, "random_crop": true, "temporal_jitter": false}"#
        let decoded = try JSONDecoder().decode(Augmentation.self, from: Data(json.utf8))
        #expect(decoded == Augmentation(horizontalFlip: .symmetric, randomCrop: true))
        let roundTrip = try JSONDecoder().decode(Augmentation.self, from: JSONEncoder().encode(Augmentation.labelSafe))
        #expect(roundTrip == .labelSafe)
    }
}

@Suite struct MotionInputTests {
    @Test func everyInputHasTheChannelsItSays() throws {
        let set = DirectionalData.set(perClass: 1)
        for input in InputTransform.allCases {
            let x = try set.batch([0, 1], input: input).x
            #expect(x.shape == [2, 4, 8, 8, input.outputChannels(1)], "\(input)")
            #expect(input.samplingChannels(forModelChannels: input.outputChannels(1)) == 1, "\(input)")
            #expect(x.data.allSatisfy { $0.isFinite })
        }
        #expect(InputTransform.framesAndMotion.outputChannels(3) == 5)
        #expect(InputTransform.framesAndMotion.samplingChannels(forModelChannels: 5) == 3)
        #expect(InputTransform.motion.samplingChannels(forModelChannels: 3) == nil)
    }

    @Test func signedDifferencesKeepWhichWayTheBarMoved() throws {
        let set = DirectionalData.set(perClass: 1)
        let x = try set.batch([0, 1], input: .signedDifferences).x
        let size = 4 * 64
        // pan_left's bar moves right: at t = 1 column 2 brightens (+1) and column 1 darkens (-1).
        #expect(x.data[64 + 2] == 1 && x.data[64 + 1] == -1)
        // pan_right's bar moves left: column 5 brightens, column 6 darkens.
        #expect(x.data[size + 64 + 5] == 1 && x.data[size + 64 + 6] == -1)
        let absolute = try set.batch([0, 1], input: .frameDifferences).x
        #expect(absolute.data[64 + 1] == 1, "absolute differences lose the sign")
    }

    @Test func framesAndDifferencesInterleaveChannels() throws {
        let set = DirectionalData.set(perClass: 1)
        let plain = try set.batch([0]).x, signed = try set.batch([0], input: .signedDifferences).x
        let both = try set.batch([0], input: .framesAndDifferences).x
        for i in 0..<plain.data.count {
            #expect(both.data[2 * i] == plain.data[i] && both.data[2 * i + 1] == signed.data[i])
        }
    }
}

@Suite struct PresetDocumentationTests {
    /// README.md at the top of the repository.
    static func readme() throws -> String {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("README.md")
            if FileManager.default.fileExists(atPath: candidate.path) { return try String(contentsOf: candidate, encoding: .utf8) }
        }
        throw TrainingError("README.md not found above \(#filePath)")
    }

    @Test func theReadmesPresetTableSaysWhatEachPresetDoes() throws {
        let readme = try Self.readme()
        for preset in TrainingPreset.allCases {
            let row = "| `\(preset.rawValue)` | \(preset.whenToPick) | \(preset.recipe) |"
            #expect(readme.contains(row), "README.md lacks the row \(row)")
        }
    }
}

@Suite struct SampleDataRecipeTests {
    @Test func sampleDataTrainsOnMirroredFrameDifferences() throws {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/", !FileManager.default.fileExists(atPath: url.appendingPathComponent("sample-data").path) {
            url.deleteLastPathComponent()
        }
        let file = url.appendingPathComponent("sample-data/actionlab.toml")
        let config = try ProjectConfig.parse(try String(contentsOf: file, encoding: .utf8), file: file.path)
        let settings = try TrainingPreset.quick.settings(classes: 5).applying(try #require(config.training), file: file.path)
        #expect(settings.input == .frameDifferences)
        #expect(settings.head == .globalMaxPool, "thin figures: the frame-wide maximum finds them, the mean dilutes them")
        #expect(settings.augmentation.horizontalFlip == .symmetric && settings.augmentation.timeReversal == nil)
    }
}
