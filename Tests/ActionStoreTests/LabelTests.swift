import ActionStore
import Foundation
import Testing

@Suite struct LabelTests {
    @Test func settingALabelIsReadableAtOnceWithItsAuthorAndWatchTime() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["x.mp4"])
        let id = clips["x.mp4"]!.id
        let change = try store.setLabel(clipID: id, classIndex: 3, watchedSeconds: 2.25)
        #expect(change?.kind == .set)
        #expect(change?.previousClass == nil)
        #expect(change?.newClass == "wave")
        #expect(change?.who == "tester")

        let label = try store.clip(id: id)?.label
        #expect(label?.className == "wave")
        #expect(label?.classIndex == 3)
        #expect(label?.labelledBy == "tester")
        #expect(label?.watchedSeconds == 2.25)
    }

    @Test func theSameLabelAgainRecordsNothing() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["x.mp4"])
        let id = clips["x.mp4"]!.id
        try store.setLabel(clipID: id, classIndex: 1)
        #expect(try store.setLabel(clipID: id, classIndex: 1) == nil)
        #expect(try store.history(for: id).count == 1)
        #expect(try store.clearLabel(clipID: id)?.kind == .clear)
        #expect(try store.clearLabel(clipID: id) == nil)
    }

    @Test func badClipOrClassIsRefused() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["x.mp4"])
        #expect(throws: StoreError.unknownClassIndex(5, classCount: 5)) {
            try store.setLabel(clipID: clips["x.mp4"]!.id, classIndex: 5)
        }
        #expect(throws: StoreError.unknownClip(id: 999)) { try store.setLabel(clipID: 999, classIndex: 0) }
    }

    @Test func undoStepsBackThroughManyChangesAndRestoresEachLabelExactly() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b.mp4"])
        let a = clips["a.mp4"]!.id, b = clips["b.mp4"]!.id
        try store.setLabel(clipID: a, classIndex: 0, watchedSeconds: 1)
        let original = try store.clip(id: a)!.label!
        try store.setLabel(clipID: b, classIndex: 1)
        try store.setLabel(clipID: a, classIndex: 2)
        try store.clearLabel(clipID: b)

        let first = try store.undo()              // b cleared -> walk again
        #expect(first?.kind == .undo)
        #expect(first?.clipID == b)
        #expect(first?.previousClass == nil)
        #expect(first?.newClass == "walk")
        #expect(try store.clip(id: b)?.label?.className == "walk")

        let second = try store.undo()             // a jump -> run
        #expect(second?.clipID == a)
        #expect(try store.clip(id: a)?.label == original)

        try store.undo()                          // b walk -> none
        #expect(try store.clip(id: b)?.label == nil)
        try store.undo()                          // a run -> none
        #expect(try store.clip(id: a)?.label == nil)
        #expect(try store.undo() == nil)

        // Every change and every undo stays in the history for audit.
        let historyA = try store.history(for: a)
        #expect(historyA.map(\.kind) == [.set, .set, .undo, .undo])
        #expect(historyA.map(\.isUndone) == [true, true, false, false])
        #expect(try store.recentChanges(limit: 3).count == 3)
    }

    @Test func undoAfterANewChangeRevertsTheNewChangeFirst() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        let a = clips["a.mp4"]!.id
        try store.setLabel(clipID: a, classIndex: 0)
        try store.setLabel(clipID: a, classIndex: 1)
        try store.undo()
        try store.setLabel(clipID: a, classIndex: 4)
        try store.undo()
        #expect(try store.clip(id: a)?.label?.className == "run")
        try store.undo()
        #expect(try store.clip(id: a)?.label == nil)
    }

    @Test func undoSurvivesReopening() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        try store.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 0)
        try store.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 1)
        try store.close()
        let reopened = try project.open()
        try reopened.undo()
        #expect(try reopened.clip(path: "a.mp4")?.label?.className == "run")
    }

    @Test func countsCoverClipsOnDiskOnly() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b.mp4", "c.mp4", "d.mp4"])
        try store.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 0)
        try store.setLabel(clipID: clips["b.mp4"]!.id, classIndex: 0)
        try store.setLabel(clipID: clips["c.mp4"]!.id, classIndex: 4)
        try store.markMissing(paths: ["b.mp4"])
        #expect(try store.labelCounts() == .init(clips: 3, labelled: 2, perClass: [1, 0, 0, 0, 1]))
        try store.markMissing(paths: ["b.mp4"], false)
        #expect(try store.labelCounts() == .init(clips: 4, labelled: 3, perClass: [2, 0, 0, 0, 1]))
    }
}
