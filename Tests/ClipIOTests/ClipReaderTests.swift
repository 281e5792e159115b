@testable import ClipIO
import Foundation
import TestSupport
import Testing

@Suite struct ClipReaderTests {
    let folder: TemporaryFolder
    init() throws { folder = try TemporaryFolder() }

    @Test func readsMetadataOfItsOwnH264Clip() throws {
        let url = try TestClips.indexCoded(folder.file("clip.mp4"), frames: 16, width: 64, height: 48, fps: 8)
        let metadata = try ClipReader(url: url).metadata
        #expect(metadata.codec == "h264")
        #expect(metadata.width == 64 && metadata.height == 48)
        #expect(abs(metadata.fps - 8) < 1e-9)
        #expect(abs(metadata.duration - 2) < 1e-6)
        #expect(metadata.frameCount == 16)
        #expect(metadata.frameCountIsExact)
    }

    @Test func samplesFramesEvenlySpacedOverTheDuration() throws {
        let url = try TestClips.indexCoded(folder.file("clip.mp4"), frames: 16)
        let reader = try ClipReader(url: url)
        let settings = SamplingSettings(frames: 8, height: 12, width: 10, channels: 1)
        let clip = try reader.sampledFrames(settings)
        #expect(clip.shape == [8, 12, 10, 1])
        #expect(clip.pixels.count == 8 * 12 * 10)
        // Sample i shows the frame on screen at (i + 0.5) / 8 of the clip: frame 2i + 1.
        #expect(TestClips.frameMeans(clip).map(TestClips.frameIndex) == [1, 3, 5, 7, 9, 11, 13, 15])
        // The same reader samples again from the start, with other settings.
        let all = try reader.sampledFrames(SamplingSettings(frames: 16, height: 8, width: 8, channels: 1))
        #expect(TestClips.frameMeans(all).map(TestClips.frameIndex) == Array(0..<16))
    }

    @Test func repeatsFramesEvenlyWhenTheClipIsShorterThanT() throws {
        let url = try TestClips.indexCoded(folder.file("three.mp4"), frames: 3)
        let reader = try ClipReader(url: url)
        #expect(reader.metadata.frameCount == 3)
        let clip = try reader.sampledFrames(SamplingSettings(frames: 8, height: 8, width: 8, channels: 1))
        #expect(TestClips.frameMeans(clip).map(TestClips.frameIndex) == [0, 0, 0, 1, 1, 2, 2, 2])
        let doubled = try reader.sampledFrames(SamplingSettings(frames: 6, height: 8, width: 8, channels: 1))
        #expect(TestClips.frameMeans(doubled).map(TestClips.frameIndex) == [0, 0, 1, 1, 2, 2])
    }

    @Test func samplesRGBInChannelOrderAndConvertsToUnitFloats() throws {
        let url = folder.file("red.mp4")
        let writer = try MP4Writer(url: url, width: 32, height: 32, fps: 10, quality: 10)
        var red = [UInt8](repeating: 0, count: 32 * 32 * 3)
        for pixel in 0..<(32 * 32) { red[pixel * 3] = 220 }
        for _ in 0..<5 { try writer.append(red, channels: 3) }
        try writer.finish()
        let clip = try ClipReader(url: url).sampledFrames(SamplingSettings(frames: 2, height: 4, width: 4, channels: 3))
        #expect(clip.shape == [2, 4, 4, 3])
        let pixel = Array(clip.pixels[0..<3])
        #expect(abs(Int(pixel[0]) - 220) < 12 && pixel[1] < 20 && pixel[2] < 20, "got \(pixel)")
        let floats = clip.floats()
        #expect(floats.count == clip.pixels.count)
        #expect(floats.allSatisfy { (0...1).contains($0) })
        #expect(abs(floats[0] - Float(pixel[0]) / 255) < 1e-6)
    }

    @Test func showsTheFrameOnScreenAtAGivenTime() throws {
        let url = try TestClips.indexCoded(folder.file("clip.mp4"), frames: 16, fps: 8)
        let reader = try ClipReader(url: url)
        for (seconds, expected) in [(0.0, 0), (0.9, 7), (1.3, 10), (0.5, 4), (5.0, 15)] {
            let preview = try reader.frame(at: seconds, width: 20, height: 10)
            #expect(preview.width == 20 && preview.height == 10 && preview.rgb.count == 20 * 10 * 3)
            let mean = Double(preview.rgb.reduce(0) { $0 + Int($1) }) / Double(preview.rgb.count)
            #expect(TestClips.frameIndex(ofLevel: mean) == expected, "at \(seconds) s")
            #expect(abs(preview.timestamp - Double(expected) / 8) < 1e-6)
        }
    }

