import ActionStore
import Foundation
import Testing

@Suite struct LabelFileTests {
    @Test func exportThenImportIntoAFreshDatabaseRoundTrips() throws {
        let project = try TemporaryProject()
        let paths = ["walk/a.mp4", "run/b,1.mp4", "c.mp4", "d.mov"]
        let (store, clips) = try project.storeWithClips(paths)
        try store.setLabel(clipID: clips["walk/a.mp4"]!.id, classIndex: 1)
        try store.setLabel(clipID: clips["run/b,1.mp4"]!.id, classIndex: 0)
        try store.setLabel(clipID: clips["d.mov"]!.id, classIndex: 4)
        let exported = try store.exportCSV()
        #expect(exported == "path,label\nd.mov,spin\n\"run/b,1.mp4\",run\nwalk/a.mp4,walk\n")
        try store.close()

        try FileManager.default.removeItem(at: project.layout.stateDirectory)
        let fresh = try project.open()
        let csv = try project.write("labels.csv", exported)
        let report = try fresh.importCSV(csv)
        #expect(report == ImportReport(rows: 3, changed: 3, unchanged: 0, addedClips: 3))
        #expect(try fresh.exportCSV() == exported)
        #expect(try fresh.clip(path: "d.mov")?.probe == nil)   // added unprobed, for the next scan
        #expect(try fresh.history(for: fresh.clip(path: "d.mov")!.id).map(\.kind) == [.imported])

        // Importing the same file again changes nothing.
        #expect(try fresh.importCSV(csv) == ImportReport(rows: 3, changed: 0, unchanged: 3, addedClips: 0))
    }

    @Test func importAcceptsHeaderlessFilesDotSlashAndAbsolutePathsInsideTheProject() throws {
        let project = try TemporaryProject()
        let (store, _) = try project.storeWithClips(["a.mp4", "sub/b.mp4", "c.mp4"])
        let text = "\u{FEFF}./a.mp4,run\r\n\r\n\(project.root.path)/sub/b.mp4, jump \r\n\"c.mp4\",\"wave\"\r\na.mp4,run\r\n"
        let report = try store.importCSV(text: text, file: "labels.csv")
        #expect(report == ImportReport(rows: 4, changed: 3, unchanged: 1, addedClips: 0))
        #expect(try store.clips().map { $0.label?.className } == ["run", "wave", "jump"])
    }

