import Foundation
import Testing
@testable import ActionLabUI

// Every key of the Clips screen and the app, applied to in-memory states.

@Suite struct MovementKeys {
    @Test func downAndJMoveOneRowAndAskForThePreview() {
        var state = Sample.state()
        #expect(state.clips.selection == 0)
        let result = state.update(.key(.down))
        #expect(state.clips.selection == 1)
        #expect(result.redraw)
        guard case .loadPreview(let request) = result.effects.first else {
            Issue.record("expected a preview request, got \(result.effects)")
            return
        }
        #expect(request.clipID == 2)
        _ = state.update(.key(.character("j")))
        #expect(state.clips.selection == 2)
    }

    @Test func upAndKMoveBackAndStopAtTheTop() {
        var state = Sample.state()
        Sample.send(&state, [.key(.down), .key(.down), .key(.up)])
        #expect(state.clips.selection == 1)
        Sample.send(&state, [.key(.character("k")), .key(.character("k"))])
        #expect(state.clips.selection == 0)
        #expect(state.update(.key(.up)) == .unchanged)
    }

    @Test func pageKeysMoveByAListPageAndScroll() {
        var state = Sample.state(Sample.clips(100))
        let page = state.layout.listRows
        #expect(page == 23)
        _ = state.update(.key(.pageDown))
        #expect(state.clips.selection == page)
        #expect(state.clips.scrollTop == 1)
        _ = state.update(.key(.pageDown))
        #expect(state.clips.selection == 2 * page)
        _ = state.update(.key(.pageUp))
        #expect(state.clips.selection == page)
        #expect(state.clips.scrollTop == page)
    }

    @Test func homeEndAndGJumpToTheEnds() {
        var state = Sample.state(Sample.clips(40))
        _ = state.update(.key(.end))
        #expect(state.clips.selection == 39)
        #expect(state.clips.scrollTop == 40 - state.layout.listRows)
        _ = state.update(.key(.home))
        #expect(state.clips.selection == 0)
        #expect(state.clips.scrollTop == 0)
        _ = state.update(.key(.character("G")))
        #expect(state.clips.selection == 39)
        _ = state.update(.key(.character("g")))
        #expect(state.clips.selection == 0)
    }

    @Test func movingRestartsPlaybackAndTheWatchClock() {
        var state = Sample.state()
        Sample.deliverPreview(&state)
        Sample.send(&state, [.tick(now: 0.1), .tick(now: 0.2)])
        #expect(state.clips.playback.frameIndex > 0)
        _ = state.update(.key(.down))
        #expect(state.clips.playback.frameIndex == 0)
        #expect(state.clips.playback.position == 0)
        #expect(state.clips.selectedSince == 0.2)
    }
}

@Suite struct LabelKeys {
    @Test func aClassKeyAsksForTheLabelAndShowsItOnlyWhenCommitted() {
        var state = Sample.state()
        Sample.send(&state, [.tick(now: 0.2), .tick(now: 0.4), .tick(now: 1.5)])
        let result = state.update(.key(.character("2")))
        #expect(result.effects == [.setLabel(clipID: 1, classIndex: 1, watchedSeconds: 1.5)])
        #expect(state.clips.clips[0].label == nil, "a label must not show before it is committed")
        #expect(state.clips.selection == 0)

        _ = state.update(.labelCommitted(clipID: 1, classIndex: 1, cause: .label))
        #expect(state.clips.clips[0].label == 1)
        #expect(state.clips.selection == 1, "labelling moves on to the next clip")
    }

    @Test func everyClassKeyMapsToItsClass() {
        for (index, info) in Sample.classes.enumerated() {
            var state = Sample.state()
            let result = state.update(.key(.character(info.key)))
            #expect(result.effects == [.setLabel(clipID: 1, classIndex: index, watchedSeconds: 0)])
        }
        var state = Sample.state()
        #expect(state.update(.key(.character("6"))) == .unchanged, "only five classes")
    }

