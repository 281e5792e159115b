import ActionStore
import ClipIO
import Foundation
import TestSupport
import Testing
@testable import Training

/// A project folder of fake clip files and a probe that records which files it was asked about.
private final class ScanFixture: @unchecked Sendable {
    let folder: TemporaryFolder
    var root: URL { folder.url }
    let store: ProjectStore
    private let lock = NSLock()
    private var probedPaths: [String] = []

    init() throws {
        folder = try TemporaryFolder()
        store = try ProjectStore.open(ProjectLayout(root: folder.url), user: "tester")
    }

    func write(_ path: String, _ contents: String = "frames") throws { try folder.write(contents, to: path) }

    /// Files whose contents start with "broken" are unreadable; others are 2-second clips.
    var probe: ProjectScanner.Probe {
        { url in
            self.lock.withLock { self.probedPaths.append(url.lastPathComponent) }
            let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            if text.hasPrefix("broken") { return .unreadable("no video stream") }
            return .readable(ClipProbe(codec: "h264", width: 32, height: 24, fps: 25, duration: 2,
                                       frameCount: 50, frameCountIsExact: true))
        }
    }

    func scanner(batchSize: Int = 32) -> ProjectScanner {
        ProjectScanner(store: store, batchSize: batchSize, probe: probe)
    }

    /// The file names probed since the last call.
    func takeProbed() -> [String] {
        lock.withLock {
            defer { probedPaths = [] }
            return probedPaths.sorted()
        }
    }
}

@Suite struct ProjectScannerTests {
    @Test func firstScanProbesClipFilesOnlyAndRecordsUnreadableOnes() throws {
        let fixture = try ScanFixture()
        try fixture.write("run/a.mp4")
        try fixture.write("walk/deeper/b.MOV")
        try fixture.write("c.webm", "broken header")
        try fixture.write("notes.txt")
        try fixture.write(".hidden/d.mp4")
        try fixture.write(".actionlab/cache/e.mp4")

        let summary = try fixture.scanner().scan()
        #expect(fixture.takeProbed() == ["a.mp4", "b.MOV", "c.webm"])
        #expect(summary.files == 3)
        #expect(summary.probed == 3)
        #expect(summary.added == 3)
        #expect(summary.unreadable == 1)

        let clips = try fixture.store.clips()
        #expect(clips.map(\.path) == ["c.webm", "run/a.mp4", "walk/deeper/b.MOV"])
        #expect(clips[0].unreadableReason == "no video stream")
        #expect(clips[1].probe?.frameCount == 50)
        #expect(clips[1].size == 6)
    }

    @Test func rescanProbesOnlyNewAndChangedFilesAndKeepsLabels() throws {
        let fixture = try ScanFixture()
        for name in ["a", "b", "c"] { try fixture.write("\(name).mp4") }
        try fixture.scanner().scan()
        _ = fixture.takeProbed()
        try fixture.store.setLabel(clipID: fixture.store.clip(path: "b.mp4")!.id, classIndex: 2)

        let again = try fixture.scanner().scan()
        #expect(fixture.takeProbed().isEmpty)
        #expect(again.unchanged == 3)
        #expect(again.probed == 0)

        try fixture.write("b.mp4", "broken now, and longer")
        try fixture.write("d.mp4")
        let changed = try fixture.scanner().scan()
        #expect(fixture.takeProbed() == ["b.mp4", "d.mp4"])
        #expect(changed.added == 1)
        let b = try fixture.store.clip(path: "b.mp4")
        #expect(b?.unreadableReason == "no video stream")
        #expect(b?.label?.className == "jump")
    }

    @Test func vanishedClipsAreMarkedMissingAndFoundAgainWithoutProbing() throws {
        let fixture = try ScanFixture()
        try fixture.write("a.mp4")
        try fixture.write("b.mp4")
        try fixture.scanner().scan()
        _ = fixture.takeProbed()
        let saved = fixture.root.appendingPathComponent("saved.bin")
        try FileManager.default.moveItem(at: fixture.root.appendingPathComponent("a.mp4"), to: saved)

        var events: [String] = []
        let gone = try fixture.scanner().scan(onEvent: { event in
            if case let .missingChanged(nowMissing, foundAgain) = event { events.append("\(nowMissing)/\(foundAgain)") }
        })
        #expect(gone.missing == 1)
        #expect(events == [#"["a.mp4"]/[]"#])
        #expect(try fixture.store.clip(path: "a.mp4")?.isMissing == true)

        try FileManager.default.moveItem(at: saved, to: fixture.root.appendingPathComponent("a.mp4"))
        let back = try fixture.scanner().scan()
        #expect(back.foundAgain == 1)
        #expect(fixture.takeProbed().isEmpty)
        #expect(try fixture.store.clip(path: "a.mp4")?.isMissing == false)
    }

