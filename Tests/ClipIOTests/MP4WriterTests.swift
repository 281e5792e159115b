@testable import ClipIO
import CFFmpeg
import Foundation
import TestSupport
import Testing

@Suite struct MP4WriterTests {
    let folder: TemporaryFolder
    init() throws { folder = try TemporaryFolder() }

    @Test func prefersLibx264() throws {
        let writer = try MP4Writer(url: folder.file("clip.mp4"), width: 16, height: 16)
        #expect(writer.codecName == "libx264")
        try writer.finish()
    }

    @Test func fallsBackToMPEG4Part2() throws {
        let url = folder.file("mpeg4.mp4")
        let writer = try MP4Writer(url: url, width: 32, height: 32, fps: 8, quality: 10,
                                   encoders: [avcodec_find_encoder(AV_CODEC_ID_MPEG4)!])
        #expect(writer.codecName == "mpeg4")
        for index in 0..<6 {
            try writer.append([UInt8](repeating: TestClips.level(ofFrame: index), count: 32 * 32), channels: 1)
        }
        try writer.finish()
        let reader = try ClipReader(url: url)
        #expect(reader.metadata.codec == "mpeg4" && reader.metadata.frameCount == 6)
        let clip = try reader.sampledFrames(SamplingSettings(frames: 6, height: 8, width: 8, channels: 1))
        #expect(TestClips.frameMeans(clip).map(TestClips.frameIndex) == Array(0..<6))
    }

    @Test func rejectsWhatYUV420CannotHold() {
        let odd = #expect(throws: ClipIOError.self) { try MP4Writer(url: folder.file("odd.mp4"), width: 15, height: 16) }
        #expect(odd?.reason.contains("sides must be even") == true)
        #expect(throws: ClipIOError.self) {
            let writer = try MP4Writer(url: folder.file("short.mp4"), width: 16, height: 16)
            try writer.append([1, 2, 3], channels: 1)
        }
    }

    @Test func cannotWriteIntoAMissingFolder() {
        let error = #expect(throws: ClipIOError.self) {
            try MP4Writer(url: folder.file("no/such/folder/clip.mp4"), width: 16, height: 16)
        }
        #expect(error?.reason.contains("No such file or directory") == true)
    }
}
