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

private let estimate = try! TrainingEstimate(model: RecordedRun.settings.modelSpec, batchSize: 8, trainingSamples: 40,
                                             validationSamples: 10,
                                             dataBytes: TrainingEstimate.batchDataBytes(RecordedRun.settings),
                                             speed: ComputeSpeed(trainingFlopsPerSecond: 2e9, inferenceFlopsPerSecond: 4e9),
                                             setup: RecordedRun.setup)

@Suite struct TrainScreenTests {
    @Test func beforeARunTheSettingsAndTheirEstimateShow() throws {
        var state = trainingState()
        let result = state.update(.key(.function(2)))
        let request = try #require(state.training.estimate.request)
        #expect(result.effects == [.estimateTraining(request)])
        #expect(request.trainingSamples == 40 && request.validationSamples == 10)
        #expect(request.settings.preset == "tiny" && request.settings.epochs == 4)
        // Clips are read as batches need them: the data's memory is the batches in flight.
        var more = request
        more.trainingSamples *= 100
        #expect(more.dataBytes == request.dataBytes && request.dataBytes == TrainingEstimate.batchDataBytes(request.settings))
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
        #expect(AppView.render(state).lines[2].contains("Preset  tiny, edited"))
        #expect(state.update(.key(.character("t"))).effects == [.startTraining(state.training.choice.settings)])
        #expect(state.update(.key(.character("E"))).effects.isEmpty, "no change during a run")
    }

