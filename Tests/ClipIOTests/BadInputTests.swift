@testable import ClipIO
import Foundation
import TestSupport
import Testing

/// Every kind of bad input gives frames (where FFmpeg can decode any) or a
/// `ClipIOError` naming the file; never a crash or a hang.
@Suite struct BadInputTests {
    let folder: TemporaryFolder
    init() throws { folder = try TemporaryFolder() }

    let settings = SamplingSettings(frames: 8, height: 16, width: 16, channels: 1)

    /// Opens and samples `url`; returns the error, or nil when it gave frames.
    func outcome(_ url: URL) -> ClipIOError? {
        do {
            let reader = try ClipReader(url: url)
            let clip = try reader.sampledFrames(settings)
            #expect(clip.shape == [8, 16, 16, 1])
            _ = try reader.frame(at: reader.metadata.duration / 2, width: 8, height: 8)
            return nil
        } catch {
            #expect(error.path == url.relativePath)
            #expect(error.description.hasPrefix(url.relativePath + ": "))
            #expect(!error.reason.isEmpty)
            return error
        }
    }

    /// A clip with the index in the moov box at the front, so damage further in
    /// leaves the index readable.
    func fastStartClip(frames: Int = 24) throws -> URL {
        let plain = folder.file("plain.mp4")
        let writer = try MP4Writer(url: plain, width: 64, height: 64, fps: 8, quality: 20)
        var generator = SplitMix64(seed: 11)
        // Noise, so that the picture data outweighs the index.
        for _ in 0..<frames {
            try writer.append((0..<(64 * 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }, channels: 1)
        }
        try writer.finish()
        let url = folder.file("faststart.mp4")
        try TestClips.ffmpeg(["-i", plain.path, "-c", "copy", "-movflags", "+faststart", url.path])
        return url
    }

    @Test func missingFile() {
        #expect(outcome(folder.file("absent.mp4"))?.reason == "no such file")
    }

    @Test func folderInsteadOfFile() {
        #expect(outcome(folder.url)?.reason == "is a folder, not a video file")
    }

    @Test func zeroByteFile() throws {
        let url = folder.file("empty.mp4")
        try Data().write(to: url)
        #expect(outcome(url)?.reason.contains("empty file") == true)
    }

    @Test func textNamedMP4() throws {
        let url = folder.file("notes.mp4")
        try Data("These are my notes, not a video.\n".utf8).write(to: url)
        #expect(outcome(url)?.reason.contains("cannot open: Invalid data found when processing input") == true)
    }

    @Test func randomBytes() throws {
        var generator = SplitMix64(seed: 7)
        for size in [100, 4096, 200_000] {
            let url = folder.file("random-\(size).mp4")
            try Data((0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }).write(to: url)
            // What FFmpeg guessed the format to be varies with the bytes; that it cannot read them does not.
            #expect(outcome(url)?.reason.hasPrefix("cannot open: Invalid data found when processing input") == true,
                    "\(size) random bytes")
        }
    }

    @Test func truncatedInsideTheHeader() throws {
        let plain = try TestClips.indexCoded(folder.file("plain.mp4"), frames: 8)
        let bytes = try Data(contentsOf: plain)
        let url = folder.file("header-cut.mp4")
        try bytes.prefix(20).write(to: url)
        #expect(outcome(url)?.reason == "cannot open: Invalid data found when processing input: moov atom not found")
        let fastStart = try Data(contentsOf: fastStartClip())
        let inMoov = folder.file("moov-cut.mp4")
        try fastStart.prefix(300).write(to: inMoov)
        // The index is cut inside its video track: what is left describes no video.
        #expect(outcome(inMoov)?.reason == "no video stream (only data none)")
    }