    @Test func aCancelledScanKeepsWhatItProbedAndTheNextScanFinishes() throws {
        let fixture = try ScanFixture()
        for index in 0..<10 { try fixture.write("clip\(index).mp4") }
        var asked = 0
        let partial = try fixture.scanner(batchSize: 2).scan(isCancelled: {
            asked += 1
            return asked > 3
        })
        #expect(partial.cancelled)
        #expect(partial.probed == 3)
        #expect(try fixture.store.clips().count == 3)
        _ = fixture.takeProbed()

        let rest = try fixture.scanner().scan()
        #expect(rest.probed == 7)
        #expect(rest.unchanged == 3)
    }

    @Test func backgroundScanReportsProgressInOrder() throws {
        let fixture = try ScanFixture()
        for index in 0..<25 { try fixture.write(String(format: "clip%02d.mp4", index)) }
        let log = EventLog()
        let task = fixture.scanner(batchSize: 10).start { log.append($0) }
        let summary = try task.wait()
        #expect(summary.probed == 25)

        let events = log.events
        guard case let .walked(start) = events.first else {
            Issue.record("first event is not walked: \(events)")
            return
        }
        #expect(start == ScanProgress(probed: 0, toProbe: 25))
        let batches = events.compactMap { event -> ([ClipRecord], ScanProgress)? in
            if case let .recorded(records, progress) = event { return (records, progress) }
            return nil
        }
        #expect(batches.flatMap(\.0).map(\.path) == (0..<25).map { String(format: "clip%02d.mp4", $0) })
        #expect(batches.map(\.1.probed) == batches.map(\.1.probed).sorted())
        #expect(batches.last?.1 == ScanProgress(probed: 25, toProbe: 25))
        guard case let .finished(finished) = events.last else {
            Issue.record("last event is not finished: \(events)")
            return
        }
        #expect(finished == summary)
    }

    @Test func aMissingFolderFailsWithItsName() throws {
        let fixture = try ScanFixture()
        try FileManager.default.removeItem(at: fixture.root)
        let log = EventLog()
        let task = fixture.scanner().start { log.append($0) }
        #expect(throws: ScanError.self) { try task.wait() }
        guard case let .failed(message) = log.events.last else {
            Issue.record("no failed event: \(log.events)")
            return
        }
        #expect(message == "\(fixture.root.path): no such project folder")
    }

    @Test func ffmpegProbeGivesTheReasonWithoutThePath() throws {
        let fixture = try ScanFixture()
        try fixture.write("fake.mp4", "this is text, not a video")
        let outcome = ProjectScanner.probeWithFFmpeg(fixture.root.appendingPathComponent("fake.mp4"))
        guard case let .unreadable(reason) = outcome else {
            Issue.record("a text file probed as a video: \(outcome)")
            return
        }
        #expect(reason == "cannot open: Invalid data found when processing input: moov atom not found")
    }

    @Test func realClipsAreProbedWithFFmpeg() throws {
        let fixture = try ScanFixture()
        let writer = try MP4Writer(url: fixture.root.appendingPathComponent("moving.mp4"), width: 32, height: 24, fps: 12)
        for frame in 0..<12 {
            try writer.append((0..<(32 * 24)).map { UInt8(truncatingIfNeeded: $0 &+ frame * 20) }, channels: 1)
        }
        try writer.finish()
        try fixture.write("truncated.mp4", "broken")

        let summary = try ProjectScanner(store: fixture.store).scan()
        #expect(summary.probed == 2)
        #expect(summary.unreadable == 1)
        let moving = try fixture.store.clip(path: "moving.mp4")
        #expect(moving?.isUsable == true)
        #expect(moving?.probe?.width == 32)
        #expect(moving?.probe?.height == 24)
        #expect(moving?.probe?.fps == 12)
        #expect(moving?.probe?.frameCount == 12)
        let truncated = try fixture.store.clip(path: "truncated.mp4")
        #expect(truncated?.probe == nil)
        #expect(truncated?.unreadableReason?.isEmpty == false)
    }

    /// A clip swapped for a named pipe after the walk: ClipIO refuses it, and the
    /// open-files check made after an unreadable probe does not wait for a writer.
    @Test func aNamedPipeIsProbedWithoutWaiting() throws {
        let fixture = try ScanFixture()
        let pipe = fixture.root.appendingPathComponent("clip.mp4")
        #expect(mkfifo(pipe.path, 0o600) == 0)
        let outcome = ProjectScanner.probeUnlessOutOfFiles(pipe, with: ProjectScanner.probeWithFFmpeg)
        #expect(outcome == .unreadable("is a named pipe, not a video file"))
        #expect(ProjectScanner.openError(pipe) == nil)
    }