    @Test func labellingTheLastClipStaysOnIt() {
        var state = Sample.state(Sample.clips(3))
        _ = state.update(.key(.end))
        _ = state.update(.labelCommitted(clipID: 3, classIndex: 0, cause: .label))
        #expect(state.clips.selection == 2)
    }

    @Test func unreadableAndMissingClipsCannotBeLabelled() {
        var clips = Sample.clips(3)
        clips[0].unreadableReason = "no video stream"
        clips[1].isMissing = true
        var state = Sample.state(clips)
        let first = state.update(.key(.character("1")))
        #expect(first.effects.isEmpty)
        #expect(state.message?.text.contains("no video stream") == true)
        _ = state.update(.key(.down))
        #expect(state.update(.key(.character("1"))).effects.isEmpty)
        #expect(state.message?.text.contains("missing") == true)
    }

    @Test func whyTheSelectedClipIsUnreadableShowsWithoutAKey() {
        var clips = Sample.clips(3)
        clips[0].isProbed = false
        var state = Sample.state(clips)
        #expect(AppView.render(state).lines.joined().contains("Not opened yet"))
        // The scan finds the selected clip unreadable: the pane says why at once.
        clips[0].isProbed = true
        clips[0].unreadableReason = "moov atom not found"
        #expect(state.update(.clipsChanged([clips[0]])).redraw)
        #expect(AppView.render(state).lines.contains { $0.contains("Unreadable: moov atom not found") })
        #expect(AppView.render(state).lines.contains { $0.contains("Label: cannot be labelled") })
    }

    @Test func zeroBackspaceAndDeleteClearALabel() {
        for key in [Key.character("0"), .backspace, .delete] {
            var clips = Sample.clips(3)
            clips[0].label = 2
            var state = Sample.state(clips)
            #expect(state.update(.key(key)).effects == [.clearLabel(clipID: 1)])
            #expect(state.clips.clips[0].label == 2)
            _ = state.update(.labelCommitted(clipID: 1, classIndex: nil, cause: .clear))
            #expect(state.clips.clips[0].label == nil)
            #expect(state.clips.selection == 0, "clearing stays on the clip")
        }
    }

    @Test func clearingAnUnlabelledClipSaysSo() {
        var state = Sample.state()
        let result = state.update(.key(.character("0")))
        #expect(result.effects.isEmpty)
        #expect(state.message?.text == "clip_00.mp4 has no label to clear")
    }

    @Test func undoAsksTheStoreAndSelectsTheRestoredClip() {
        var state = Sample.state()
        _ = state.update(.labelCommitted(clipID: 1, classIndex: 3, cause: .label))
        _ = state.update(.labelCommitted(clipID: 2, classIndex: 4, cause: .label))
        #expect(state.clips.selection == 2)
        #expect(state.update(.key(.character("u"))).effects == [.undoLastLabel])
        _ = state.update(.labelCommitted(clipID: 2, classIndex: nil, cause: .undo))
        #expect(state.clips.selection == 1)
        #expect(state.clips.clips[1].label == nil)
        #expect(state.message?.text == "Undone: clip_01.mp4 is unlabelled again")
        _ = state.update(.labelCommitted(clipID: 1, classIndex: nil, cause: .undo))
        #expect(state.clips.selection == 0)
        _ = state.update(.labelNotChanged("Nothing to undo"))
        #expect(state.message?.text == "Nothing to undo")
        #expect(state.message?.kind == .warning)
    }

    @Test func nJumpsToTheNextUnlabelledReadableClipAndWraps() {
        var clips = Sample.clips(6)
        clips[1].label = 0
        clips[2].unreadableReason = "truncated"
        clips[4].label = 1
        clips[0].label = 2
        var state = Sample.state(clips)
        _ = state.update(.key(.character("n")))
        #expect(state.clips.selection == 3)
        _ = state.update(.key(.character("n")))
        #expect(state.clips.selection == 5)
        _ = state.update(.key(.character("n")))
        #expect(state.clips.selection == 3, "wraps around to the start")
    }

