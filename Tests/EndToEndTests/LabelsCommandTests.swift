import Foundation
import Testing
import TestSupport

@Suite struct LabelsCommandTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("labels-cli-\(UUID().uuidString)")

    private func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    @Test func importRejectsBadFilesWholeThenAppliesGoodOnesAndExportsThem() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try write("actionlab.toml", #"classes = ["box", "clap"]"#)
        try write("clips/a.mp4", "x")
        try write("b.mp4", "y")
        try write("bad.csv", "path,label\nclips/a.mp4,box\nb.mp4,dance\ngone.mp4,clap\n")
        try write("good.csv", "path,label\r\nclips/a.mp4,box\r\nb.mp4,clap\r\n")

        let rejected = try ActionLabBinary.run(["labels", "import", root.path, root.path + "/bad.csv"])
        #expect(rejected.status != 0)
        #expect(rejected.stderr.contains("bad.csv: 2 problems, nothing imported"))
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
        defer { try? FileManager.default.removeItem(at: root) }
        let missing = try ActionLabBinary.run(["labels", "export", root.path + "/nowhere"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("nowhere: no such project folder"))

        try write("actionlab.toml", "classes = [\"a\",\n")
        let broken = try ActionLabBinary.run(["labels", "export", root.path])
        #expect(broken.status != 0)
        #expect(broken.stderr.contains(root.appendingPathComponent("actionlab.toml").path + ":"))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(".actionlab").path))
    }
}
