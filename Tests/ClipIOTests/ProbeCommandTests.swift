import ClipIO
import Foundation
import Testing
import TestSupport

/// `actionlab probe`, run as a user would.
@Suite struct ProbeCommandTests {
    let folder: TemporaryFolder
    init() throws { folder = try TemporaryFolder() }

    @Test func reportsMetadataShapeAndMeanPerFile() throws {
        try TestClips.indexCoded(folder.file("clip.mp4"), frames: 16, width: 64, height: 48, fps: 8)
        let result = try ActionLabBinary.run(["probe", "clip.mp4", "--frames", "4", "--size", "8"],
                                             currentDirectory: folder.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("clip.mp4: h264 64x48, 8 fps, 2.00 s, 16 frames; sampled (4, 8, 8, 1) mean 0."))
        #expect(result.stderr.isEmpty)
    }

    @Test func badFilesGetOneLineAndExitStatusOne() throws {
        try TestClips.indexCoded(folder.file("good.mp4"), frames: 4)
        try Data("not a video".utf8).write(to: folder.file("notes.mp4"))
        let result = try ActionLabBinary.run(["probe", "good.mp4", "notes.mp4", "missing.mp4"],
                                             currentDirectory: folder.url)
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("good.mp4: h264"))
        #expect(result.stderr.split(separator: "\n") == [
            "notes.mp4: cannot open: Invalid data found when processing input: moov atom not found",
            "missing.mp4: no such file",
        ])
    }

    @Test func refusesASampleLargerThanMemoryBeforeOpeningAnything() throws {
        try TestClips.indexCoded(folder.file("clip.mp4"), frames: 4)
        let result = try ActionLabBinary.run(["probe", "clip.mp4", "--frames", "10000", "--size", "8192", "--channels", "3"],
                                             currentDirectory: folder.url)
        #expect(result.status != 0)
        #expect(result.stderr.contains("a sample of 10000 x 8192 x 8192 x 3 values takes 8053.06 GB as network input"),
                "\(result.stderr)")
    }

    @Test func printsJSON() throws {
        try TestClips.indexCoded(folder.file("clip.mp4"), frames: 6, width: 32, height: 32, fps: 6)
        let result = try ActionLabBinary.run(["probe", "clip.mp4", "missing.mp4", "--json", "--frames", "3",
                                              "--size", "16", "--channels", "3"], currentDirectory: folder.url)
        #expect(result.status == 1)
        let reports = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        #expect(reports?.count == 2)
        #expect(reports?[0]["shape"] as? [Int] == [3, 16, 16, 3])
        let metadata = reports?[0]["metadata"] as? [String: Any]
        #expect(metadata?["codec"] as? String == "h264")
        #expect(metadata?["frameCount"] as? Int == 6)
        #expect(reports?[1]["error"] as? String == "no such file")
    }
}

/// `actionlab bench --decode` runs and reports (its figures are not checked: they are timings).
@Test func benchDecodeReportsClipsPerSecond() throws {
    let folder = try TemporaryFolder()
    try TestClips.indexCoded(folder.file("clip.mp4"), frames: 8, width: 32, height: 32)
    let result = try ActionLabBinary.run(["bench", "--decode", "clip.mp4", "--decode-frames", "4", "--decode-size", "16",
                                          "--seconds", "0.01"], currentDirectory: folder.url)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("ActionLab decode+sample+scale to 4x16x16 gray"))
    #expect(result.stdout.contains("cache hit is"))
    #expect(result.stdout.contains("ffmpeg command line, its own rtime"))
    let missing = try ActionLabBinary.run(["bench", "--decode", "missing.mp4"], currentDirectory: folder.url)
    #expect(missing.status != 0 && missing.stderr.contains("missing.mp4: no such file"))
}