    @Test func nWhenEverythingIsLabelledSaysSo() {
        var clips = Sample.clips(2)
        clips[0].label = 0
        clips[1].label = 1
        var state = Sample.state(clips)
        _ = state.update(.key(.character("n")))
        #expect(state.clips.selection == 0)
        #expect(state.message?.text == "Every clip in the list is labelled")
    }
}

@Suite struct PlaybackKeys {
    @Test func spaceTogglesPlayback() {
        var state = Sample.state()
        #expect(state.clips.playback.isPlaying)
        _ = state.update(.key(.character(" ")))
        #expect(!state.clips.playback.isPlaying)
        _ = state.update(.key(.character(" ")))
        #expect(state.clips.playback.isPlaying)
    }

    @Test func aMessageGoesWhenWhatItDescribesChanges() {
        var state = Sample.state()
        Sample.send(&state, Array(repeating: .key(.character("+")), count: 5))
        #expect(state.message?.text == "Speed is already 4x")
        _ = state.update(.key(.character("-")))
        #expect(state.message == nil, "the speed is 3x now")

        _ = state.update(.key(.character("0")))
        #expect(state.message?.text == "clip_00.mp4 has no label to clear")
        _ = state.update(.key(.character(" ")))
        #expect(state.message != nil, "still about the selected clip")
        let moved = state.update(.key(.down))
        #expect(state.message == nil && moved.redraw, "another clip is selected")

        _ = state.update(.key(.character("0")))
        _ = state.update(.key(.function(2)))
        #expect(state.message == nil, "the clip is no longer on screen")
    }

    @Test func ticksAdvanceFramesAtTheClipRateAndLoop() {
        var state = Sample.state()
        Sample.deliverPreview(&state, frames: Sample.frames(4, fps: 10))
        #expect(state.update(.tick(now: 0.05)) == .unchanged, "half a frame: nothing to redraw")
        #expect(state.update(.tick(now: 0.1)).redraw)
        #expect(state.clips.playback.frameIndex == 1)
        _ = state.update(.tick(now: 0.3))
        #expect(state.clips.playback.frameIndex == 3)
        _ = state.update(.tick(now: 0.42))
        #expect(state.clips.playback.frameIndex == 0, "the clip loops after its last frame")
    }

    @Test func pausedPlaybackDoesNotAdvance() {
        var state = Sample.state()
        Sample.deliverPreview(&state, frames: Sample.frames(4, fps: 10))
        _ = state.update(.key(.character(" ")))
        #expect(state.update(.tick(now: 0.2)) == .unchanged)
        #expect(state.clips.playback.frameIndex == 0)
    }

    @Test func plusAndMinusStepTheSpeedBetweenAQuarterAndFour() {
        var state = Sample.state()
        for expected in [1.5, 2, 3, 4, 4] as [Double] {
            _ = state.update(.key(.character("+")))
            #expect(state.clips.playback.speed == expected)
        }
        #expect(state.message?.text == "Speed is already 4x")
        for expected in [3, 2, 1.5, 1, 0.75, 0.5, 0.25, 0.25] as [Double] {
            _ = state.update(.key(.character("-")))
            #expect(state.clips.playback.speed == expected)
        }
        _ = state.update(.key(.character("=")))
        #expect(state.clips.playback.speed == 0.5, "= is + without shift")
    }

    @Test func speedScalesPlayback() {
        var state = Sample.state()
        Sample.deliverPreview(&state, frames: Sample.frames(8, fps: 10))
        Sample.send(&state, [.key(.character("+")), .key(.character("+"))])
        _ = state.update(.tick(now: 0.1))
        #expect(state.clips.playback.frameIndex == 2)
    }

    @Test func commaAndPeriodStepOneFrameAndPause() {
        var state = Sample.state()
        Sample.deliverPreview(&state, frames: Sample.frames(4))
        _ = state.update(.key(.character(".")))
        #expect(!state.clips.playback.isPlaying)
        #expect(state.clips.playback.frameIndex == 1)
        Sample.send(&state, [.key(.character(",")), .key(.character(","))])
        #expect(state.clips.playback.frameIndex == 3, "stepping back from the first frame wraps to the last")
        #expect(!state.update(.tick(now: 1)).redraw)
    }
}

