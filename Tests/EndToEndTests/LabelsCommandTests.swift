import Foundation
import Testing
import TestSupport

@Suite struct LabelsCommandTests {
    let folder: TemporaryFolder
    var root: URL { folder.url }

    init() throws { folder = try TemporaryFolder() }

    private func write(_ path: String, _ text: String) throws { try folder.write(text, to: path) }

    @Test func importRejectsBadFilesWholeThenAppliesGoodOnesAndExportsThem() throws {
        try write("actionlab.toml", #"classes = ["box", "clap"]"#)
        try write("clips/a.mp4", "x")
        try write("b.mp4", "y")
        try write("bad.csv", "path,label\nclips/a.mp4,box\nb.mp4,dance\ngone.mp4,clap\n")
        try write("good.csv", "path,label\r\nclips/a.mp4,box\r\nb.mp4,clap\r\n")

        let rejected = try ActionLabBinary.run(["labels", "import", root.path, root.path + "/bad.csv"])
        #expect(rejected.status != 0)
        #expect(rejected.stderr.contains("bad.csv: 2 problems, nothing imported"))
        #expect(rejected.stderr.contains("--map dance=CLASS"))
        #expect(rejected.stderr.contains("line 3: unknown label 'dance' (classes: box, clap)"))
        #expect(rejected.stderr.contains("line 4: file not found: gone.mp4"))
        let empty = try ActionLabBinary.run(["labels", "export", root.path])
        #expect(empty.stdout == "path,label\n")

        let imported = try ActionLabBinary.run(["labels", "import", root.path, root.path + "/good.csv"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let exported = try ActionLabBinary.run(["labels", "export", root.path])
        #expect(exported.status == 0)
        #expect(exported.stdout == "path,label\nb.mp4,clap\nclips/a.mp4,box\n")

        let out = root.appendingPathComponent("lists/trainlist01.txt")
        let ucf = try ActionLabBinary.run(["labels", "export", root.path, "--format", "ucf101", "--out", out.path])
        #expect(ucf.status == 0, "\(ucf.stderr)")
        #expect(try String(contentsOf: out, encoding: .utf8) == "b.mp4 2\nclips/a.mp4 1\n")
        let classInd = root.appendingPathComponent("lists/classInd.txt")
        #expect(try String(contentsOf: classInd, encoding: .utf8) == "1 box\n2 clap\n")
    }

    @Test func badProjectFolderOrConfigurationIsOneClearLine() throws {
        let missing = try ActionLabBinary.run(["labels", "export", root.path + "/nowhere"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("nowhere: no such project folder"))

        try write("actionlab.toml", "classes = [\"a\",\n")
        let broken = try ActionLabBinary.run(["labels", "export", root.path])
        #expect(broken.status != 0)
        #expect(broken.stderr.contains(root.appendingPathComponent("actionlab.toml").path + ":"))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(".actionlab").path))
    }

    @Test func importCountsInWordsAndMapsRemovedClasses() throws {
        try write("actionlab.toml", #"classes = ["box", "clap"]"#)
        try write("a.mp4", "x")
        try write("b.mp4", "y")
        try write("one.csv", "a.mp4,box\n")
        let one = try ActionLabBinary.run(["labels", "import", root.path, root.path + "/one.csv"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout.hasPrefix("Imported 1 row from \(root.path)/one.csv: 1 label changed, 0 already set"))

        try write("old.csv", "a.mp4,punch\nb.mp4,punch\n")
        let refused = try ActionLabBinary.run(["labels", "import", root.path, root.path + "/old.csv"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("line 1: unknown label 'punch' on 2 rows (also line 2) (classes: box, clap)"))
        let mapped = try ActionLabBinary.run(["labels", "import", root.path, root.path + "/old.csv", "--map", "punch=box"])
        #expect(mapped.status == 0, "\(mapped.stderr)")
        #expect(mapped.stdout.contains("2 rows"))
        #expect(mapped.stdout.contains("2 labels mapped by --map"))
        let badMap = try ActionLabBinary.run(["labels", "import", root.path, root.path + "/old.csv", "--map", "punch"])
        #expect(badMap.status != 0)
        #expect(badMap.stderr.contains("--map punch: expected OLD=NEW"))
    }

    @Test func synthRefusesAFolderWithAnythingInItUnlessForced() throws {
        try write("actionlab.toml", #"classes = ["box", "clap"]"#)
        try write("labels.csv", "a.mp4,box\n")
        let tiny = ["--per-class", "1", "--frames", "2", "--size", "16"]
        let refused = try ActionLabBinary.run(["synth", root.path] + tiny)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("\(root.path): not empty (actionlab.toml, labels.csv)"))
        #expect(refused.stderr.contains("--force"))
        #expect(try String(contentsOf: root.appendingPathComponent("actionlab.toml"), encoding: .utf8)
                == #"classes = ["box", "clap"]"#)
        #expect(try String(contentsOf: root.appendingPathComponent("labels.csv"), encoding: .utf8) == "a.mp4,box\n")

        let forced = try ActionLabBinary.run(["synth", root.path, "--force"] + tiny)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try String(contentsOf: root.appendingPathComponent("actionlab.toml"), encoding: .utf8).contains("run"))
        let fresh = root.appendingPathComponent("new/deeper")
        let created = try ActionLabBinary.run(["synth", fresh.path] + tiny)
        #expect(created.status == 0, "\(created.stderr)")
    }

    @Test func cacheReportsItsSizeAndClears() throws {
        try write(".actionlab/cache/leftover.frames", "not an entry")
        let shown = try ActionLabBinary.run(["cache", root.path, "--json"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("\"entries\":1"))
        #expect(shown.stdout.contains("\"other_files\":1"))
        #expect(shown.stdout.contains("\"limit_bytes\":2147483648"))
        let cleared = try ActionLabBinary.run(["cache", root.path, "--clear"])
        #expect(cleared.status == 0, "\(cleared.stderr)")
        #expect(cleared.stdout.hasPrefix("Removed 1 entry (12 bytes)"))
        #expect(cleared.stdout.contains("0 entries, 0 bytes of 2.0 GiB"))
    }

    /// A folder the scan cannot open (its path is longer than the system accepts, so
    /// even root cannot) is named on standard error by the commands that scan.
    @Test func trainWarnsOfAFolderItCannotList() throws {
        try write("a.mp4", "x")
        let deep = try TooDeepFolder(in: root)
        // Halve the tree so that the folder can be removed by path.
        defer { deep.splitForRemoval() }
        let train = try ActionLabBinary.run(["train", root.path, "--epochs", "1"])
        #expect(train.stderr.contains(": cannot be listed (\(String(cString: strerror(ENAMETOOLONG)))); "
                                      + "its clips are left as they were"), "\(train.stderr)")
    }

    /// Four commands importing into one new project at once: each waits for the others.
    @Test func simultaneousImportsIntoANewProjectAllSucceed() throws {
        for n in 0..<4 {
            try write("c\(n).mp4", "x")
            try write("l\(n).csv", "c\(n).mp4,run\n")
        }
        // One thread per process, released together so that the four open the new database at once.
        let results = ResultList()
        let start = NSCondition()
        nonisolated(unsafe) var arrived = 0
        let group = DispatchGroup()
        let project = root.path
        for n in 0..<4 {
            group.enter()
            Thread {
                defer { group.leave() }
                start.lock()
                arrived += 1
                if arrived == 4 { start.broadcast() }
                while arrived < 4 { start.wait() }
                start.unlock()
                do {
                    let result = try ActionLabBinary.run(["labels", "import", project, project + "/l\(n).csv"])
                    results.append(result.status == 0 ? nil : "exit \(result.status): \(result.stderr)")
                } catch { results.append("\(error)") }
            }.start()
        }
        group.wait()
        #expect(results.items.count == 4)
        #expect(results.items.compactMap { $0 }.isEmpty, "\(results.items)")
        let exported = try ActionLabBinary.run(["labels", "export", root.path])
        #expect(exported.stdout == "path,label\nc0.mp4,run\nc1.mp4,run\nc2.mp4,run\nc3.mp4,run\n")
    }
}

/// The failures of commands run on several threads, nil for each success.
final class ResultList: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String?] = []
    func append(_ failure: String?) { lock.withLock { storage.append(failure) } }
    var items: [String?] { lock.withLock { storage } }
}
