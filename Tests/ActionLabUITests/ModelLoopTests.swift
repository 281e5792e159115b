import ActionStore
import Foundation
import Testing
import TestSupport
@testable import ActionLabUI
@testable import Training

// The model in the labelling loop: the clip list's filters and orders, the predictions
// column, and confusion matrix cells opened as clip lists.

/// Six clips: 1 and 2 labelled run and walk, the rest unlabelled; the model predicts
/// every clip, hesitating most over clip 5 and disagreeing with clip 2's label.
private func stateWithSuggestions(stale: Set<ClipID> = []) -> AppState {
    var clips = Sample.clips(6)
    clips[0].label = 0
    clips[1].label = 1
    var state = Sample.state(clips)
    let probabilities: [ClipID: [Float]] = [
        1: [0.9, 0.05, 0.05, 0, 0],   // run, sure
        2: [0.7, 0.2, 0.1, 0, 0],     // labelled walk, predicted run
        3: [0.1, 0.1, 0.8, 0, 0],     // jump, sure
        4: [0.3, 0.6, 0.1, 0, 0],     // walk, margin 0.3
        5: [0.45, 0.4, 0.15, 0, 0],   // run, margin 0.05: the most uncertain
        6: [0.05, 0.1, 0.05, 0.7, 0.1],
    ]
    var byClip: [ClipID: ClipSuggestion] = [:]
    for (id, p) in probabilities {
        let top = p.indices.max { p[$0] < p[$1] }!
        byClip[id] = ClipSuggestion(predicted: top, probabilities: p, isStale: stale.contains(id))
    }
    _ = state.update(.suggestionsLoaded(ModelSuggestions(modelName: "run 3", byClip: byClip)))
    return state
}

private func paths(_ state: AppState) -> [String] {
    state.clips.visible.map { state.clips.clips[$0].path }
}

private func expectSnapshot(_ state: AppState, _ name: String) {
    let mismatch = Snapshot.mismatch(AppView.render(state).lines, named: name)
    #expect(mismatch == nil, "\(mismatch ?? "")")
}

@Suite struct ClipListFilterTests {
    @Test func fCyclesUnlabelledThenEachLabelThenAll() {
        var clips = Sample.clips(6)
        clips[0].label = 0
        clips[1].label = 1
        clips[2].label = 1
        clips[5].unreadableReason = "broken"
        var state = Sample.state(clips)
        _ = state.update(.key(.character("f")))
        #expect(state.clips.options.label == .unlabelled)
        #expect(paths(state) == ["clip_03.mp4", "clip_04.mp4"], "unlabelled and labellable only")
        #expect(AppView.render(state).lines[26].contains(" unlabelled "), "the filter shows on the list's bottom border")
        _ = state.update(.key(.character("f")))
        #expect(paths(state) == ["clip_00.mp4"])
        _ = state.update(.key(.character("f")))
        #expect(paths(state) == ["clip_01.mp4", "clip_02.mp4"])
        #expect(AppView.render(state).lines[1].contains("Clips 1/2 of 6"))
        #expect(AppView.render(state).lines[26].contains(" label walk "))
        for _ in 0..<4 { _ = state.update(.key(.character("f"))) }
        #expect(state.clips.options.label == .any)
        #expect(state.clips.visible.count == 6)
    }

    @Test func escapeClearsEveryFilterButKeepsTheOrder() {
        var state = stateWithSuggestions()
        Sample.send(&state, [.key(.character("o")), .key(.character("f")), .key(.character("/"))]
                    + Key.typing("clip_0").map { .key($0) } + [.key(.enter)])
        #expect(state.clips.options.isFiltering)
        _ = state.update(.key(.escape))
        #expect(!state.clips.options.isFiltering)
        #expect(state.clips.options.order == .uncertain)
        #expect(state.update(.key(.escape)) == .unchanged)
    }

    @Test func capitalFFiltersByPredictedClassOnceThereArePredictions() {
        var plain = Sample.state()
        _ = plain.update(.key(.character("F")))
        #expect(plain.clips.options.predicted == nil)
        #expect(plain.message?.text.hasPrefix("No predictions yet") == true)

        var state = stateWithSuggestions()
        _ = state.update(.key(.character("F")))
        #expect(paths(state) == ["clip_00.mp4", "clip_01.mp4", "clip_04.mp4"], "predicted run")
        _ = state.update(.key(.character("F")))
        #expect(paths(state) == ["clip_03.mp4"], "predicted walk")
        #expect(AppView.render(state).lines[26].contains(" predicted walk "))
    }
}

