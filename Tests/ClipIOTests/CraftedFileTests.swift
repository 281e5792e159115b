@testable import ClipIO
import Foundation
import TestSupport
import Testing

/// Small files whose headers lie, or that are not files at all: each gives a
/// `ClipIOError` naming the file and the problem, never a trap, a hang, a huge
/// allocation or another file's pictures.
@Suite struct CraftedFileTests {
    let folder: TemporaryFolder
    init() throws { folder = try TemporaryFolder() }

    /// The error opening `url` gives, nil when it opens.
    func openingError(_ url: URL) -> ClipIOError? {
        do {
            _ = try ClipReader(url: url)
            return nil
        } catch {
            #expect(error.path == url.relativePath)
            return error
        }
    }

    /// `bytes` with the first `marker` followed by `replacement` in place of what followed it.
    func patched(_ bytes: Data, after marker: [UInt8], with replacement: [UInt8]) throws -> Data {
        let found = try #require(bytes.firstRange(of: Data(marker)))
        var result = bytes
        result.replaceSubrange(found.upperBound ..< found.upperBound + replacement.count, with: replacement)
        return result
    }

    func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

    /// A 1.3 KB Matroska file of three MJPEG frames whose header claims 9.2e12 s, with
    /// timestamps one nanosecond apart (1e9 fps): duration x fps is beyond any Int.
    @Test func matroskaClaimingAnEndlessDurationAtAGigahertzRate() throws {
        let plain = folder.file("plain.mkv")
        try TestClips.ffmpeg(["-f", "lavfi", "-i", "color=c=gray:s=16x16:r=8", "-frames:v", "3", "-c:v", "mjpeg", plain.path])
        var bytes = try Data(contentsOf: plain)
        // TimestampScale (ID 0x2AD7B1, 3 bytes): 1 ns. Duration (ID 0x4489, an 8-byte
        // float in those units): 9.2e21 ns. DefaultDuration (ID 0x23E383): none.
        bytes = try patched(bytes, after: [0x2A, 0xD7, 0xB1, 0x83], with: [0, 0, 1])
        bytes = try patched(bytes, after: [0x44, 0x89, 0x88], with: withUnsafeBytes(of: (9.2e21).bitPattern.bigEndian, Array.init))
        bytes = try patched(bytes, after: [0x23, 0xE3, 0x83, 0x84], with: bigEndian(0))
        // Each SimpleBlock (0xA3, a size of 1 to 8 bytes, track 0x81, a 16-bit time) one tick after the last.
        let cluster = try #require(bytes.firstRange(of: Data([0x1F, 0x43, 0xB6, 0x75])))
        var tick: UInt8 = 0
        var index = cluster.upperBound
        while index + 5 < bytes.count {
            let sizeLength = bytes[index + 1].leadingZeroBitCount + 1
            if bytes[index] == 0xA3, sizeLength <= 2, index + sizeLength + 4 < bytes.count,
               bytes[index + 1 + sizeLength] == 0x81 {
                bytes[index + 2 + sizeLength] = 0
                bytes[index + 3 + sizeLength] = tick
                tick += 1
            }
            index += 1
        }
        #expect(tick == 3)
        let url = folder.file("endless.mkv")
        try bytes.write(to: url)
        #expect(bytes.count < 2000)
        let error = try #require(openingError(url))
        #expect(error.reason == "the header claims a duration of 9.2e+12 s (at most 86400 s is accepted)")
    }

    /// An MP4 of one frame whose sample tables claim 50 million frames of one byte.
    @Test func mp4ClaimingFiftyMillionFrames() throws {
        let plain = folder.file("one.mp4")
        // One frame, so that the tables hold one entry each.
        try TestClips.ffmpeg(["-f", "lavfi", "-i", "color=c=gray:s=16x16:r=8", "-frames:v", "1", "-c:v", "libx264",
                              "-movflags", "+faststart", plain.path])
        var bytes = try Data(contentsOf: plain)
        let claimed: UInt32 = 50_000_000
        // stsz: version and flags, sample size, sample count; stts: version and flags,
        // entry count, then the first run's count; stsc: ..., the first chunk's samples.
        bytes = try patched(bytes, after: Array("stsz".utf8), with: [0, 0, 0, 0] + bigEndian(1) + bigEndian(claimed))
        bytes = try patched(bytes, after: Array("stts".utf8), with: [0, 0, 0, 0] + bigEndian(1) + bigEndian(claimed))
        bytes = try patched(bytes, after: Array("stsc".utf8), with: [0, 0, 0, 0] + bigEndian(1) + bigEndian(1) + bigEndian(claimed))
        let url = folder.file("fifty-million.mp4")
        try bytes.write(to: url)
        let error = try #require(openingError(url))
        #expect(error.reason == "its sample tables claim 50000000 frames, more than a file of \(bytes.count) bytes can hold")
        // The unpatched file is fine.
        #expect(openingError(plain) == nil)
    }

