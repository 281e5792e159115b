import ActionStore
import Foundation
import Testing

@Suite struct ScanRecordTests {
    @Test func recordingAddsThenUpdatesClipsKeepingTheirLabels() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4"])
        let a = clips["a.mp4"]!
        #expect(a.probe?.codec == "h264")
        #expect(a.isUsable)
        try store.setLabel(clipID: a.id, classIndex: 0)

        let newStamp = FileStamp(size: 5, modified: Date(timeIntervalSince1970: 1_700_000_000.25))
        let updated = try store.upsertClip(ScannedClip(path: "a.mp4", stamp: newStamp,
                                                       outcome: .unreadable("no video stream")))
        #expect(updated.id == a.id)
        #expect(updated.probe == nil)
        #expect(updated.unreadableReason == "no video stream")
        #expect(!updated.isUsable)
        #expect(updated.label?.className == "run")

        let known = try store.knownClips()
        #expect(known["a.mp4"] == KnownClip(id: a.id, stamp: newStamp, isProbed: true, isMissing: false))
    }

    @Test func missingClipsAreMarkedAndFoundAgainWhenRecorded() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b.mp4"])
        try store.markMissing(paths: ["a.mp4"])
        #expect(try store.clip(path: "a.mp4")?.isMissing == true)
        #expect(try store.knownClips()["a.mp4"]?.isMissing == true)
        let stamp = try store.knownClips()["a.mp4"]!.stamp
        try store.record([ScannedClip(path: "a.mp4", stamp: stamp, outcome: .unreadable("truncated"))])
        #expect(try store.clip(id: clips["a.mp4"]!.id)?.isMissing == false)
    }
}