@Suite struct ClipListOrderTests {
    @Test func oCyclesTheOrdersThatHaveSomethingToOrderBy() {
        var plain = Sample.state()
        _ = plain.update(.key(.character("o")))
        #expect(plain.clips.options.order == .name, "no predictions: nothing else to order by")

        var state = stateWithSuggestions()
        _ = state.update(.key(.character("o")))
        #expect(state.clips.options.order == .uncertain)
        #expect(paths(state) == ["clip_04.mp4", "clip_03.mp4", "clip_01.mp4", "clip_05.mp4", "clip_02.mp4", "clip_00.mp4"],
                "smallest margin first: 0.05, 0.3, 0.5, 0.6, 0.7, 0.85")
        #expect(AppView.render(state).lines[26].contains(" most uncertain first "))
        _ = state.update(.key(.character("o")))
        #expect(state.clips.options.order == .disagreements)
        #expect(paths(state).first == "clip_01.mp4", "the labelled clip the model predicts otherwise")
        #expect(paths(state).dropFirst() == ["clip_00.mp4", "clip_02.mp4", "clip_03.mp4", "clip_04.mp4", "clip_05.mp4"])
        _ = state.update(.key(.character("o")))
        #expect(state.clips.options.order == .predictedClass)
        #expect(paths(state) == ["clip_00.mp4", "clip_01.mp4", "clip_04.mp4", "clip_03.mp4", "clip_02.mp4", "clip_05.mp4"],
                "run (surest first), walk, jump, wave")
        _ = state.update(.key(.character("o")))
        #expect(state.clips.options.order == .name, "no review stored: back to names")

        _ = state.update(.reviewLoaded([2, 1]))
        Sample.send(&state, [.key(.character("o")), .key(.character("o")), .key(.character("o")), .key(.character("o"))])
        #expect(state.clips.options.order == .review)
        #expect(Array(paths(state).prefix(2)) == ["clip_01.mp4", "clip_00.mp4"])
    }

    @Test func staleMarginsComeAfterCurrentOnes() {
        var state = stateWithSuggestions(stale: [5])
        _ = state.update(.key(.character("o")))
        #expect(paths(state).first == "clip_03.mp4", "clip_04's margin is an older model's")
        #expect(paths(state).last == "clip_04.mp4")
    }

    @Test func nFollowsTheOrder() {
        var state = stateWithSuggestions()
        _ = state.update(.key(.character("o")))
        #expect(state.clips.selectedClip?.id == 1, "the selected clip stays selected")
        _ = state.update(.key(.home))
        #expect(state.clips.selectedClip?.id == 5)
        _ = state.update(.key(.character("n")))
        #expect(state.clips.selectedClip?.id == 4, "the next unlabelled clip in the uncertainty order")
        _ = state.update(.key(.character("n")))
        #expect(state.clips.selectedClip?.id == 6, "clip 2 is labelled: skipped")
        _ = state.update(.key(.character("n")))
        #expect(state.clips.selectedClip?.id == 3)
    }
}

@Suite struct PredictionColumnTests {
    @Test func theListShowsEachClipsPredictionAndMarksStaleOnes() {
        var state = stateWithSuggestions(stale: [3])
        let lines = AppView.render(state).lines
        #expect(lines[1].contains("Clips 1/6 · model run 3"))
        #expect(lines[2].contains("Label") && lines[2].contains("Model") && !lines[2].contains("Length"))
        #expect(lines[4].contains("walk") && lines[4].contains("run 70%"))
        #expect(lines[5].contains("~jump 80%"), "a stale prediction is marked")
        expectSnapshot(state, "clips-predictions-100x30")
        _ = state.update(.key(.down))
        Sample.deliverPreview(&state)
        #expect(AppView.render(state).lines.contains { $0.contains("Label: walk  run 3: run 70%") },
                "the preview names the model")
        Sample.send(&state, [.key(.down), .key(.down)])
        Sample.deliverPreview(&state)
        #expect(AppView.render(state).lines.contains { $0.contains("Label: none  run 3: walk 60% (Enter accepts)") })
        _ = state.update(.key(.up))
        Sample.deliverPreview(&state)
        #expect(AppView.render(state).lines.contains { $0.contains("Label: none  run 3: ~jump 80% (older model)") })
    }

    @Test func withoutPredictionsTheListKeepsItsLengthColumn() {
        let state = Sample.state()
        #expect(AppView.render(state).lines[2].contains("Length"))
        #expect(!AppView.render(state).lines[2].contains("Model"))
    }
}

@Suite struct ConfusionCellTests {
    /// The recorded run up to its first epoch, whose matrix confuses each class with the next.
    private func trainState() -> AppState {
        var state = Sample.state(Sample.clips(10))
        let events = RecordedRun.events
        let firstEpoch = events.firstIndex { if case .epoch = $0 { true } else { false } }!
        for event in events[...firstEpoch] { _ = state.update(.training(event)) }
        _ = state.update(.key(.function(2)))
        return state
    }