    @Test func truncatedHalfway() throws {
        // Index at the end (what MP4Writer and most cameras write): the index is lost.
        let plain = try TestClips.indexCoded(folder.file("plain.mp4"), frames: 24, quality: 20)
        let bytes = try Data(contentsOf: plain)
        let cut = folder.file("half.mp4")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        #expect(outcome(cut)?.reason.contains("moov atom not found") == true)
        // Index at the front: the first half of the frames still decode.
        let fastStart = try Data(contentsOf: fastStartClip())
        let cutFastStart = folder.file("half-faststart.mp4")
        try fastStart.prefix(fastStart.count / 2).write(to: cutFastStart)
        #expect(outcome(cutFastStart) == nil)
    }

    @Test func bytesFlipped() throws {
        var bytes = try Data(contentsOf: fastStartClip())
        var generator = SplitMix64(seed: 3)
        // Damage the picture data (the second half of the file), one byte in 40.
        for index in stride(from: bytes.count / 2, to: bytes.count, by: 40) {
            bytes[index] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
        }
        let url = folder.file("flipped.mp4")
        try bytes.write(to: url)
        #expect(outcome(url) == nil, "damaged picture data still decodes to frames")
        // Damage everywhere, the header included.
        for index in stride(from: 0, to: bytes.count, by: 7) { bytes[index] ^= 0x5A }
        try bytes.write(to: url)
        #expect(outcome(url)?.reason == "cannot open: Invalid data found when processing input: moov atom not found")
    }

    @Test func audioOnlyMP4() throws {
        let url = folder.file("audio.mp4")
        try TestClips.ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=0.5", "-c:a", "aac", url.path])
        #expect(outcome(url)?.reason == "no video stream (only audio aac)")
    }

    @Test func audioWithACoverPicture() throws {
        let cover = folder.file("cover.png")
        try TestClips.ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x64", "-frames:v", "1", cover.path])
        let url = folder.file("song.m4a")
        try TestClips.ffmpeg(["-f", "lavfi", "-i", "sine=duration=0.5", "-i", cover.path, "-map", "0", "-map", "1",
                              "-c:a", "aac", "-c:v", "mjpeg", "-disposition:v", "attached_pic", url.path])
        #expect(outcome(url)?.reason == "no video stream (only audio aac, video mjpeg cover picture)")
    }

    @Test func audioContainerIsRefusedBeforeItsStreamsAreRead() throws {
        let url = folder.file("song.mp3")
        try TestClips.ffmpeg(["-f", "lavfi", "-i", "sine=duration=0.5", "-c:a", "libmp3lame", url.path])
        #expect(outcome(url)?.reason == "cannot open: its format (mp3) is not an accepted video container "
                + "(accepted: MP4/MOV, Matroska/WebM, AVI, MPEG-PS, MPEG-TS)")
    }

    @Test func fourKClip() throws {
        let url = folder.file("4k.mp4")
        try TestClips.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=3840x2160:rate=10", "-frames:v", "3",
                              "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", url.path])
        let reader = try ClipReader(url: url)
        #expect(reader.metadata.width == 3840 && reader.metadata.height == 2160)
        #expect(outcome(url) == nil)
    }

    @Test func oddSized444Clip() throws {
        let url = folder.file("odd444.mp4")
        try TestClips.ffmpeg(["-f", "lavfi", "-i", "testsrc=size=97x61:rate=10", "-frames:v", "10",
                              "-c:v", "libx264", "-pix_fmt", "yuv444p", url.path])
        let reader = try ClipReader(url: url)
        #expect(reader.metadata.width == 97 && reader.metadata.height == 61)
        #expect(outcome(url) == nil)
        let rgb = try reader.sampledFrames(SamplingSettings(frames: 4, height: 61, width: 97, channels: 3))
        #expect(rgb.pixels.count == 4 * 61 * 97 * 3)
        #expect(rgb.mean > 0.05)
    }

    @Test func threeFrameClip() throws {
        let url = try TestClips.indexCoded(folder.file("three.mp4"), frames: 3)
        #expect(outcome(url) == nil)
    }
}