@Suite struct FilterKeys {
    @Test func slashEditsAFilterOnNamesOnly() {
        var clips = Sample.clips(12)
        clips[5].label = 0
        var state = Sample.state(clips)
        _ = state.update(.key(.character("/")))
        #expect(state.clips.isEditingFilter)
        Sample.send(&state, Key.typing("_1").map { .key($0) })
        #expect(state.clips.visible.map { state.clips.clips[$0].path } == ["clip_10.mp4", "clip_11.mp4"])
        _ = state.update(.key(.backspace))
        #expect(state.clips.filter == "_")
        Sample.send(&state, [.key(.backspace)] + Key.typing("RUN").map { .key($0) })
        #expect(state.clips.visible.isEmpty, "a label name is not a clip name: f filters by label")
        Sample.send(&state, [.key(.backspace), .key(.backspace), .key(.backspace)] + Key.typing("CLIP_05").map { .key($0) })
        #expect(state.clips.visible == [5], "names match ignoring case")
        _ = state.update(.key(.enter))
        #expect(!state.clips.isEditingFilter)
        #expect(state.clips.filter == "CLIP_05")
    }

    @Test func aFilterKeepsTheSelectedClipIfItMatchesElseSelectsTheFirstMatch() {
        var state = Sample.state()
        _ = state.moveSelection(to: 5)
        Sample.send(&state, [.key(.character("/"))] + Key.typing("clip_1").map { .key($0) })
        #expect(state.clips.selectedClip?.path == "clip_10.mp4", "clip_05 does not match: the first match")
        #expect(state.clips.playback.position == 0)

        Sample.send(&state, [.key(.escape)])
        _ = state.moveSelection(to: 11)
        Sample.send(&state, [.key(.character("/"))] + Key.typing("1").map { .key($0) })
        #expect(state.clips.selectedClip?.path == "clip_11.mp4", "clip_11 matches: it stays selected")
        #expect(state.clips.selection == 2)
    }

    @Test func lettersThatAreKeysAreTextWhileEditing() {
        var state = Sample.state()
        _ = state.update(.key(.character("/")))
        let result = Sample.send(&state, Key.typing("q1u").map { .key($0) })
        #expect(result.allSatisfy { $0.effects.allSatisfy { if case .loadPreview = $0 { true } else { false } } })
        #expect(!state.quitRequested)
        #expect(state.clips.filter == "q1u")
    }

    @Test func escapeClearsTheFilter() {
        var state = Sample.state()
        Sample.send(&state, [.key(.character("/"))] + Key.typing("clip_03").map { .key($0) })
        #expect(state.clips.visible.count == 1)
        _ = state.update(.key(.escape))
        #expect(state.clips.filter.isEmpty)
        #expect(!state.clips.isEditingFilter)
        #expect(state.clips.visible.count == 12)
        #expect(state.clips.selectedClip?.path == "clip_03.mp4", "the selected clip stays selected")

        Sample.send(&state, [.key(.character("/"))] + Key.typing("clip_0").map { .key($0) } + [.key(.enter)])
        #expect(state.clips.visible.count == 10)
        _ = state.update(.key(.escape))
        #expect(state.clips.visible.count == 12, "Escape also clears a kept filter")
    }

    @Test func backspaceOnAnEmptyFilterStopsEditing() {
        var state = Sample.state()
        Sample.send(&state, [.key(.character("/")), .key(.backspace)])
        #expect(!state.clips.isEditingFilter)
    }

    @Test func labellingAClipOutOfALabelFilterShowsTheNextOne() {
        var clips = Sample.clips(4)
        clips[0].label = 1
        clips[2].label = 1
        var state = Sample.state(clips)
        Sample.send(&state, [.key(.character("f")), .key(.character("f")), .key(.character("f"))])
        #expect(state.clips.options.label == .label(1))
        #expect(state.clips.visible == [0, 2])
        let result = state.update(.labelCommitted(clipID: 1, classIndex: 0, cause: .label))
        #expect(state.clips.visible == [2], "a clip labelled run leaves the walk filter")
        #expect(state.clips.selectedClip?.id == 3)
        #expect(result.effects.contains { if case .loadPreview(let r) = $0 { r.clipID == 3 } else { false } })
    }

