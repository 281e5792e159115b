import ActionStore
import Foundation
import Testing

/// What `labels export` writes, `labels import` reads back whole.
@Suite struct LabelRoundTripTests {
    @Test func pathsWithSurroundingSpacesRoundTrip() throws {
        let project = try TemporaryProject()
        let paths = [" lead.mp4", "trail .mp4", "in side/ x.mp4"]
        let (store, clips) = try project.storeWithClips(paths)
        for (n, path) in paths.enumerated() { try store.setLabel(clipID: clips[path]!.id, classIndex: n) }
        let exported = try store.exportCSV()
        #expect(exported.contains("\" lead.mp4\",run\n"))

        for path in paths { try store.clearLabel(clipID: clips[path]!.id) }
        let report = try store.importCSV(text: exported, file: "labels.csv")
        #expect(report == ImportReport(rows: 3, changed: 3, unchanged: 0, addedClips: 0))
        #expect(try store.exportCSV() == exported)
        // Unquoted fields are still trimmed, as spreadsheets pad them.
        #expect(try store.importCSV(text: "in side/ x.mp4 , jump \n", file: "padded.csv").unchanged == 1)
    }

    @Test func labelsOfARemovedClassAreNamedOnImportAndCanBeMapped() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b.mp4", "c.mp4", "d.mp4"])
        try store.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 0)  // run
        try store.setLabel(clipID: clips["b.mp4"]!.id, classIndex: 4)  // spin
        try store.setLabel(clipID: clips["c.mp4"]!.id, classIndex: 4)  // spin
        try store.setLabel(clipID: clips["d.mp4"]!.id, classIndex: 3)  // wave
        let exported = try store.exportCSV()
        try store.close()

        // The project drops spin; the exported file still names it.
        try FileManager.default.removeItem(at: project.layout.stateDirectory)
        let fewer = try project.open(config: ProjectConfig(classes: ["run", "walk", "wave"]))
        let error = #expect(throws: LabelImportError.self) { try fewer.importCSV(text: exported, file: "labels.csv") }
        #expect(error?.problems == [.init(line: 3, message: "unknown label 'spin' on 2 rows (also line 4) "
                                          + "(classes: run, walk, wave)")])
        #expect(error?.description.contains("Labels not among the classes of "
                                            + project.layout.configURL.path + ": spin.") == true)
        #expect(error?.description.contains("labels import --map spin=CLASS") == true)
        #expect(try fewer.labelCounts().labelled == 0)

        let mapped = try fewer.importCSV(text: exported, file: "labels.csv", mapping: ["spin": "walk"])
        #expect(mapped == ImportReport(rows: 4, changed: 4, unchanged: 0, addedClips: 4, mapped: 2))
        #expect(try fewer.clips().map { $0.label?.className } == ["run", "walk", "walk", "wave"])

        let badTarget = #expect(throws: LabelImportError.self) {
            try fewer.importCSV(text: exported, file: "labels.csv", mapping: ["spin": "dance"])
        }
        #expect(badTarget?.description.contains("cannot map 'spin' to 'dance': 'dance' is not a class of") == true)
    }

    @Test func labelsOfUnreadableClipsAreImportedWithTheirRowsReported() throws {
        let project = try TemporaryProject()
        let (store, _) = try project.storeWithClips(["good.mp4"])
        let url = try project.write("broken.mp4")
        try store.record([ScannedClip(path: "broken.mp4", stamp: ProjectStore.stamp(of: url)!,
                                      outcome: .unreadable("no video stream"))])
        let report = try store.importCSV(text: "path,label\ngood.mp4,run\nbroken.mp4,walk\n", file: "in.csv")
        #expect(report.changed == 2)
        #expect(report.unreadable == [.init(line: 3, path: "broken.mp4", reason: "no video stream")])
        #expect(try store.clip(path: "broken.mp4")?.label?.className == "walk")
        // And what was exported imports back, unreadable clips included.
        let exported = try store.exportCSV()
        #expect(try store.importCSV(text: exported, file: "again.csv").unchanged == 2)
    }

    @Test func aFileReachedThroughALinkedFolderIsOneClip() throws {
        let project = try TemporaryProject()
        let (store, _) = try project.storeWithClips(["real/a.mp4"])
        try FileManager.default.createSymbolicLink(at: project.root.appendingPathComponent("alias"),
                                                   withDestinationURL: project.root.appendingPathComponent("real"))
        let error = #expect(throws: LabelImportError.self) {
            try store.importCSV(text: "real/a.mp4,run\nalias/a.mp4,walk\n", file: "twice.csv")
        }
        #expect(error?.problems == [.init(line: 2, message: "real/a.mp4 is labelled 'run' on line 1 and 'walk' here")])

        let report = try store.importCSV(text: "alias/a.mp4,walk\n", file: "alias.csv")
        #expect(report.addedClips == 0)
        #expect(try store.clips().map(\.path) == ["real/a.mp4"])
        #expect(try store.clip(path: "real/a.mp4")?.label?.className == "walk")
    }

    @Test func aLinkToAFileOutsideTheProjectIsRefused() throws {
        let project = try TemporaryProject()
        let outside = try TemporaryProject()
        let target = try outside.write("far.mp4")
        let store = try project.open()
        try FileManager.default.createSymbolicLink(at: project.root.appendingPathComponent("near.mp4"),
                                                   withDestinationURL: target)
        let error = #expect(throws: LabelImportError.self) { try store.importCSV(text: "near.mp4,run\n", file: "l.csv") }
        #expect(error?.problems.first?.message.hasPrefix("near.mp4 is a link to \(target.resolvingSymlinksInPath().path), "
                                                         + "outside the project folder") == true)
    }
}