    @Test func mixesSeeksAndSamplingOnOneReader() throws {
        let url = try TestClips.indexCoded(folder.file("clip.mp4"), frames: 16, fps: 8)
        let reader = try ClipReader(url: url)
        let settings = SamplingSettings(frames: 4, height: 8, width: 8, channels: 1)
        _ = try reader.frame(at: 1.6, width: 8, height: 8)
        #expect(TestClips.frameMeans(try reader.sampledFrames(settings)).map(TestClips.frameIndex) == [2, 6, 10, 14])
        _ = try reader.previewFrames(width: 8, height: 8, maxFrames: 3)
        let preview = try reader.frame(at: 0.25, width: 8, height: 8)
        #expect(abs(preview.timestamp - 0.25) < 1e-6)
        #expect(TestClips.frameMeans(try reader.sampledFrames(settings)).map(TestClips.frameIndex) == [2, 6, 10, 14])
    }

    @Test func readsTheSampleData() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sample-data")
        let labels = try String(contentsOf: root.appendingPathComponent("labels.csv"), encoding: .utf8)
        let rows = labels.split(separator: "\n").dropFirst()
        #expect(rows.count == 50)
        for label in SyntheticAction.allCases.map(\.rawValue) {
            #expect(rows.filter { $0.hasSuffix(",\(label)") }.count == 10)
        }
        let first = String(rows.first!.split(separator: ",")[0])
        let reader = try ClipReader(url: root.appendingPathComponent(first))
        #expect(reader.metadata == ClipMetadata(codec: "h264", width: 96, height: 96, fps: 24, duration: 2,
                                               frameCount: 48, frameCountIsExact: true))
    }

    @Test func decodesFramesInOrderForPlayback() throws {
        let url = try TestClips.indexCoded(folder.file("clip.mp4"), frames: 12, fps: 8)
        let reader = try ClipReader(url: url)
        let frames = try reader.previewFrames(width: 16, height: 12, maxFrames: 100)
        #expect(frames.count == 12)
        #expect(frames.map(\.timestamp) == (0..<12).map { Double($0) / 8 })
        let levels = frames.map { frame in
            TestClips.frameIndex(ofLevel: Double(frame.rgb.reduce(0) { $0 + Int($1) }) / Double(frame.rgb.count))
        }
        #expect(levels == Array(0..<12))
        #expect(try reader.previewFrames(width: 16, height: 12, maxFrames: 5).count == 5)
    }

    @Test(arguments: [
        ("webm", "vp9", ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "20"]),
        ("avi", "mjpeg", ["-c:v", "mjpeg", "-q:v", "2"]),
        ("mkv", "mpeg4", ["-c:v", "mpeg4", "-q:v", "2"]),
    ])
    func readsOtherContainersAndCodecs(container: String, codec: String, options: [String]) throws {
        let source = try TestClips.indexCoded(folder.file("source.mp4"), frames: 16, fps: 8)
        let url = folder.file("clip.\(container)")
        try TestClips.ffmpeg(["-i", source.path] + options + [url.path])
        let reader = try ClipReader(url: url)
        #expect(reader.metadata.codec == codec)
        #expect(reader.metadata.width == 64 && reader.metadata.height == 48)
        #expect(abs(reader.metadata.fps - 8) < 0.01)
        #expect(abs(reader.metadata.duration - 2) < 0.1)
        #expect(abs(reader.metadata.frameCount - 16) <= 1)
        let clip = try reader.sampledFrames(SamplingSettings(frames: 8, height: 8, width: 8, channels: 1))
        #expect(TestClips.frameMeans(clip).map(TestClips.frameIndex) == [1, 3, 5, 7, 9, 11, 13, 15])
    }

    @Test func rejectsSettingsItCannotSample() throws {
        let url = try TestClips.indexCoded(folder.file("clip.mp4"), frames: 4)
        let reader = try ClipReader(url: url)
        let error = #expect(throws: ClipIOError.self) {
            try reader.sampledFrames(SamplingSettings(frames: 4, height: 8, width: 8, channels: 2))
        }
        #expect(error?.description.contains("channels must be 1 (gray) or 3 (RGB)") == true)
        #expect(error?.path == url.relativePath)
    }
}
