import ActionStore
import Foundation
import Testing
@testable import ActionLabUI
@testable import Training

// Labels, clips and runs that another process changes while the app is open reach the
// screen; labels typed here are never taken back by a list read before them.

/// Remembers the checks asked of it.
private final class RecordingWatcher: OutsideChangeWatcher {
    var checks: [Int] = []
    func check(labelEdits: Int, inbox: EventInbox) { checks.append(labelEdits) }
}

/// `Sample.clips(count)` with the labels in `labels` (by position).
private func labelled(_ count: Int, _ labels: [Int: Int]) -> [ClipRow] {
    var rows = Sample.clips(count)
    for (position, label) in labels { rows[position].label = label }
    return rows
}

@Suite struct OutsideChangesTests {
    @Test func ticksAskForALookOncePerSecond() {
        var state = Sample.state()
        #expect(state.update(.tick(now: 0.5)).effects.isEmpty)
        #expect(state.update(.tick(now: 1)).effects == [.checkOutsideChanges(labelEdits: 0)])
        #expect(state.update(.tick(now: 1.6)).effects.isEmpty)
        #expect(state.update(.tick(now: 2.1)).effects == [.checkOutsideChanges(labelEdits: 0)])
    }

    @Test func labelsImportedElsewhereReachTheCountsAndTheTrainScreensData() throws {
        var state = Sample.state()
        #expect(AppView.render(state).lines.contains { $0.contains("Labelled 0/12") })
        _ = state.update(.key(.function(2)))
        let before = try #require(state.training.estimate.request)
        #expect(before.trainingSamples + before.validationSamples == 0)

        let result = state.update(.clipsReloaded(labelled(12, [0: 0, 1: 0, 2: 1, 3: 2, 4: 2, 5: 2]), labelEdits: 0))
        let after = try #require(state.training.estimate.request)
        #expect(result.effects == [.estimateTraining(after), .loadSuggestions], "the estimate is for the new data")
        #expect(after.trainingSamples + after.validationSamples == 6)
        _ = state.update(.key(.function(1)))
        let lines = AppView.render(state).lines
        #expect(lines.contains { $0.contains("Labelled 6/12") && $0.contains("run 2") && $0.contains("jump 3") },
                "\(lines.joined(separator: "\n"))")
    }

    /// The other process may have stored only predictions (`actionlab suggest`): the rows
    /// redraw nothing, but the predictions are read again.
    @Test func anUnchangedReloadRedrawsNothingButReadsThePredictionsAgain() {
        var state = Sample.state()
        #expect(state.update(.clipsReloaded(Sample.clips(12), labelEdits: 0)) == UpdateResult(effects: [.loadSuggestions]))
    }

    @Test func aLabelTypedHereOutlivesAListReadBeforeIt() throws {
        var state = Sample.state()
        let first = try #require(state.clips.selectedClip)
        let typed = state.update(.key(.character("2")))
        #expect(typed.effects.first == .setLabel(clipID: first.id, classIndex: 1, watchedSeconds: 0))
        _ = state.update(.labelCommitted(clipID: first.id, classIndex: 1, cause: .label))
        #expect(state.clips.labelEdits == 1)

        // Read before the label was committed: the first clip unlabelled, the second labelled elsewhere.
        _ = state.update(.clipsReloaded(labelled(12, [1: 3]), labelEdits: 0))
        #expect(state.clips.clips[0].label == 1, "the label typed here stays")
        #expect(state.clips.clips[1].label == 3, "the other process's label arrives")

        // Read after it: another process relabelled the first clip since.
        _ = state.update(.clipsReloaded(labelled(12, [0: 4, 1: 3]), labelEdits: 1))
        #expect(state.clips.clips[0].label == 4)
    }

    @Test func aReloadKeepsWhatTheScanFoundSinceAndTheSelectedClip() throws {
        var rows = Sample.clips(3)
        rows[2].isProbed = false
        var state = Sample.state(rows)
        _ = state.update(.key(.down))
        // The scan probes the third clip and finds a fourth after the list was read.
        _ = state.update(.clipsChanged(Array(Sample.clips(4)[2...])))
        var reloaded = rows
        reloaded[0].label = 2
        _ = state.update(.clipsReloaded(reloaded, labelEdits: 0))
        #expect(state.clips.clips.count == 4)
        #expect(state.clips.clips[2].isProbed, "probed by this app's scan since")
        #expect(state.clips.clips[0].label == 2)
        #expect(state.clips.selectedClip?.id == rows[1].id)
    }

    @Test func theCoreHandsTheLookToTheWatcher() {
        let watcher = RecordingWatcher()
        let core = AppCore(state: Sample.state(), store: MemoryLabelStore(), decoder: GradientDecoder(),
                           preferencesURL: nil, watcher: watcher)
        core.handle(.key(.character("1")))
        core.handle(.tick(now: 1))
        #expect(watcher.checks == [1])
    }
}
