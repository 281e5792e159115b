import ActionNet
import ActionStore
import Foundation
import Testing
@testable import ActionLabUI
@testable import Training

/// A trainer that replays the recorded run's events from a background queue and
/// remembers what it was asked.
final class FakeTrainingBackend: TrainingBackend, @unchecked Sendable {
    private let lock = NSLock()
    private var _calls: [String] = []
    var calls: [String] { lock.withLock { _calls } }
    var refuseToStart = false
    let queue = DispatchQueue(label: "fake-trainer")

    private func record(_ call: String) { lock.withLock { _calls.append(call) } }

    func start(_ settings: TrainingSettings, events: @escaping @Sendable (TrainingEvent) -> Void) throws {
        record("start \(settings.preset ?? "custom")")
        if refuseToStart { throw TrainingError("a run is already in progress") }
        queue.async { RecordedRun.events.forEach(events) }
    }

    func resume(runID: Int64, events: @escaping @Sendable (TrainingEvent) -> Void) throws { record("resume run \(runID)") }
    func pause() { record("pause") }
    func resume() { record("resume") }
    func stop() { record("stop") }
    func stopAndWait() -> Bool { record("stopAndWait"); return false }

    func estimate(_ request: EstimateRequest,
                  completion: @escaping @Sendable (Result<TrainingEstimate, TrainingError>) -> Void) {
        record("estimate \(request.settings.preset ?? "custom")")
        queue.async { completion(.success(RecordedRun.start.estimate)) }
    }

    func runs() throws -> [RunRow] { record("runs"); return RunsScreenTests.rows }
    var curve: LearningCurve.Result?
    func learningCurve() throws -> LearningCurve.Result? { record("learningCurve"); return curve }
    func metrics(runID: Int64) throws -> [EpochMetrics] {
        record("metrics \(runID)")
        return RunsScreenTests.metrics(runID, 2, offset: 0)
    }

    func predict(clip url: URL, completion: @escaping @Sendable (Result<ClipPrediction, TrainingError>) -> Void) {
        record("predict \(url.lastPathComponent)")
        queue.async { completion(.success(ClipPrediction(label: "jump", probability: 0.5, runID: 2))) }
    }

    func describeRun(id: Int64, name: String?, note: String?) throws { record("describe \(id) \(name ?? "-") \(note ?? "-")") }
    func pinCheckpoint(_ recordedPath: String?) throws { record("pin \(recordedPath ?? "none")") }
    func deleteRun(id: Int64) throws { record("delete \(id)") }
    func suggestions() throws -> ModelSuggestions { record("suggestions"); return ModelSuggestions() }
    func predictClips(events: @escaping @Sendable (PredictionEvent) -> Void) throws { record("predict clips") }
    func stopPredicting() { record("stop predicting") }

    /// Clips 1-4 validate run `runID`: 1 and 2 are walk clips predicted as run.
    func validation(runID: Int64, completion: @escaping @Sendable (Result<RunValidation, TrainingError>) -> Void) {
        record("validation \(runID)")
        queue.async {
            completion(.success(RunValidation(runID: runID, bestEpoch: 3, clips: [
                ValidationClip(clipID: 1, truth: 1, predicted: 0), ValidationClip(clipID: 2, truth: 1, predicted: 0),
                ValidationClip(clipID: 3, truth: 1, predicted: 1), ValidationClip(clipID: 4, truth: 0, predicted: 0),
            ], skipped: 0)))
        }
    }
}

@Suite struct TrainingCoreTests {
    func makeCore(_ backend: FakeTrainingBackend?) -> AppCore {
        var clips = Sample.clips(50)
        for i in clips.indices { clips[i].label = i % 5 }
        var state = Sample.state([])
        state.training = TrainingState(classNames: Sample.classNames,
                                       choices: TrainingChoice.standard(classes: 5, epochs: 4), choiceIndex: 2)
        let core = AppCore(state: state, store: MemoryLabelStore(), decoder: GradientDecoder(), preferencesURL: nil,
                           training: backend)
        core.handle(.clipsChanged(clips))
        return core
    }