    @Test func labellingAClipOutOfTheFilterKeepsThePosition() {
        var state = Sample.state()
        Sample.send(&state, [.key(.character("/"))] + Key.typing("clip_0").map { .key($0) } + [.key(.enter)])
        _ = state.update(.labelCommitted(clipID: 1, classIndex: 0, cause: .label))
        #expect(state.clips.visible.count == 10, "the name still matches")
        #expect(state.clips.selectedClip?.path == "clip_01.mp4")
    }
}

@Suite struct AppKeys {
    @Test func questionMarkShowsHelpAndAnyKeyClosesIt() {
        var state = Sample.state()
        _ = state.update(.key(.character("?")))
        #expect(state.showingHelp)
        let result = state.update(.key(.character("q")))
        #expect(!state.showingHelp)
        #expect(!state.quitRequested, "q closes the help, it does not quit")
        #expect(result.effects.isEmpty)
        _ = state.update(.key(.character("?")))
        _ = state.update(.key(.down))
        #expect(state.clips.selection == 0, "the key that closes the help does nothing else")
    }

    @Test func qQuits() {
        var state = Sample.state()
        let result = state.update(.key(.character("q")))
        #expect(state.quitRequested)
        #expect(result.effects == [.quit])
    }

    @Test func capitalTCyclesThemesAndRemembersTheChoice() {
        var state = Sample.state()
        #expect(state.themes.map(\.name) == ["dark", "light", "high-contrast"])
        #expect(state.theme.name == "dark")
        #expect(state.update(.key(.character("T"))).effects == [.saveTheme(name: "light")])
        #expect(state.update(.key(.character("T"))).effects == [.saveTheme(name: "high-contrast")])
        #expect(state.update(.key(.character("T"))).effects == [.saveTheme(name: "dark")])
        #expect(state.message?.text == "Theme: dark")
    }

    @Test func tabAndFunctionKeysSwitchScreens() {
        var state = Sample.state()
        var visited: [Screen] = []
        for _ in 0..<4 {
            _ = state.update(.key(.tab))
            visited.append(state.screen)
        }
        #expect(visited == [.train, .model, .runs, .clips])
        _ = state.update(.key(.backTab))
        #expect(state.screen == .runs)
        _ = state.update(.key(.function(2)))
        #expect(state.screen == .train)
        #expect(state.update(.key(.function(2))) == .unchanged, "the screen already shown")
        _ = state.update(.key(.function(1)))
        #expect(state.screen == .clips)
        #expect(state.update(.key(.function(5))) == .unchanged, "no fifth screen")
    }

    @Test func enteringTheRunsScreenReadsTheRuns() {
        var state = Sample.state()
        #expect(state.update(.key(.function(4))).effects == [.loadRuns])
    }

    @Test func unboundKeysChangeNothing() {
        var state = Sample.state()
        let before = state
        for key in [Key.character("x"), .left, .right, .escape, .function(9)] {
            #expect(state.update(.key(key)) == .unchanged)
        }
        #expect(state == before)
    }
}

@Suite struct ScreenSizeAndBackground {
    @Test func belowEightyByTwentyFourOnlyQWorks() {
        var state = Sample.state()
        _ = state.update(.resize(width: 79, height: 30))
        #expect(state.isTooSmall)
        #expect(state.update(.key(.down)) == .unchanged)
        #expect(state.update(.key(.character("1"))) == .unchanged)
        _ = state.update(.resize(width: 80, height: 24))
        #expect(!state.isTooSmall)
        _ = state.update(.resize(width: 100, height: 23))
        #expect(state.isTooSmall)
        _ = state.update(.key(.character("q")))
        #expect(state.quitRequested)
    }

