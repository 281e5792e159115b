@testable import ClipIO
import CFFmpeg
import Testing

@Test func ffmpegMessagesAreFFmpegsOwn() {
    #expect(ffmpegMessage(cffmpeg_averror_invalid_data()).contains("Invalid data"))
}
