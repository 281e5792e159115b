import ActionStore
import Foundation
import Testing
import TestSupport
@testable import ActionLabUI
@testable import ActionNet
@testable import Training

// The Train, Model and Runs screens drawn from a recorded run's events and compared
// with Snapshots/*.txt (ACTIONLAB_RECORD_SNAPSHOTS=1 re-records them); the keys that
// start, pause and stop a run, and the effects they ask for.

private func expectSnapshot(_ state: AppState, _ name: String) {
    let grid = AppView.render(state)
    #expect(grid.width == state.width && grid.height == state.height)
    let mismatch = Snapshot.mismatch(grid.lines, named: name)
    #expect(mismatch == nil, "\(mismatch ?? "")")
}

/// Labelled clips (8 per class... 10 per class: 50) at `width` x `height`, on the tiny preset.
private func trainingState(width: Int = 100, height: Int = 30) -> AppState {
    var clips = Sample.clips(50)
    for i in clips.indices { clips[i].label = i % 5 }
    var state = Sample.state(clips, width: width, height: height)
    state.training = TrainingState(classNames: Sample.classNames,
                                   choices: TrainingChoice.standard(classes: 5, epochs: 4), choiceIndex: 2)
    return state
}

/// `state` after `t` and the recorded run's events.
private func runningState(width: Int = 100, height: Int = 30) -> AppState {
    var state = trainingState(width: width, height: height)
    Sample.send(&state, [.key(.function(2)), .key(.character("t"))] + RecordedRun.events.map { .training($0) })
    // The "Starting…" message has gone: the hint line shows the keys.
    _ = state.update(.tick(now: 5))
    return state
}

private let estimate = try! TrainingEstimate(model: RecordedRun.settings.model, batchSize: 8, trainingSamples: 40,
                                             validationSamples: 10, dataBytes: 50 * 2304,
                                             speed: ComputeSpeed(trainingFlopsPerSecond: 2e9, inferenceFlopsPerSecond: 4e9))

@Suite struct TrainScreenTests {
    @Test func beforeARunTheSettingsAndTheirEstimateShow() throws {
        var state = trainingState()
        let result = state.update(.key(.function(2)))
        let request = try #require(state.training.estimate.request)
        #expect(result.effects == [.estimateTraining(request)])
        #expect(request.trainingSamples == 40 && request.validationSamples == 10)
        #expect(request.settings.preset == "tiny" && request.settings.epochs == 4)
        _ = state.update(.estimateReady(request, estimate))
        expectSnapshot(state, "train-ready-100x30")
    }

    @Test func cCyclesThePresetsAndAsksForTheirEstimate() throws {
        var state = trainingState()
        _ = state.update(.key(.function(2)))
        let first = try #require(state.training.estimate.request)
        let result = state.update(.key(.character("c")))
        #expect(state.training.choice.name == "quick")
        let second = try #require(state.training.estimate.request)
        #expect(result.effects == [.estimateTraining(second)])
        #expect(second.settings.model.height == 48)
        // A late answer for the earlier settings is ignored.
        #expect(state.update(.estimateReady(first, estimate)) == .unchanged)
        #expect(state.training.estimate == .measuring(second))
        _ = state.update(.key(.character("c")))
        #expect(state.training.choice.name == "seed")
        if case .success(let summary) = state.training.summary {
            #expect(summary.totalParameters == 2_649_733, "the seed stack's summary")
        } else {
            Issue.record("the seed preset has a summary")
        }
    }

    @Test func epochsAndLearningRateMakeCustomSettings() throws {
        var state = trainingState()
        _ = state.update(.key(.function(2)))
        #expect(state.training.choice.settings.epochs == 4)
        let result = state.update(.key(.character("E")))
        #expect(state.training.choice.settings.epochs == 5)
        #expect(state.training.choice.settings.preset == "custom")
        #expect(result.effects == [.estimateTraining(try #require(state.training.estimate.request))])
        Sample.send(&state, [.key(.character("e")), .key(.character("e"))])
        #expect(state.training.choice.settings.epochs == 2)
        Sample.send(&state, [.key(.character("e")), .key(.character("e"))])
        #expect(state.training.choice.settings.epochs == 1)
        #expect(state.message?.text == "No further: epochs is at its limit")
        _ = state.update(.key(.character("L")))
        #expect(state.training.choice.settings.learningRate == 4e-3)
        _ = state.update(.key(.character("l")))
        _ = state.update(.key(.character("l")))
        #expect(state.training.choice.settings.learningRate == 1e-3)
        #expect(AppView.render(state).lines[2].contains("Preset  tiny, custom"))
        #expect(state.update(.key(.character("t"))).effects == [.startTraining(state.training.choice.settings)])
        #expect(state.update(.key(.character("E"))).effects.isEmpty, "no change during a run")
    }

