import CFFmpeg

/// One compressed packet (owns an `AVPacket`). Reused across reads: each read or
/// receive replaces its contents.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() throws(FFmpegError) {
        guard let packet = av_packet_alloc() else {
            throw FFmpegError("cannot allocate a packet", code: cffmpeg_averror_enomem())
        }
        pointer = packet
    }

    deinit {
        var packet: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&packet)
    }

    var streamIndex: Int32 { pointer.pointee.stream_index }

    /// Presentation time in the stream's time base, nil when the container has none.
    var presentationTime: Int64? {
        let pts = pointer.pointee.pts
        return pts == cffmpeg_nopts_value() ? nil : pts
    }

    /// Duration in the stream's time base, nil when unknown.
    var duration: Int64? {
        pointer.pointee.duration > 0 ? pointer.pointee.duration : nil
    }

    /// Drops the data the packet refers to.
    func unref() {
        av_packet_unref(pointer)
    }
}