    /// An HLS playlist named .mp4 that names a clip elsewhere by absolute path.
    @Test func playlistNamingAnotherFile() throws {
        let elsewhere = try TemporaryFolder()
        let other = try TestClips.indexCoded(elsewhere.file("private.mp4"), frames: 4)
        let url = folder.file("clip.mp4")
        try Data("""
            #EXTM3U
            #EXT-X-TARGETDURATION:1
            #EXTINF:1,
            file:\(other.path)
            #EXT-X-ENDLIST

            """.utf8).write(to: url)
        let error = try #require(openingError(url))
        #expect(error.reason == "cannot open: its format (hls) is not an accepted video container "
                + "(accepted: MP4/MOV, Matroska/WebM, AVI, MPEG-PS, MPEG-TS)")
    }

    @Test func concatScriptIsRefused() throws {
        let other = try TestClips.indexCoded(folder.file("a.mp4"), frames: 4)
        let url = folder.file("joined.mp4")
        try Data("ffconcat version 1.0\nfile '\(other.path)'\n".utf8).write(to: url)
        #expect(openingError(url)?.reason.contains("is not an accepted video container") == true)
    }

    @Test func namedPipeIsRefusedWithoutOpeningIt() throws {
        let url = folder.file("pipe.mp4")
        #expect(mkfifo(url.path, 0o600) == 0)
        #expect(openingError(url)?.reason == "is a named pipe, not a video file")
    }

    @Test func deviceIsRefused() throws {
        let url = folder.file("zero.mp4")
        try FileManager.default.createSymbolicLink(at: url, withDestinationURL: URL(fileURLWithPath: "/dev/zero"))
        #expect(openingError(url)?.reason == "is a device or socket, not a video file")
    }

    @Test func colonInAFileNameIsNotAProtocol() throws {
        let url = try TestClips.indexCoded(folder.file("subfile:clip.mp4"), frames: 4)
        #expect(openingError(url) == nil)
    }

    /// FFmpeg's interrupt callback ends a call once its time limit has passed.
    @Test func callsRunUnderATimeLimit() throws {
        let url = try TestClips.indexCoded(folder.file("clip.mp4"), frames: 4)
        #expect(throws: Never.self) { _ = try InputFile(path: url.path) }
        do {
            _ = try InputFile(path: url.path, timeLimit: 0)
            Issue.record("opened although its time limit had passed")
        } catch {
            #expect(error.message == "cannot open: gave up after 0 s")
        }
    }

    @Test func clipMetadataBounds() {
        let plausible = ClipMetadata(codec: "h264", width: 64, height: 48, fps: 25, duration: 2,
                                     frameCount: 50, frameCountIsExact: true)
        #expect(ClipLimits.problem(with: plausible, fileSize: 5000) == nil)
        var metadata = plausible
        metadata.duration = .nan
        #expect(ClipLimits.problem(with: metadata, fileSize: nil)?.contains("duration of nan s") == true)
        metadata = plausible
        metadata.fps = 1e6
        #expect(ClipLimits.problem(with: metadata, fileSize: nil)?.contains("1e+06 frames per second") == true)
        metadata = plausible
        metadata.frameCount = 6000
        #expect(ClipLimits.problem(with: metadata, fileSize: 5000)?.contains("more than a file of 5000 bytes") == true)
        metadata = plausible
        metadata.width = 20_000
        #expect(ClipLimits.problem(with: metadata, fileSize: nil) == "the picture size 20000x48 is beyond 16384x16384")
        #expect(ClipLimits.wholeNumber(1e19, in: 0...Int.max) == nil)
        #expect(ClipLimits.wholeNumber(.infinity, in: 0...Int64.max) == nil)
        #expect(ClipLimits.wholeNumber(41.6, in: 0...Int.max) == 42)
    }

    /// T x H x W x C within each bound, but together far more than memory.
    @Test func sampleLargerThanMemoryIsRefusedWithItsNumbers() throws {
        let huge = SamplingSettings(frames: 10_000, height: 8192, width: 8192, channels: 3)
        let problem = try #require(huge.problem)
        #expect(problem.hasPrefix("a sample of 10000 x 8192 x 8192 x 3 values takes 8053.06 GB as network input"))
        #expect(SamplingSettings.seedStack.problem == nil)
        let url = try TestClips.indexCoded(folder.file("clip.mp4"), frames: 4)
        #expect(throws: ClipIOError.self) { _ = try ClipReader(url: url).sampledFrames(huge) }
    }
}
