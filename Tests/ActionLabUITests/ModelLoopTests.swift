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
    var byClip: [ClipID: StoredPrediction] = [:]
    for (id, p) in probabilities { byClip[id] = prediction(id, p, stale: stale.contains(id)) }
    _ = state.update(.suggestionsLoaded(ModelSuggestions(modelName: "run 3", byClip: byClip)))
    return state
}

/// A stored prediction over the sample classes; a stale one is another checkpoint's.
func prediction(_ id: ClipID, _ probabilities: [Float], stale: Bool = false) -> StoredPrediction {
    StoredPrediction(clipID: id, source: "checkpoint:.actionlab/runs/3/best.safetensors|1|0", classNames: Sample.classNames,
                     probabilities: probabilities, computedAt: Date(timeIntervalSince1970: 0),
                     freshness: stale ? .otherSource : .current)
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

        var withReview = state.clips.suggestions
        withReview.review = [1: prediction(1, [0.9, 0.1, 0, 0, 0]), 2: prediction(2, [0.8, 0.1, 0.1, 0, 0])]
        _ = state.update(.suggestionsLoaded(withReview))
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

    /// After an epoch that was not the best, the box shows it; choosing a cell shows the
    /// best epoch's matrix instead, the one whose clips Enter lists.
    @Test func cellsAreChosenFromTheBestEpochsMatrixTheOneEnterLists() throws {
        var state = trainState()
        var worse = RecordedRun.epoch(2)   // every clip right: unlike epoch 1, nothing is confused
        worse.isBest = false
        worse.bestEpoch = 1
        worse.validationAccuracy = 0.4     // lower than epoch 1's, so not the best
        _ = state.update(.training(.epoch(worse)))
        var lines = AppView.render(state).lines
        #expect(lines.contains { $0.contains("Validation, epoch 2") }, "\(lines.joined(separator: "\n"))")
        #expect(lines.contains { $0.contains("run     100%   2   0") }, "\(lines.joined(separator: "\n"))")

        _ = state.update(.key(.character("x")))
        #expect(state.training.confusionCell == ConfusionCell(truth: 0, predicted: 1), "epoch 1's most confused cell")
        lines = AppView.render(state).lines
        #expect(lines.contains { $0.contains("Validation, best epoch 1") }, "\(lines.joined(separator: "\n"))")
        #expect(lines.contains { $0.contains("run      50%   1▸  1") }, "\(lines.joined(separator: "\n"))")
        _ = state.update(.key(.character("x")))
        #expect(AppView.render(state).lines.contains { $0.contains("Validation, epoch 2") })
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

@Suite struct AcceptSuggestionTests {
    @Test func enterAsksToLabelTheClipWithTheCurrentModelsSuggestion() {
        var state = stateWithSuggestions(stale: [3])
        Sample.send(&state, [.tick(now: 1), .key(.down), .key(.down), .key(.down), .tick(now: 2.5)])
        #expect(state.clips.selectedClip?.id == 4)
        #expect(HintLine.hints(state, width: 99).map(\.keys).contains("Enter"))
        let result = state.update(.key(.enter))
        #expect(result.effects == [.acceptSuggestion(clipID: 4, classIndex: 1, watchedSeconds: 1.5, model: "run 3")])
        #expect(state.clips.clips[3].label == nil, "shown only once committed")
        _ = state.update(.labelCommitted(clipID: 4, classIndex: 1, cause: .label))
        #expect(state.clips.clips[3].label == 1)
        #expect(state.clips.selectedClip?.id == 5, "on to the next clip, as a class key does")
    }

    @Test func aStaleSuggestionOrNoneIsNotAccepted() {
        var state = stateWithSuggestions(stale: [3])
        Sample.send(&state, [.key(.down), .key(.down)])
        #expect(state.update(.key(.enter)).effects.isEmpty)
        #expect(state.message?.text == "clip_02.mp4: that suggestion is an older model's; run 3's comes shortly")
        var plain = Sample.state()
        #expect(plain.update(.key(.enter)).effects.isEmpty)
        #expect(plain.message?.text.hasPrefix("No suggestion for clip_00.mp4 yet") == true)
    }

    @Test func anAcceptedLabelIsStoredAsAcceptedAndUndoes() {
        let store = MemoryLabelStore()
        let core = AppCore(state: stateWithSuggestions(), store: store, decoder: GradientDecoder(), preferencesURL: nil)
        for key in [Key.down, .down, .enter] { core.handle(.key(key)) }
        #expect(store.labels[3] == 2)
        #expect(store.acceptedFrom == ["run 3"])
        #expect(core.state.clips.clips[2].label == 2)
        core.handle(.key(.character("4")))
        #expect(store.acceptedFrom == ["run 3", nil], "a typed label is not accepted from the model")
        core.handle(.key(.character("u")))
        core.handle(.key(.character("u")))
        #expect(store.labels[3] == nil)
        #expect(core.state.clips.clips[2].label == nil)
    }
}

@Suite struct PredictionJobTests {
    @Test func theJobsBatchesReloadThePredictionsAndShowProgress() {
        var state = Sample.state()
        let progress = PredictionProgress(done: 8, total: 12, saved: 8)
        #expect(state.update(.predictionJob(.progress(progress))).effects == [.loadSuggestions])
        #expect(AppView.render(state).lines[28].contains("│ Predicting 8/12…"))
        let failure = SkippedSample(id: "clip_03.mp4", reason: "no frames")
        let done = PredictionProgress(done: 12, total: 12, saved: 11, failures: [failure])
        #expect(state.update(.predictionJob(.finished(done, stopped: false))).effects == [.loadSuggestions])
        #expect(state.clips.predicting == nil)
        #expect(state.message?.text == "1 clips could not be predicted; clip_03.mp4: no frames")
    }

    @Test func theScansEndAndARunsEndAskForPredictions() {
        var state = Sample.state()
        _ = state.update(.scanProgress(ScanStatus(scanned: 0, total: nil, isFinished: false)))
        let scanned = state.update(.scanProgress(ScanStatus(scanned: 12, total: 12, isFinished: true)))
        #expect(scanned.effects == [.loadSuggestions, .predictClips])
        for event in RecordedRun.events { _ = state.update(.training(event)) }
        let summary = RunSummary(runID: 3, status: .completed, reason: "all epochs", epochsCompleted: 4, bestEpoch: 2,
                                 bestValidationAccuracy: 1, seconds: 2, lastCheckpoint: nil, bestCheckpoint: nil)
        #expect(state.update(.training(.finished(summary))).effects == [.loadRuns, .loadSuggestions, .predictClips])
    }

    @Test func aRunStartingStopsThePredictions() {
        var state = Sample.state()
        _ = state.update(.predictionJob(.progress(PredictionProgress(done: 8, total: 12, saved: 8))))
        let events = RecordedRun.events
        let started = events.firstIndex { if case .started = $0 { true } else { false } }!
        for event in events[..<started] { _ = state.update(.training(event)) }
        #expect(state.update(.training(events[started])).effects == [.stopPredicting])
    }
}

@Suite struct RunsEditingTests {
    private func runsState() -> AppState {
        var rows = RunsScreenTests.rows
        rows[0].name = "fast lr"
        rows[0].learningRate = 0.004
        rows[0].recipe = "motion · global max pool · crop+shift"
        rows[0].checkpointPath = ".actionlab/runs/2/best.safetensors"
        rows[0].metricsPath = ".actionlab/runs/2/metrics.csv"
        rows[0].isCurrentModel = true
        rows[0].note = "twice the preset's rate"
        var state = Sample.state()
        _ = state.update(.key(.function(4)))
        _ = state.update(.runsLoaded(rows))
        return state
    }

    @Test func theListShowsNamesRecipesRatesTheModelAndTheFiles() {
        let lines = AppView.render(runsState()).lines
        #expect(lines[2].contains("Run") && lines[2].contains("Recipe") && lines[2].contains("LR"))
        #expect(lines[3].contains("▸ ★fast lr") && lines[3].contains("motion · global") && lines[3].contains("0.004"), "\(lines[3])")
        #expect(lines[4].contains("run 1"))
        #expect(lines[8].contains("Fast lr: quick 16x48x48x1 16/8/8 d64 b8 · lr 0.004 · stopped"))
        #expect(lines[9].contains("Note: twice the preset's rate"))
        #expect(lines[10].contains("Checkpoint .actionlab/runs/2/best.safetensors"), "cut in the middle when long")
        #expect(lines[10].contains("metrics.csv · the project's model"))
    }

    @Test func nTypesANameEnterSavesItEscCancels() {
        var state = runsState()
        _ = state.update(.key(.character("n")))
        #expect(state.runs.editing == RunTextEdit(runID: 2, field: .name, text: "fast lr"))
        Sample.send(&state, [.key(.backspace), .key(.backspace)] + Key.typing("r!").map { .key($0) })
        #expect(AppView.render(state).lines[29].hasPrefix(" Run 2 name: fast r!█  Enter saves · Esc cancels"))
        #expect(state.update(.key(.character("q"))).effects.isEmpty, "q is text while typing")
        let saved = state.update(.key(.enter))
        #expect(saved.effects == [.describeRun(runID: 2, name: "fast r!q", note: "twice the preset's rate")])
        #expect(state.runs.editing == nil)

        _ = state.update(.key(.character("N")))
        _ = state.update(.key(.character("x")))
        _ = state.update(.key(.escape))
        #expect(state.runs.editing == nil)
        #expect(state.runs.confusionCell == nil, "the keys went to the note, then Esc cancelled it")
    }

    @Test func pPinsOrUnpinsTheRunsCheckpoint() {
        var state = runsState()
        #expect(state.update(.key(.character("p"))).effects == [.pinCheckpoint(".actionlab/runs/2/best.safetensors")])
        var pinned = RunsScreenTests.rows
        pinned[0].isPinned = true
        pinned[0].checkpointPath = ".actionlab/runs/2/best.safetensors"
        _ = state.update(.runsLoaded(pinned))
        #expect(HintLine.hints(state, width: 99).contains { $0.keys == "p" && $0.text == "unpin" })
        #expect(state.update(.key(.character("p"))).effects == [.pinCheckpoint(nil)])
        _ = state.update(.key(.down))
        #expect(state.update(.key(.character("p"))).effects.isEmpty, "run 1 has no checkpoint")
        #expect(state.message?.text == "run 1 has no checkpoint to pin")
    }

    @Test func dAsksAndOnlyYDeletes() {
        var state = runsState()
        _ = state.update(.key(.character("D")))
        #expect(AppView.render(state).lines[29].contains("Delete run 2 with its checkpoints? y deletes"))
        #expect(state.update(.key(.character("n"))).effects.isEmpty)
        #expect(state.message?.text == "Run 2 kept")
        _ = state.update(.key(.character("D")))
        #expect(state.update(.key(.character("y"))).effects == [.deleteRun(runID: 2)])
        let changed = state.update(.runsChanged("Run 2 deleted with its checkpoints", modelMayHaveChanged: true))
        #expect(changed.effects == [.loadRuns, .loadSuggestions, .predictClips])
    }

    @Test func runsReadWithAnotherCurrentModelAskForItsPredictions() {
        var state = runsState()
        var rows = RunsScreenTests.rows
        #expect(state.update(.runsLoaded(rows)).effects.contains(.predictClips), "run 2 is no longer the model")
        #expect(!state.update(.runsLoaded(rows)).effects.contains(.predictClips), "nothing changed")
        rows[1].isCurrentModel = true
        #expect(state.update(.runsLoaded(rows)).effects.contains(.predictClips))
    }

    @Test func aRunningRunIsNotDeleted() {
        var rows = RunsScreenTests.rows
        rows[0].status = .running
        var state = Sample.state()
        _ = state.update(.key(.function(4)))
        _ = state.update(.runsLoaded(rows))
        _ = state.update(.key(.character("D")))
        #expect(state.runs.deleteAsked == nil)
        #expect(state.message?.text.contains("is running") == true)
    }
}