    @Test func resizingAsksForAPreviewOfTheNewSize() {
        var state = Sample.state()
        Sample.deliverPreview(&state)
        let result = state.update(.resize(width: 120, height: 40))
        guard case .loadPreview(let request) = result.effects.first else {
            Issue.record("expected a new preview request, got \(result.effects)")
            return
        }
        #expect(request.width == 55 && request.height == 54)
        #expect(state.update(.resize(width: 120, height: 40)) == .unchanged)
    }

    @Test func previewSizeKeepsTheClipsAspect() {
        let layout = ClipsLayout(width: 100, height: 30)
        #expect(layout.imageCells == (46, 21))
        #expect(layout.previewPixels(clipWidth: 96, clipHeight: 96) == (42, 42))
        #expect(layout.previewPixels(clipWidth: 320, clipHeight: 240) == (46, 34))
        #expect(layout.previewPixels(clipWidth: 100, clipHeight: 400) == (11, 42))
    }

    @Test func aStalePreviewIsIgnored() {
        var state = Sample.state()
        guard case .loading(let first) = state.clips.preview else {
            Issue.record("the first clip's preview should be loading")
            return
        }
        _ = state.update(.key(.down))
        #expect(state.update(.previewLoaded(first, Sample.frames())) == .unchanged)
        if case .loading(let second) = state.clips.preview {
            #expect(second.clipID == 2)
            _ = state.update(.previewFailed(second, "clip_01.mp4: invalid data"))
            #expect(state.clips.preview == .failed(second, "clip_01.mp4: invalid data"))
        } else {
            Issue.record("the second clip's preview should be loading")
        }
    }

    @Test func scannedClipsMergeByIDAndKeepTheSelection() {
        var state = Sample.state(Array(Sample.clips(6)[2...]))
        _ = state.update(.key(.down))
        #expect(state.clips.selectedClip?.path == "clip_03.mp4")
        var changed = Sample.clips(6)[3]
        changed.label = 4
        _ = state.update(.clipsChanged(Array(Sample.clips(2)) + [changed]))
        #expect(state.clips.clips.map(\.path) == (0..<6).map { String(format: "clip_%02d.mp4", $0) })
        #expect(state.clips.selectedClip?.path == "clip_03.mp4")
        #expect(state.clips.selectedClip?.label == 4)
        _ = state.update(.scanProgress(ScanStatus(scanned: 3, total: 6, isFinished: false)))
        #expect(state.clips.scan.total == 6)
    }

    @Test func messagesExpire() {
        var state = Sample.state()
        _ = state.update(.warning("theme.toml: line 2: bad"))
        #expect(state.message?.kind == .warning)
        _ = state.update(.tick(now: 5))
        #expect(state.message?.text == "theme.toml: line 2: bad", "still shown after 5 s")
        #expect(state.update(.tick(now: 11)).redraw)
        #expect(state.message == nil)
    }
}

@Suite struct PreviewPrefetch {
    @Test func aReadyPreviewPrefetchesTheNextClips() {
        var state = Sample.state(Sample.clips(3))
        guard case .loading(let request) = state.clips.preview else {
            Issue.record("the first clip's preview should be loading")
            return
        }
        let result = state.update(.previewLoaded(request, Sample.frames()))
        guard case .prefetchPreview(let next) = result.effects.first else {
            Issue.record("expected a prefetch of the next clip, got \(result.effects)")
            return
        }
        #expect(next.clipID == 2)
        #expect(next.width == request.width && next.height == request.height)
        _ = state.update(.key(.end))
        if case .loading(let last) = state.clips.preview {
            #expect(state.update(.previewLoaded(last, Sample.frames())).effects.isEmpty, "no clip after the last")
        }
    }

    @Test func clipsNotYetOpenedWaitForTheScan() {
        var clips = Sample.clips(2)
        clips[0].isProbed = false
        var state = Sample.state(clips)
        #expect(state.clips.preview == .none)
        #expect(state.update(.key(.character("1"))).effects.isEmpty)
        #expect(state.message?.text == "clip_00.mp4 cannot be labelled: it has not been opened yet; wait for the scan")
    }
}