    @Test func aRunInProgressShowsInTheTitleBarOfEveryScreen() throws {
        let accuracy = String(format: "%.1f%%", try #require(RecordedRun.epoch(2).validationAccuracy) * 100)
        var wide = runningState()
        var narrow = runningState(width: 80, height: 24)
        for key in 1...4 {
            _ = wide.update(.key(.function(key)))
            _ = narrow.update(.key(.function(key)))
            let title = AppView.render(wide).lines[0]
            #expect(title.hasSuffix(" F4 Runs         ▶ epoch 3/4 · val acc \(accuracy) · ? help "), "\(title)")
            let narrowTitle = AppView.render(narrow).lines[0]
            #expect(narrowTitle.hasSuffix("▶ 3/4 \(accuracy.dropLast(3))% "), "\(narrowTitle)")
        }
        Sample.send(&wide, [.key(.function(2)), .key(.character("p")), .training(.paused(TrainingPosition(epoch: 3, batch: 3)))])
        #expect(AppView.render(wide).lines[0].contains("‖ epoch 3/4"))
        _ = wide.update(.training(.finished(RunSummary(runID: 3, status: .stopped, reason: "stopped by the user",
                                                       epochsCompleted: 2, bestEpoch: 2, bestValidationAccuracy: nil,
                                                       seconds: 1, lastCheckpoint: nil, bestCheckpoint: nil))))
        #expect(AppView.render(wide).lines[0].hasSuffix("sample-data · theme dark · ? help "), "no run in progress")
        #expect(AppView.render(trainingState()).lines[0].hasSuffix("sample-data · theme dark · ? help "))
    }

    @Test func countsAgreeWithTheirNouns() {
        var state = trainingState()
        Sample.send(&state, [.key(.function(2))] + Array(repeating: .key(.character("e")), count: 4))
        #expect(state.training.choice.settings.epochs == 1)
        let text = AppView.render(state).lines.joined(separator: "\n")
        #expect(text.contains("│Train   1 epoch · batch 8"), "\(text)")
        #expect(!text.contains("1 epochs"))
        #expect(AppView.counted(1, "frame") == "1 frame" && AppView.counted(48, "frame") == "48 frames")
        #expect(AppView.counted(0, "epoch") == "0 epochs")
    }

    @Test func theStartingMessageGoesWhenTheRunMovesOn() {
        var state = trainingState()
        Sample.send(&state, [.key(.function(2)), .key(.character("t"))])
        #expect(state.message?.text == "Starting a tiny run…")
        _ = state.update(.training(RecordedRun.events[0]))
        #expect(state.message == nil, "it is loading clips now, as the State line says")
    }

    @Test func withoutLabelledClipsTheScreenSaysWhatIsMissingAndTStartsNothing() {
        var empty = Sample.state([])
        _ = empty.update(.key(.function(2)))
        #expect(empty.update(.key(.character("t"))).effects.isEmpty)
        #expect(empty.training.phase == .idle)
        #expect(empty.message?.text == "No run started: this folder has no video clips")
        var lines = AppView.render(empty).lines
        #expect(lines.contains { $0.contains("│State   no clips in this folder") }, "\(lines.joined(separator: "\n"))")
        #expect(lines.joined().contains("(avi, m4v, mkv, mov, mp4,"), "the box below names the kinds of file")

        var unlabelled = Sample.state()
        _ = unlabelled.update(.key(.function(2)))
        #expect(unlabelled.update(.key(.character("t"))).effects.isEmpty)
        lines = AppView.render(unlabelled).lines
        #expect(lines.contains { $0.contains("│State   no clip labelled (F1)") })
        #expect(lines.contains { $0.contains("Nothing to train on") })
        #expect(!lines.joined().contains("ready: t starts a run"))

        var clips = Sample.clips(12)
        clips[0].label = 2
        clips[1].label = 2
        var oneClass = Sample.state(clips)
        _ = oneClass.update(.key(.function(2)))
        #expect(oneClass.update(.key(.character("t"))).effects.isEmpty)
        #expect(oneClass.message?.text == "No run started: every labelled clip is jump; label a second class (F1)")
        #expect(AppView.render(oneClass).lines.joined().contains("classifier needs clips"))

        clips[1].label = 3
        _ = oneClass.update(.clipsChanged(clips))
        #expect(oneClass.update(.key(.character("t"))).effects == [.startTraining(oneClass.training.choice.settings)])
    }

    @Test func anEstimateAboveTheMachinesMemoryWarnsAndTMustBePressedTwice() throws {
        var state = trainingState()
        state.machineMemoryBytes = MachineMemory.physicalBytes(meminfo: "MemTotal:          100 kB\nMemFree: 20 kB\n")
        #expect(state.machineMemoryBytes == 102_400)
        _ = state.update(.key(.function(2)))
        _ = state.update(.estimateReady(try #require(state.training.estimate.request), estimate))
        #expect(estimate.memoryBytes > 102_400)
        #expect(state.update(.key(.character("t"))).effects.isEmpty)
        let needed = Formatting.bytes(estimate.memoryBytes)
        #expect(state.message?.text == "This run needs about \(needed) of memory and this machine has 100.0 KB: t again starts it anyway")
        let lines = AppView.render(state).lines
        #expect(lines.contains { $0.contains("Not enough memory") }, "\(lines.joined(separator: "\n"))")
        #expect(lines.contains { $0.contains("│Est. ") && $0.contains("\(needed) !") })
        #expect(state.update(.key(.character("t"))).effects == [.startTraining(state.training.choice.settings)])

        var roomy = trainingState()
        roomy.machineMemoryBytes = MachineMemory.physicalBytes(meminfo: "MemTotal: 24000000 kB\n")
        _ = roomy.update(.key(.function(2)))
        _ = roomy.update(.estimateReady(try #require(roomy.training.estimate.request), estimate))
        #expect(roomy.update(.key(.character("t"))).effects.count == 1, "it fits: no question")
        #expect(MachineMemory.physicalBytes(meminfo: "MemFree: 20 kB\n") == nil)
    }

    @Test func anEditedPresetSaysSoWhenCycledBackAndRResetsIt() throws {
        var state = trainingState()
        Sample.send(&state, [.key(.function(2)), .key(.character("E")), .key(.character("E"))])
        #expect(state.training.choice.settings.epochs == 10)
        #expect(AppView.render(state).lines[2].contains("Preset  tiny, edited  (R: reset)"))
        Sample.send(&state, [.key(.character("c")), .key(.character("c"))])
        #expect(state.training.choice.name == "seed" && !state.training.choice.isEdited)
        #expect(state.message == nil)
        _ = state.update(.key(.character("c")))
        #expect(state.training.choice.name == "tiny")
        #expect(state.message?.text == "tiny keeps your edits: epochs 10 (preset 4); R resets it")

        let reset = state.update(.key(.character("R")))
        #expect(state.training.choice.settings == state.training.choice.presetSettings)
        #expect(state.training.choice.settings.preset == "tiny" && state.training.choice.settings.epochs == 4)
        #expect(reset.effects == [.estimateTraining(try #require(state.training.estimate.request))])
        #expect(state.message?.text == "tiny is back to its own values")
        #expect(AppView.render(state).lines[2].contains("Preset  tiny  (c: next)"))

        // Stepping back to the preset's value is no edit either.
        Sample.send(&state, [.key(.character("L")), .key(.character("l"))])
        #expect(!state.training.choice.isEdited)
        #expect(state.training.choice.settings.preset == "tiny")
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
        let table = try state.training.choice.settings.modelSummary().render()
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

    @Test func clipsDecodedWhileTheRunTrainsShowOnTheStateLineAndASkippedClipJoinsTheRun() throws {
        var state = trainingState()
        Sample.send(&state, [.key(.function(2)), .key(.character("t")), .training(.started(RecordedRun.start)),
                             .training(.loading(LoadingProgress(done: 3, total: 50)))])
        #expect(state.training.phase == .training)
        let screen = AppView.render(state).lines.joined()
        #expect(screen.contains("▶ training, 3/50 decoded"), "\(screen)")
        let skipped = SkippedSample(id: "run/run-007.mp4", reason: "Invalid data found when processing input")
        Sample.send(&state, [.training(.skipped(skipped)), .training(.loading(LoadingProgress(done: 50, total: 50)))])
        #expect(state.training.run?.skipped == [skipped])
        #expect(state.message?.text.contains("run/run-007.mp4") == true)
        #expect(!AppView.render(state).lines.joined().contains("3/50"))
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
        #expect(state.update(.training(.finished(summary))).effects == [.loadRuns, .loadSuggestions, .predictClips],
                "the run may have made a new model: its predictions are read and made")
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

        // Run 1 completed its 3 epochs: nothing to resume, and nothing asked of the trainer.
        let completed = state.update(.key(.character("r")))
        #expect(completed.effects.isEmpty)
        #expect(state.screen == .runs && state.training.phase == .idle)
        #expect(state.message?.text == "Run 1 has nothing to resume: it completed all its epochs")

        _ = state.update(.key(.up))
        let result = state.update(.key(.character("r")))
        #expect(result.effects == [.resumeRun(runID: 2)])
        #expect(state.screen == .train)
        #expect(state.training.phase == .starting)
    }

    @Test func theLatestLearningCurveSaysOnTheListWhetherMoreLabelsHelp() {
        var state = Sample.state()
        Sample.send(&state, [.key(.function(4)), .runsLoaded(Self.rows)])
        #expect(!AppView.render(state).lines.contains { $0.contains("More labels?") }, "no curve kept yet")
        let curve = LearningCurve.Result(points: [LearningCurve.Point(fraction: 0.5, trainClips: 10, valAccuracy: 0.6),
                                                  LearningCurve.Point(fraction: 1, trainClips: 20, valAccuracy: 0.85)],
                                         validationClips: 20, preset: "quick")
        #expect(state.update(.learningCurveLoaded(curve)) == .redraw)
        let lines = AppView.render(state).lines
        let border = RunsLayout(width: state.width, height: state.height).listHeight   // the list box's last row
        #expect(lines[border].contains("More labels? Accuracy still rose from 60% to 85% going from 10 to 20"),
                "\(lines.joined(separator: "\n"))")
        #expect(state.update(.learningCurveLoaded(curve)) == .unchanged)
    }

    @Test func aRunThatEndedByItsOwnRulesHasNothingToResume() {
        var row = Self.rows[0]
        #expect(row.nothingToResume == nil, "stopped by the user after 2 of 40 epochs")
        row.status = .earlyStopped
        #expect(row.nothingToResume == "early stopping ended it")
        row.status = .interrupted
        row.epochs = 40
        #expect(row.nothingToResume == "it completed all its epochs")
    }

    @Test(arguments: [(80, 24), (100, 30), (120, 40)])
    func howARunEndedIsShownWholeNotCut(width: Int, height: Int) {
        var rows = Self.rows
        rows[0].statusDetail = "stopped by the user"
        rows[1].status = .earlyStopped
        rows[1].statusDetail = "no better validation accuracy for 5 epochs"
        var state = Sample.state(width: width, height: height)
        Sample.send(&state, [.key(.function(4)), .runsLoaded(rows)])
        var lines = AppView.render(state).lines
        // The Ended column has the status word alone ("stopped: stop" was cut mid-word).
        #expect(lines.contains { $0.range(of: #" stopped +│$"#, options: .regularExpression) != nil },
                "\(lines.joined(separator: "\n"))")
        #expect(lines.contains { $0.range(of: #" stopped early *│$"#, options: .regularExpression) != nil })
        #expect(lines.contains { $0.contains("│ Run 2: quick 16x48x48x1 16/8/8 d64 b8 · stopped: stopped by the user") })
        _ = state.update(.key(.down))
        lines = AppView.render(state).lines
        #expect(lines.contains {
            $0.contains("Run 1: tiny 4x24x24x1 4/4/4 d16 b8 · stopped early: no better validation accuracy for 5 epochs")
        } || width < 100, "the reason in full where it fits")
        #expect(lines.contains { $0.contains("Run 1: tiny 4x24x24x1 4/4/4 d16 b8 · stopped early: no better") })
    }

    @Test func theRunsScreenFollowsARunInProgress() {
        var state = trainingState()
        let events = RecordedRun.events
        let firstEpoch = events.firstIndex { if case .epoch = $0 { true } else { false } }!
        Sample.send(&state, [.key(.function(2)), .key(.character("t"))] + events[..<firstEpoch].map { .training($0) })
        _ = state.update(.key(.function(4)))
        #expect(state.update(.training(events[firstEpoch])).effects == [.loadRuns])
        _ = state.update(.key(.function(2)))
        #expect(state.update(.training(.epoch(RecordedRun.epoch(2)))).effects.isEmpty, "only the Runs screen reloads")
    }

    @Test func aRunningRunCannotBeResumedTwice() {
        var state = trainingState()
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
        _ = state.update(.predictionReady(clipID: clip.id, ClipPrediction(label: "spin", probability: 0.5, runID: 4,
                                                                          modelName: "wide crop")))
        #expect(labelLine(state).contains("Label: run  wide crop: spin 50%"), "the model is named")
    }

    @Test func withoutACheckpointThePredictionSaysWhy() {
        var state = Sample.state()
        let clip = state.clips.selectedClip!
        _ = state.update(.key(.character("P")))
        _ = state.update(.predictionFailed(clipID: clip.id, "the project has no model yet"))
        #expect(state.message?.text == "No prediction: the project has no model yet")
    }
}

/// The run box and the Model screen's statistics keep every value whole, whatever the
/// preset, the data and the run's numbers, at the sizes people use.
@Suite struct ScreenFitTests {
    static let sizes = [(80, 24), (100, 30), (120, 36)]