    @Test func recordedRunSnapshots() {
        expectSnapshot(runningState(), "train-running-100x30")
        expectSnapshot(runningState(width: 80, height: 24), "train-running-80x24")
        var model = runningState()
        _ = model.update(.key(.function(3)))
        expectSnapshot(model, "model-running-100x30")
        var narrowModel = runningState(width: 80, height: 24)
        _ = narrowModel.update(.key(.function(3)))
        expectSnapshot(narrowModel, "model-running-80x24")
        _ = narrowModel.update(.key(.character("v")))
        expectSnapshot(narrowModel, "model-statistics-80x24")
    }

    @Test func theModelScreenShowsTheSummaryTableOfTheChosenSettings() throws {
        var state = trainingState()
        Sample.send(&state, [.key(.function(2)), .key(.character("c")), .key(.character("c")), .key(.function(3))])
        #expect(state.training.choice.name == "seed")
        let screen = AppView.render(state).lines
        let table = try ModelSummary(config: state.training.choice.settings.model).render()
        for line in table.split(separator: "\n") {
            #expect(screen.contains { $0.contains(line) }, "the screen shows \(line)")
        }
        #expect(screen.joined().contains("Total params: 2,649,733"))
    }

    @Test func theChartsMoveWithEveryBatchAndEpoch() {
        var state = trainingState()
        Sample.send(&state, [.key(.function(2)), .key(.character("t"))])
        let events = RecordedRun.events
        var before = AppView.render(state).lines
        var changes = 0
        for event in events {
            _ = state.update(.training(event))
            let after = AppView.render(state).lines
            if case .batch = event, after != before { changes += 1 }
            before = after
        }
        #expect(changes == 13, "every batch changes the screen")
        #expect(state.training.trainingLoss.count == 13)
        #expect(state.training.trainingLoss.first == ChartPoint(x: 0.2, y: Double(RecordedRun.batch(epoch: 1, batch: 1).meanLoss)))
        #expect(state.training.validationAccuracy == [ChartPoint(x: 1, y: 0.5), ChartPoint(x: 2, y: 1)])
        #expect(state.training.layers.count == 12)
    }

    @Test func tStartsPPausesAndResumesSStops() {
        var state = trainingState()
        _ = state.update(.key(.function(2)))
        #expect(state.update(.key(.character("p"))).effects.isEmpty, "nothing to pause yet")
        #expect(state.update(.key(.character("t"))).effects == [.startTraining(state.training.choice.settings)])
        #expect(state.training.phase == .starting)
        #expect(state.update(.key(.character("t"))).effects.isEmpty, "one run at a time")
        #expect(state.update(.key(.character("c"))).effects.isEmpty, "no preset change during a run")
        Sample.send(&state, RecordedRun.events.prefix(4).map { .training($0) })
        #expect(state.training.phase == .training)
        #expect(state.update(.key(.character("p"))).effects == [.pauseTraining])
        #expect(state.update(.key(.character("p"))).effects.isEmpty, "already asked")
        _ = state.update(.training(.paused(TrainingPosition(epoch: 1, batch: 1))))
        #expect(state.training.phase == .paused)
        expectSnapshot(state, "train-paused-100x30")
        #expect(state.update(.key(.character("p"))).effects == [.resumeTraining])
        _ = state.update(.training(.resumed(TrainingPosition(epoch: 1, batch: 1))))
        #expect(state.training.phase == .training)
        #expect(state.update(.key(.character("s"))).effects == [.stopTraining])
        #expect(state.training.phase == .stopping)
        #expect(state.update(.key(.character("s"))).effects.isEmpty)
        let summary = RunSummary(runID: 3, status: .stopped, reason: "stopped by the user", epochsCompleted: 0,
                                 bestEpoch: nil, bestValidationAccuracy: nil, seconds: 0.1,
                                 lastCheckpoint: URL(fileURLWithPath: "/project/.actionlab/runs/3/last.safetensors"),
                                 bestCheckpoint: nil)
        #expect(state.update(.training(.finished(summary))).effects == [.loadRuns])
        #expect(state.training.phase == .finished(summary))
        #expect(state.message?.text == "Run 3 was stopped after 0 epochs")
        // A new run can start, and clears the charts.
        #expect(state.update(.key(.character("t"))).effects.count == 1)
        #expect(state.training.trainingLoss.isEmpty)
    }

    @Test func aRunThatFailsSaysWhy() {
        var state = trainingState()
        Sample.send(&state, [.key(.function(2)), .key(.character("t")),
                             .training(.failed(TrainingFailure(runID: nil, message: "/p: no labelled, readable clips to train on")))])
        #expect(state.training.phase == .failed("/p: no labelled, readable clips to train on"))
        #expect(AppView.render(state).lines.joined().contains("failed: /p: no labelled"))
    }

    @Test func labellingGoesOnWhileTraining() {
        var state = runningState()
        _ = state.update(.key(.function(1)))
        let clip = state.clips.selectedClip!
        #expect(state.update(.key(.character("2"))).effects.first == .setLabel(clipID: clip.id, classIndex: 1, watchedSeconds: 5))
        // Events keep arriving on another screen.
        _ = state.update(.training(.batch(RecordedRun.batch(epoch: 3, batch: 4))))
        #expect(state.training.lastBatch?.batch == 4)
    }
}