    /// The repository's sample-data, copied so the test writes nothing into the checkout:
    /// every clip probes as readable and its labels.csv imports cleanly.
    @Test func sampleDataScansAndItsLabelsImportCleanly() throws {
        let sampleData = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("sample-data")
        let folder = try TemporaryFolder()
        let copy = folder.file("sample-data")
        try FileManager.default.copyItem(at: sampleData, to: copy)
        try? FileManager.default.removeItem(at: copy.appendingPathComponent(".actionlab"))

        let store = try ProjectStore.open(ProjectLayout(root: copy), user: "tester")
        #expect(store.classes.map(\.name) == ["run", "walk", "jump", "wave", "spin"])
        let summary = try ProjectScanner(store: store).scan()
        #expect(summary.files >= 5)
        #expect(summary.unreadable == 0)
        #expect(try store.clips().allSatisfy { $0.isUsable && $0.probe!.frameCount > 0 })

        let report = try store.importCSV(copy.appendingPathComponent("labels.csv"))
        let clips = summary.files
        #expect(report == ImportReport(rows: clips, changed: clips, unchanged: 0, addedClips: 0))
        let counts = try store.labelCounts()
        #expect(counts.clips == clips)
        #expect(counts.labelled == clips)
        #expect(counts.perClass.allSatisfy { $0 > 0 })
        // The synthetic set files each clip under its class's folder.
        #expect(try store.clips().allSatisfy { $0.path.hasPrefix($0.label!.className + "/") })
    }

    /// A project of many clips reopens by walking the folder and comparing stamps only:
    /// nothing is probed again. (Its time is reported by `actionlab bench`, not asserted.)
    @Test func reopeningALargeScannedProjectProbesNothing() throws {
        let fixture = try ScanFixture()
        let count = 500
        for folder in 0..<10 {
            try FileManager.default.createDirectory(at: fixture.root.appendingPathComponent("set\(folder)"),
                                                    withIntermediateDirectories: true)
        }
        for index in 0..<count {
            // Plain open(2): Foundation's file creation is several times slower per file.
            let descriptor = open(fixture.root.appendingPathComponent("set\(index % 10)/clip\(index).mp4").path,
                                  O_CREAT | O_WRONLY | O_TRUNC, 0o644)
            #expect(descriptor >= 0)
            close(descriptor)
        }
        try fixture.scanner(batchSize: 500).scan()
        _ = fixture.takeProbed()
        let reopened = try ProjectStore.open(ProjectLayout(root: fixture.root))
        let summary = try ProjectScanner(store: reopened, probe: fixture.probe).scan()
        #expect(summary.unchanged == count)
        #expect(summary.probed == 0)
        #expect(fixture.takeProbed().isEmpty)
        #expect(try reopened.clips().count == count)
    }
}

private final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [ScanEvent] = []
    func append(_ event: ScanEvent) { lock.withLock { stored.append(event) } }
    var events: [ScanEvent] { lock.withLock { stored } }
}