    /// The run box's text values: each must fit the room beside its name.
    func expectRunBoxFits(_ training: TrainingState, _ context: String) {
        for case .text(let name, let value, _) in TrainView.runBoxLines(training) {
            #expect(value.count <= TrainView.runValueWidth, "\(context): \(name) \"\(value)\" is cut")
        }
    }

    @Test(arguments: sizes)
    func theQuickPresetsNetworkLineIsWhole(width: Int, height: Int) {
        var state = trainingState(width: width, height: height)
        Sample.send(&state, [.key(.function(2)), .key(.character("c"))])
        #expect(state.training.choice.name == "quick")
        let model = state.training.choice.settings.model
        let network = model.filters.map(String.init).joined(separator: "/") + " · dense \(model.denseUnits)"
        let screen = AppView.render(state).lines
        #expect(screen.contains { $0.contains("│Network \(network)") }, "\(width)x\(height): \(network)")
        #expect(screen.contains { $0.contains("│Preset  quick  (c: next)") })
        expectRunBoxFits(state.training, "quick")
    }

    @Test(arguments: sizes)
    func aLongRunWithBigNumbersFitsTheRunBox(width: Int, height: Int) throws {
        var state = trainingState(width: width, height: height)
        // The seed preset, customised: the longest preset text.
        Sample.send(&state, [.key(.function(2)), .key(.character("c")), .key(.character("c")), .key(.character("E"))])
        var big = estimate
        big.secondsPerEpoch = 98_765
        big.dataBytes = 1_000_000_000_000
        _ = state.update(.estimateReady(try #require(state.training.estimate.request), big))
        expectRunBoxFits(state.training, "estimate")
        _ = state.update(.estimateFailed(try #require(state.training.estimate.request),
                                         "the model needs 12.3 GB of memory and this machine has 4.0 GB"))
        expectRunBoxFits(state.training, "failed estimate")
        #expect(AppView.render(state).lines.joined().contains("machine has"), "the reason is shown in full")

        Sample.send(&state, [.key(.character("t"))])
        var start = RecordedRun.start
        start.runID = 12_345
        start.trainingPerClass = [2_469, 2_469, 2_469, 2_469, 2_469]
        start.validationPerClass = [617, 617, 617, 617, 618]
        start.estimate = big
        start.settings.epochs = 100
        start.batchesPerEpoch = 1_543
        var batch = RecordedRun.batch(epoch: 100, batch: 1_500)
        batch.epochs = 100
        batch.batches = 1_543
        batch.etaSeconds = 360_000
        batch.elapsedSeconds = 3_599_999
        batch.samplesPerSecond = 123_456
        batch.learningRate = 1.2345e-5
        var report = RecordedRun.epoch(2)
        report.epoch = 100
        report.bestEpoch = 100
        report.bestValidationAccuracy = 1
        Sample.send(&state, [.training(.started(start)), .training(.epoch(report)), .training(.batch(batch))])
        expectRunBoxFits(state.training, "running")
        _ = state.update(.key(.character("p")))
        expectRunBoxFits(state.training, "pausing")
        _ = state.update(.key(.character("s")))
        expectRunBoxFits(state.training, "stopping")
        _ = state.update(.training(.failed(TrainingFailure(runID: 12_345, message: "/p/.actionlab/runs/12345: no space left on device"))))
        expectRunBoxFits(state.training, "failed")
        #expect(AppView.render(state).lines.joined().contains("no space left"))
    }

    @Test func layerStatisticsKeepASpaceFromTheParameterCount() throws {
        // Tiny and negative values used to run into Param #: "32-5.043e-06".
        for value: Float in [-5.043e-6, 5.043e-6, -0.000_999_9, -999.999_9, -999.999_99, 12_345.678, -1.5e38, 0,
                             -0.0, .leastNonzeroMagnitude, .nan, -.infinity] {
            let text = ModelView.number(value)
            #expect(text.count <= ModelView.statsValueWidth, "\(value) is written \(text)")
        }
        #expect(ModelView.number(-5.043e-6) == "-5.04e-06")
        #expect(ModelView.number(0.4213) == "0.4213")
        let stats = LayerStatistics(name: "batchnorm3", activationMean: -5.043e-6, activationStd: 0.9621,
                                    gradientNorm: -123.456_78)
        let text = ModelView.statsText(stats)
        #expect(text == " -5.04e-06    0.9621 -123.4568")
        #expect(text.count == ModelView.statsColumnWidth * ModelView.statsHeader.count)
        for column in stride(from: 0, to: text.count, by: ModelView.statsColumnWidth) {
            #expect(text[text.index(text.startIndex, offsetBy: column)] == " ", "column at \(column) starts with a space")
        }

        var state = runningState(width: 120, height: 36)
        var batch = RecordedRun.batch(epoch: 3, batch: 4)
        batch.layers = RecordedRun.layerNames.map {
            LayerStatistics(name: $0, activationMean: -5.043e-6, activationStd: -0.000_123, gradientNorm: -99_999)
        }
        Sample.send(&state, [.training(.batch(batch)), .key(.function(3))])
        let row = AppView.render(state).lines.first { $0.contains("batchnorm3 (BatchNormalization)") } ?? ""
        let statistics = try #require(row.range(of: "-5.04e-06 -1.23e-04 -1.00e+05"), "\(row)")
        #expect(row[..<statistics.lowerBound].hasSuffix(" "), "a space before the statistics: \(row)")
    }
}