    @Test func anyBadRowRejectsTheWholeFileWithLineNumbersAndChangesNothing() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b.mp4", "c.mp4"])
        try store.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 2)
        let exportBefore = try store.exportCSV()
        let historyBefore = try store.recentChanges()
        let clipsBefore = try store.clips()

        let text = """
            path,label
            b.mp4,walk
            a.mp4,dance
            gone.mp4,run
            c.mp4
            ../outside.mp4,run
            b.mp4,spin
            ,run
            c.mp4,
            notes.txt,run
            .actionlab/cache/x.mp4,run
            """
        let error = #expect(throws: LabelImportError.self) { try store.importCSV(text: text, file: "in.csv") }
        #expect(error?.problems.map(\.line) == [3, 4, 5, 6, 7, 8, 9, 10, 11])
        #expect(error?.problems[0].message == "unknown label 'dance' (classes: run, walk, jump, wave, spin)")
        #expect(error?.problems[1].message == "file not found: gone.mp4")
        #expect(error?.problems[2].message == "expected 2 fields (path,label), found 1")
        #expect(error?.problems[3].message.contains("outside the project folder") == true)
        #expect(error?.problems[4].message == "b.mp4 is labelled 'walk' on line 2 and 'spin' here")
        #expect(error?.problems[5].message == "no path")
        #expect(error?.problems[6].message.hasPrefix("no label") == true)
        #expect(error?.problems[7].message.hasPrefix("notes.txt is not a video clip (extensions: avi, m4v") == true)
        #expect(error?.problems[8].message == ".actionlab/cache/x.mp4 is hidden (ActionLab skips names starting with '.')")
        #expect(error?.description.hasPrefix("in.csv: 9 problems, nothing imported\n  line 3: unknown label") == true)

        #expect(try store.exportCSV() == exportBefore)
        #expect(try store.recentChanges() == historyBefore)
        #expect(try store.clips() == clipsBefore)
    }

    @Test func syntaxErrorsAndUnreadableFilesAreReportedByName() throws {
        let project = try TemporaryProject()
        let store = try project.open()
        let error = #expect(throws: LabelImportError.self) { try store.importCSV(text: "a,b\n\"x,y\n", file: "q.csv") }
        #expect(error?.description == "q.csv: 1 problem, nothing imported\n  line 2: quoted field is never closed")
        let missing = project.root.appendingPathComponent("nope.csv")
        #expect(throws: LabelImportError.self) { try store.importCSV(missing) }
        let latin1 = project.root.appendingPathComponent("latin1.csv")
        try Data([0x61, 0xE9, 0xFF, 0x2C, 0x62]).write(to: latin1)
        let notUTF8 = #expect(throws: LabelImportError.self) { try store.importCSV(latin1) }
        #expect(notUTF8?.description.contains("not UTF-8") == true)
    }

    @Test func foldersPipesAndDevicesAreRefusedWithoutReadingThem() throws {
        let project = try TemporaryProject()
        let store = try project.open()
        let folder = project.root.appendingPathComponent("labels.csv")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let isFolder = #expect(throws: LabelImportError.self) { try store.importCSV(folder) }
        #expect(isFolder?.description == "\(folder.path): is a folder, nothing imported")
        // A pipe nobody writes to would block the import forever.
        let pipe = project.root.appendingPathComponent("pipe.csv")
        #expect(mkfifo(pipe.path, 0o644) == 0)
        let isPipe = #expect(throws: LabelImportError.self) { try store.importCSV(pipe) }
        #expect(isPipe?.description == "\(pipe.path): is not a regular file, nothing imported")
        let device = #expect(throws: LabelImportError.self) { try store.importCSV(URL(fileURLWithPath: "/dev/zero")) }
        #expect(device?.description == "/dev/zero: is not a regular file, nothing imported")
    }

    @Test func undoStopsAtAnImport() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["a.mp4", "b.mp4"])
        try store.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 0)
        try store.importCSV(text: "b.mp4,walk\n", file: "x.csv")
        #expect(try store.undo() == nil)
        #expect(try store.clip(path: "a.mp4")?.label?.className == "run")
        try store.setLabel(clipID: clips["a.mp4"]!.id, classIndex: 3)
        #expect(try store.undo()?.newClass == "run")
        #expect(try store.undo() == nil)
    }

    @Test func ucf101ListsUseOneBasedClassIndices() throws {
        let project = try TemporaryProject()
        let (store, clips) = try project.storeWithClips(["v/a.avi", "v/b.avi", "v/c.avi", "v/gone.avi"])
        try store.setLabel(clipID: clips["v/b.avi"]!.id, classIndex: 4)
        try store.setLabel(clipID: clips["v/a.avi"]!.id, classIndex: 0)
        try store.setLabel(clipID: clips["v/gone.avi"]!.id, classIndex: 0)
        try store.markMissing(paths: ["v/gone.avi"])
        let export = try store.exportUCF101()
        #expect(export.classIndex == "1 run\n2 walk\n3 jump\n4 wave\n5 spin\n")
        #expect(export.list == "v/a.avi 1\nv/b.avi 5\n")

        let spacedProject = try TemporaryProject()
        let (spaced, spacedClips) = try spacedProject.storeWithClips(["my clip.avi"])
        try spaced.setLabel(clipID: spacedClips["my clip.avi"]!.id, classIndex: 0)
        #expect(throws: StoreError.unexportable(item: "my clip.avi", reason: "UCF101 lists separate fields by spaces")) {
            try spaced.exportUCF101()
        }
    }
}