/// Names and links that a plain walk would skip silently, or list twice.
@Suite struct ScannerEdgeTests {
    /// Creates `name` (raw bytes, any encoding) inside `folder`, a folder when asked.
    private func create(_ name: [UInt8], in folder: URL, folder isFolder: Bool = false) -> Bool {
        let path = Array(folder.path.utf8) + [UInt8(ascii: "/")] + name + [0]
        return path.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: path.count) { cPath in
                if isFolder { return mkdir(cPath, 0o755) == 0 }
                let descriptor = open(cPath, O_CREAT | O_WRONLY, 0o644)
                guard descriptor >= 0 else { return false }
                close(descriptor)
                return true
            }
        }
    }

    @Test func namesThatAreNotUTF8AreListedAsUnreadableWithTheReason() throws {
        let fixture = try ScanFixture()
        try fixture.write("good.mp4")
        #expect(create(Array("bad".utf8) + [0xFF] + Array(".mp4".utf8), in: fixture.root))
        #expect(create(Array("f".utf8) + [0xE9], in: fixture.root, folder: true))
        #expect(create(Array("f".utf8) + [0xE9] + Array("/inside.mp4".utf8), in: fixture.root))

        let summary = try fixture.scanner().scan()
        #expect(fixture.takeProbed() == ["good.mp4"])
        #expect(summary.files == 3)
        #expect(summary.unreadable == 2)
        let clips = try fixture.store.clips()
        #expect(clips.map(\.path) == ["bad\\xFF.mp4", "f\\xE9/inside.mp4", "good.mp4"])
        #expect(clips[0].unreadableReason == "its name is not valid UTF-8 text; rename it to use it")
        #expect(clips[1].unreadableReason == "the name of its folder f\\xE9 is not valid UTF-8 text; rename it to use it")
        #expect(clips[2].isUsable)
        // Unchanged on a second scan: nothing probed, nothing gone missing.
        let again = try fixture.scanner().scan()
        #expect(again.unchanged == 3)
        #expect(again.missing == 0)
    }

    @Test func eachRealFileIsListedOnceAndLinksLeadingOutsideAreUnreadable() throws {
        let fixture = try ScanFixture()
        let outsideFolder = try TemporaryFolder()
        let outside = outsideFolder.url
        try outsideFolder.write("frames", to: "far.mp4")
        try fixture.write("real/a.mp4")
        let link = { (name: String, target: String) in
            try FileManager.default.createSymbolicLink(atPath: fixture.root.appendingPathComponent(name).path,
                                                       withDestinationPath: target)
        }
        try link("alias", fixture.root.appendingPathComponent("real").path)     // a linked folder
        try link("same.mp4", "real/a.mp4")                                      // a second name for a.mp4
        try link("far.mp4", outside.appendingPathComponent("far.mp4").path)
        try link("gone.mp4", "nowhere/x.mp4")

        let summary = try fixture.scanner().scan()
        #expect(fixture.takeProbed() == ["a.mp4"])
        let clips = try fixture.store.clips()
        #expect(clips.map(\.path) == ["far.mp4", "gone.mp4", "real/a.mp4"])
        #expect(clips[0].unreadableReason?.hasPrefix("a symbolic link to \(outside.resolvingSymlinksInPath().path)/far.mp4, "
                                                     + "outside the project folder") == true)
        #expect(clips[1].unreadableReason == "a symbolic link to a file that does not exist")
        #expect(clips[2].isUsable)
        #expect(summary.unreadable == 2)
    }

    /// A folder that cannot be opened is reported, and the clips known in it are not
    /// declared missing. (Its path is longer than the system accepts: unopenable even as root.)
    @Test func aFolderThatCannotBeListedIsReportedAndItsClipsKept() throws {
        let fixture = try ScanFixture()
        try fixture.write("top.mp4")
        let deep = try TooDeepFolder(in: fixture.root)
        let relative = deep.relativePath
        let deepClip = relative + "/deep.mp4"
        try fixture.store.record([ScannedClip(path: deepClip, stamp: FileStamp(size: 1, modified: Date()),
                                              outcome: .unreadable("no video stream"))])

        let summary = try fixture.scanner().scan()
        #expect(summary.unlistedFolders.count == 1)
        let (folder, reason) = try #require(summary.unlistedFolders.first)
        #expect(relative.hasPrefix(folder))
        #expect(reason == String(cString: strerror(ENAMETOOLONG)))
        #expect(summary.missing == 0)
        #expect(try fixture.store.clip(path: deepClip)?.isMissing == false)
        #expect(try fixture.store.clip(path: "top.mp4")?.isUsable == true)
        // Halve the tree so that the fixture can remove both parts by path.
        #expect(deep.splitForRemoval())
    }

    /// A probe that failed because the process had no descriptor left says nothing about
    /// the file: it shows as unreadable with that reason and the next scan probes it again.
    @Test func aClipThatCouldNotBeOpenedForLackOfDescriptorsIsRetried() throws {
        let fixture = try ScanFixture()
        try fixture.write("a.mp4")
        let url = fixture.root.appendingPathComponent("a.mp4")
        let failing: ProjectScanner.Probe = { _ in .unreadable("Too many open files") }
        let outcome = ProjectScanner.probeUnlessOutOfFiles(url, with: failing, openError: { _ in EMFILE })
        guard case let .retryLater(reason) = outcome else {
            Issue.record("expected retryLater, got \(outcome)")
            return
        }
        #expect(reason.contains("ulimit -n"))
        // A file that opens keeps the probe's verdict; so does another open error.
        #expect(ProjectScanner.probeUnlessOutOfFiles(url, with: failing, openError: { _ in nil })
                == .unreadable("Too many open files"))
        #expect(ProjectScanner.probeUnlessOutOfFiles(url, with: failing, openError: { _ in EACCES })
                == .unreadable("Too many open files"))

        let stamp = try #require(ProjectStore.stamp(of: url))
        try fixture.store.record([ScannedClip(path: "a.mp4", stamp: stamp, outcome: outcome)])
        #expect(try fixture.store.clip(path: "a.mp4")?.unreadableReason == reason)
        try fixture.scanner().scan()
        #expect(fixture.takeProbed() == ["a.mp4"])
        #expect(try fixture.store.clip(path: "a.mp4")?.isUsable == true)
    }
}