    @Test func theKeysReachTheTrainerAndItsEventsReachTheScreen() {
        let backend = FakeTrainingBackend()
        let core = makeCore(backend)
        core.handle(.key(.function(2)))
        settle(core) { if case .ready = $0.training.estimate { true } else { false } }
        #expect(backend.calls == ["estimate tiny"])
        core.handle(.key(.character("t")))
        settle(core) { $0.training.lastBatch?.epoch == 3 && $0.training.lastBatch?.batch == 3 }
        #expect(core.state.training.phase == .training)
        #expect(core.state.training.trainingLoss.count == 13)
        core.handle(.key(.character("p")))
        core.handle(.key(.character("s")))
        #expect(backend.calls == ["estimate tiny", "start tiny", "pause", "stop"])
    }

    @Test func aRefusedStartIsShown() {
        let backend = FakeTrainingBackend()
        backend.refuseToStart = true
        let core = makeCore(backend)
        core.handle(.key(.function(2)))
        core.handle(.key(.character("t")))
        #expect(core.state.training.phase == .failed("a run is already in progress"))
        #expect(core.state.message?.text == "Training not started: a run is already in progress")
    }

    @Test func runsAndPredictionsComeFromTheBackend() {
        let backend = FakeTrainingBackend()
        let core = makeCore(backend)
        core.handle(.key(.function(4)))
        #expect(core.state.runs.rows.map(\.id) == [2, 1])
        #expect(core.state.runs.metrics[2]?.count == 2)
        core.handle(.key(.function(1)))
        core.handle(.key(.character("P")))
        let clip = core.state.clips.selectedClip!.id
        settle(core) { $0.clips.predictions[clip] != .pending }
        #expect(core.state.clips.predictions[clip] == .ready(ClipPrediction(label: "jump", probability: 0.5, runID: 2)))
        #expect(backend.calls == ["runs", "learningCurve", "metrics 2", "predict clip_00.mp4"])
    }

    @Test func withoutABackendTrainingSaysItIsNotAvailable() {
        let core = makeCore(nil)
        core.handle(.key(.function(2)))
        #expect(core.state.training.estimate.request != nil)
        if case .failed(_, let reason) = core.state.training.estimate {
            #expect(reason == "training is not available here")
        } else {
            Issue.record("the estimate fails without a backend")
        }
        core.handle(.key(.character("t")))
        #expect(core.state.training.phase == .failed("training is not available here"))
    }
}

/// b switches the chosen preset's products between fp32 and bf16, on a CPU that has bf16.
@Suite struct PrecisionKeyTests {
    func state(cpu: CPUFeatures) -> AppState {
        var state = Sample.state([])
        state.training = TrainingState(classNames: Sample.classNames,
                                       choices: TrainingChoice.standard(classes: 5, epochs: 4), choiceIndex: 2)
        state.cpu = cpu
        _ = state.update(.key(.function(2)))
        return state
    }

    @Test func bSwitchesTheProductsToBF16AndBack() {
        var state = state(cpu: CPUFeatures(name: "Test CPU 4000", hasAVX512BF16: true))
        _ = state.update(.key(.character("b")))
        #expect(state.training.choice.settings.precision == .bf16)
        #expect(state.message?.text.hasPrefix("Products in bf16") == true)
        #expect(state.training.choice.edits == "bf16 products (preset fp32)")
        let lines = TrainView.runBoxLines(state.training).compactMap { line -> String? in
            if case let .text(name, value, _) = line, name == "Train" { value } else { nil }
        }
        #expect(lines.first?.hasSuffix("· bf16") == true, "\(lines)")
        _ = state.update(.key(.character("b")))
        #expect(state.training.choice.settings.precision == .fp32)
        #expect(!state.training.choice.isEdited)
    }

    @Test func aBF16RunsRecipeSaysSo() {
        var settings = TrainingChoice.standard(classes: 5)[0].settings
        #expect(!RunRow.recipe(settings).contains("bf16"))
        settings.precision = .bf16
        #expect(RunRow.recipe(settings).hasSuffix(" · bf16"))
    }

    @Test func withoutAVX512BF16TheKeySaysWhy() {
        var state = state(cpu: CPUFeatures(name: "Test CPU 3000", hasAVX512BF16: false))
        _ = state.update(.key(.character("b")))
        #expect(state.training.choice.settings.precision == .fp32)
        #expect(state.message?.text == "bf16 needs a CPU with AVX512_BF16; this CPU (Test CPU 3000) does not have it")
    }
}