@Suite struct RunsScreenTests {
    static let rows = [
        RunRow(id: 2, started: "2026-11-28 07:40", settingsText: "quick 16x48x48x1 16/8/8 d64 b8", epochs: 2,
               plannedEpochs: 40, bestValidationAccuracy: 0.6, durationSeconds: 95, status: .stopped,
               statusDetail: nil, canResume: true),
        RunRow(id: 1, started: "2026-11-28 07:10", settingsText: "tiny 4x24x24x1 4/4/4 d16 b8", epochs: 3,
               plannedEpochs: 3, bestValidationAccuracy: 0.4, durationSeconds: 4, status: .completed, canResume: true),
    ]

    static func metrics(_ run: Int64, _ epochs: Int, offset: Double) -> [EpochMetrics] {
        (1...epochs).map { e in
            EpochMetrics(runID: run, epoch: e, loss: 1.6 - 0.2 * Double(e) + offset, accuracy: 0.2 + 0.1 * Double(e),
                         valLoss: 1.5 - 0.15 * Double(e) + offset, valAccuracy: 0.2 + 0.1 * Double(e) - offset,
                         learningRate: 0.002, seconds: 1)
        }
    }

    @Test func runsListCurvesOverlayAndResume() {
        var state = Sample.state()
        #expect(state.update(.key(.function(4))).effects == [.loadRuns])
        #expect(state.update(.runsLoaded(Self.rows)).effects == [.loadRunMetrics(runID: 2)])
        _ = state.update(.runMetricsLoaded(runID: 2, Self.metrics(2, 2, offset: 0)))
        #expect(state.update(.key(.character("m"))).effects.isEmpty, "its metrics are known")
        #expect(state.runs.markedID == 2)
        #expect(state.update(.key(.down)).effects == [.loadRunMetrics(runID: 1)])
        _ = state.update(.runMetricsLoaded(runID: 1, Self.metrics(1, 3, offset: 0.1)))
        expectSnapshot(state, "runs-overlay-100x30")

        var narrow = state
        _ = narrow.update(.resize(width: 80, height: 24))
        expectSnapshot(narrow, "runs-overlay-80x24")
        _ = narrow.update(.key(.character("?")))
        expectSnapshot(narrow, "help-80x24")

        let result = state.update(.key(.character("r")))
        #expect(result.effects == [.resumeRun(runID: 1)])
        #expect(state.screen == .train)
        #expect(state.training.phase == .starting)
    }

    @Test func theRunsScreenFollowsARunInProgress() {
        var state = Sample.state()
        let events = RecordedRun.events
        let firstEpoch = events.firstIndex { if case .epoch = $0 { true } else { false } }!
        Sample.send(&state, [.key(.function(2)), .key(.character("t"))] + events[..<firstEpoch].map { .training($0) })
        _ = state.update(.key(.function(4)))
        #expect(state.update(.training(events[firstEpoch])).effects == [.loadRuns])
        _ = state.update(.key(.function(2)))
        #expect(state.update(.training(.epoch(RecordedRun.epoch(2)))).effects.isEmpty, "only the Runs screen reloads")
    }

    @Test func aRunningRunCannotBeResumedTwice() {
        var state = Sample.state()
        Sample.send(&state, [.key(.function(2)), .key(.character("t")), .key(.function(4)), .runsLoaded(Self.rows)])
        #expect(state.update(.key(.character("r"))).effects.isEmpty)
        #expect(state.message?.kind == .warning)
    }
}

@Suite struct PredictionTests {
    /// The preview pane's label line.
    func labelLine(_ state: AppState) -> String {
        AppView.render(state).lines.first { $0.contains("Label: ") } ?? ""
    }

    @Test func capitalPPredictsTheSelectedClipAndShowsTheAnswer() {
        var state = Sample.state()
        Sample.deliverPreview(&state)
        let clip = state.clips.selectedClip!
        #expect(state.update(.key(.character("P"))).effects == [.predict(clipID: clip.id, url: clip.url)])
        #expect(state.update(.key(.character("P"))).effects.isEmpty, "one question at a time")
        #expect(labelLine(state).contains("Label: none  model: predicting…"))
        _ = state.update(.predictionReady(clipID: clip.id, ClipPrediction(label: "walk", probability: 0.87, runID: 2)))
        #expect(labelLine(state).contains("Label: none  model: walk 87%"))
        _ = state.update(.labelCommitted(clipID: clip.id, classIndex: 0, cause: .clear))
        _ = state.update(.key(.up))
        #expect(labelLine(state).contains("Label: run  model: walk 87%"))
    }

    @Test func withoutACheckpointThePredictionSaysWhy() {
        var state = Sample.state()
        let clip = state.clips.selectedClip!
        _ = state.update(.key(.character("P")))
        _ = state.update(.predictionFailed(clipID: clip.id, "no run has a best checkpoint yet"))
        #expect(state.message?.text == "No prediction: no run has a best checkpoint yet")
    }
}