    @Test func xSelectsTheMostConfusedCellArrowsMoveItEnterOpensItsClips() {
        var state = trainState()
        _ = state.update(.key(.character("x")))
        #expect(state.training.confusionCell == ConfusionCell(truth: 0, predicted: 1))
        let lines = AppView.render(state).lines
        #expect(lines.contains { $0.contains("run      50%   1▸  1") }, "\(lines.joined(separator: "\n"))")
        _ = state.update(.key(.down))
        _ = state.update(.key(.right))
        #expect(state.training.confusionCell == ConfusionCell(truth: 1, predicted: 2))
        _ = state.update(.key(.up))
        _ = state.update(.key(.left))
        let open = state.update(.key(.enter))
        #expect(open.effects == [.loadRunValidation(runID: 3)])
        #expect(state.validations[3] == .pending)
        #expect(state.screen == .train, "the list opens when the clips are known")

        let validation = RunValidation(runID: 3, bestEpoch: 1, clips: [
            ValidationClip(clipID: 2, truth: 0, predicted: 1), ValidationClip(clipID: 7, truth: 0, predicted: 1),
            ValidationClip(clipID: 3, truth: 0, predicted: 0),
        ], skipped: 0)
        _ = state.update(.runValidationLoaded(validation))
        #expect(state.screen == .clips)
        #expect(state.clips.visible.map { state.clips.clips[$0].id } == [2, 7])
        let clipLines = AppView.render(state).lines
        #expect(clipLines[1].contains("Clips 1/2 of 10"))
        #expect(clipLines[26].contains("run 3 e1 validation: run as walk"), "\(clipLines[26])")

        // Known now: another cell opens at once.
        _ = state.update(.key(.function(2)))
        _ = state.update(.key(.left))
        #expect(!state.update(.key(.enter)).effects.contains(.loadRunValidation(runID: 3)))
        #expect(state.clips.visible.map { state.clips.clips[$0].id } == [3])
        _ = state.update(.key(.escape))
        #expect(state.clips.visible.count == 10, "Esc clears the cell's filter")
    }

    @Test func xAgainOrEscStopsSelectingAndArrowsDoNothingThen() {
        var state = trainState()
        _ = state.update(.key(.character("x")))
        _ = state.update(.key(.escape))
        #expect(state.training.confusionCell == nil)
        #expect(state.update(.key(.down)) == .unchanged)
        #expect(state.update(.key(.enter)) == .unchanged)
        _ = state.update(.key(.character("x")))
        _ = state.update(.key(.character("x")))
        #expect(state.training.confusionCell == nil)
    }

    @Test func beforeAnEpochXExplains() {
        var state = Sample.state()
        _ = state.update(.key(.function(2)))
        _ = state.update(.key(.character("x")))
        #expect(state.training.confusionCell == nil)
        #expect(state.message?.text.hasPrefix("No confusion matrix yet") == true)
    }

    @Test func aNewBestCheckpointForgetsTheRunsValidation() {
        var state = trainState()
        _ = state.update(.runValidationLoaded(RunValidation(runID: 3, bestEpoch: 1, clips: [], skipped: 0)))
        #expect(state.validations[3] != nil)
        _ = state.update(.training(.checkpoint(CheckpointSaved(kind: .best, url: URL(fileURLWithPath: "/b"), epoch: 2))))
        #expect(state.validations[3] == nil)
    }

    @Test func theRunsScreenShowsTheBestCheckpointsMatrixAndOpensACell() {
        var rows = RunsScreenTests.rows
        rows[0].bestCheckpoint = URL(fileURLWithPath: "/project/.actionlab/runs/2/best.safetensors")
        var state = Sample.state(Sample.clips(10))
        _ = state.update(.key(.function(4)))
        _ = state.update(.runsLoaded(rows))
        #expect(HintLine.hints(state, width: 99).map(\.keys).contains("x"))
        let ask = state.update(.key(.character("x")))
        #expect(ask.effects == [.loadRunValidation(runID: 2)])
        #expect(AppView.render(state).lines.contains { $0.contains("Classifying the run's") })
        _ = state.update(.runValidationLoaded(RunValidation(runID: 2, bestEpoch: 2, clips: [
            ValidationClip(clipID: 4, truth: 1, predicted: 0), ValidationClip(clipID: 5, truth: 1, predicted: 1),
        ], skipped: 1)))
        #expect(state.runs.confusionCell == ConfusionCell(truth: 0, predicted: 0))
        _ = state.update(.key(.down))
        #expect(state.runs.selection == 0, "while a cell is selected, ↓ moves the cell, not the run")
        #expect(state.runs.confusionCell == ConfusionCell(truth: 1, predicted: 0))
        expectSnapshot(state, "runs-confusion-100x30")
        _ = state.update(.key(.enter))
        #expect(state.screen == .clips)
        #expect(state.clips.visible.map { state.clips.clips[$0].id } == [4])
        #expect(AppView.render(state).lines[26].contains("run 2 e2 validation: walk as run"))
    }

    @Test func theCoreClassifiesTheValidationInTheBackgroundAndOpensTheCell() {
        let backend = FakeTrainingBackend()
        let core = AppCore(state: trainState(), store: MemoryLabelStore(), decoder: GradientDecoder(), preferencesURL: nil,
                           training: backend)
        for key in [Key.character("x"), .down, .left, .enter] { core.handle(.key(key)) }
        #expect(core.state.training.confusionCell == ConfusionCell(truth: 1, predicted: 0))
        // The fake posts from its queue: once that queue is idle the result is in the inbox.
        backend.queue.sync {}
        _ = core.drainInbox()
        #expect(backend.calls.contains("validation 3"))
        #expect(core.state.screen == .clips)
        #expect(core.state.clips.visible.map { core.state.clips.clips[$0].id } == [1, 2], "walk clips predicted as run")
    }
}
