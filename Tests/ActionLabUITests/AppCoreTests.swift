import Foundation
import TestSupport
import Testing
@testable import ActionLabUI

/// Labels in memory, with a switch that makes every write fail.
final class MemoryLabelStore: LabelStore {
    var labels: [ClipID: Int] = [:]
    var history: [(ClipID, Int?)] = []
    /// The model each label was accepted from (nil: typed), in order.
    var acceptedFrom: [String?] = []
    var failing = false

    struct WriteFailed: Error, CustomStringConvertible {
        var description: String { "disk full" }
    }

    func setLabel(clipID: ClipID, classIndex: Int, watchedSeconds: Double, acceptedFrom model: String?) throws {
        if failing { throw WriteFailed() }
        acceptedFrom.append(model)
        history.append((clipID, labels[clipID]))
        labels[clipID] = classIndex
    }

    func clearLabel(clipID: ClipID) throws {
        if failing { throw WriteFailed() }
        history.append((clipID, labels[clipID]))
        labels[clipID] = nil
    }

    func undoLastChange() throws -> (clipID: ClipID, classIndex: Int?)? {
        guard let (clipID, previous) = history.popLast() else { return nil }
        labels[clipID] = previous
        return (clipID, previous)
    }
}

/// Gradient frames for any clip, or a failure for paths containing "bad".
struct GradientDecoder: PreviewDecoder {
    func previewFrames(of url: URL, width: Int, height: Int) throws -> [PreviewImage] {
        if url.path.contains("bad") { throw DecodeFailed(path: url.lastPathComponent) }
        return Sample.frames(3, width: width, height: height)
    }

    struct DecodeFailed: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path): invalid data found when processing input" }
    }
}

private func makeCore(_ store: MemoryLabelStore, clips: [ClipRow] = Sample.clips(5), preferences: URL? = nil) -> AppCore {
    let core = AppCore(state: Sample.state([]), store: store, decoder: GradientDecoder(), preferencesURL: preferences)
    core.handle(.clipsChanged(clips))
    return core
}

@Test func aLabelKeyCommitsToTheStoreBeforeTheScreenShowsIt() {
    let store = MemoryLabelStore()
    let core = makeCore(store)
    #expect(core.handle(.key(.character("3"))))
    #expect(store.labels == [1: 2])
    #expect(core.state.clips.clips[0].label == 2)
    #expect(core.state.clips.selection == 1)
    core.handle(.key(.character("1")))
    core.handle(.key(.up))
    core.handle(.key(.character("0")))
    #expect(store.labels == [1: 2])
    #expect(core.state.clips.clips.map(\.label) == [2, nil, nil, nil, nil])
}

@Test func undoStepsBackThroughTheStore() {
    let store = MemoryLabelStore()
    let core = makeCore(store)
    for key in ["1", "2", "3"] { core.handle(.key(.character(Character(key)))) }
    #expect(store.labels == [1: 0, 2: 1, 3: 2])
    core.handle(.key(.character("u")))
    core.handle(.key(.character("u")))
    #expect(store.labels == [1: 0])
    #expect(core.state.clips.clips.map(\.label) == [0, nil, nil, nil, nil])
    #expect(core.state.clips.selection == 1)
    core.handle(.key(.character("u")))
    core.handle(.key(.character("u")))
    #expect(core.state.message?.text == "Nothing to undo")
}

@Test func aFailedWriteShowsNoLabelAndSaysWhy() {
    let store = MemoryLabelStore()
    store.failing = true
    let core = makeCore(store)
    core.handle(.key(.character("1")))
    #expect(core.state.clips.clips[0].label == nil)
    #expect(core.state.clips.selection == 0)
    #expect(core.state.message?.text == "Label not saved: disk full")
}

@Test func previewsAreDecodedInTheBackgroundAndCached() {
    let core = makeCore(MemoryLabelStore())
    settle(core, until: previewSettled)
    guard case .ready(let request, let frames) = core.state.clips.preview else {
        Issue.record("expected the first clip's preview, got \(core.state.clips.preview)")
        return
    }
    #expect(request.clipID == 1 && frames.count == 3)
    #expect(frames[0].width == 42 && frames[0].height == 42)
    core.handle(.key(.down))
    settle(core, until: previewSettled)
    core.handle(.key(.up))
    // The first clip's frames come from the cache, without waiting for the decoder.
    guard case .ready(let again, _) = core.state.clips.preview else {
        Issue.record("a cached preview should be ready at once, got \(core.state.clips.preview)")
        return
    }
    #expect(again.clipID == 1)
}

@Test func aClipThatCannotBeDecodedShowsTheReason() {
    var clips = Sample.clips(2)
    clips[0].url = URL(fileURLWithPath: "/project/bad.mp4")
    let core = makeCore(MemoryLabelStore(), clips: clips)
    settle(core, until: previewSettled)
    guard case .failed(_, let reason) = core.state.clips.preview else {
        Issue.record("expected a failed preview, got \(core.state.clips.preview)")
        return
    }
    #expect(reason == "bad.mp4: invalid data found when processing input")
}

@Test func theChosenThemeIsSaved() throws {
    let folder = try TemporaryFolder()
    let file = folder.url.appendingPathComponent("actionlab/ui.toml")
    let core = makeCore(MemoryLabelStore(), preferences: file)
    core.handle(.key(.character("T")))
    #expect(try UserPreferences.load(from: file).themeName == "light")
}

@Test func clipBatchesPostedTogetherArriveInOrder() {
    let core = makeCore(MemoryLabelStore(), clips: [])
    let clips = Sample.clips(6)
    core.inbox.post(.scanProgress(ScanStatus(scanned: 0, total: 6, isFinished: false)))
    core.inbox.post(.clipsChanged(Array(clips[3...])))
    core.inbox.post(.clipsChanged(Array(clips[..<3])))
    var relabelled = clips[4]
    relabelled.label = 2
    core.inbox.post(.clipsChanged([relabelled]))
    core.inbox.post(.scanProgress(ScanStatus(scanned: 6, total: 6, isFinished: true)))
    #expect(core.drainInbox())
    #expect(core.state.clips.clips.map(\.id) == [1, 2, 3, 4, 5, 6])
    #expect(core.state.clips.clips[4].label == 2, "a later row for the same clip wins")
    #expect(core.state.clips.scan.isFinished)
}
