import CFFmpeg

/// A muxer writing one media file (owns an `AVFormatContext` and its `AVIOContext`).
final class OutputFile {
    let context: UnsafeMutablePointer<AVFormatContext>
    private var headerWritten = false
    private var trailerWritten = false

    /// Creates `path` for writing in container `format` (e.g. "mp4").
    init(path: String, format: String) throws(FFmpegError) {
        var allocated: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&allocated, nil, format, path), "cannot create a \(format) file")
        guard let allocated else { throw FFmpegError("cannot create a \(format) file") }
        // Leave the FFmpeg version out of the file so the same frames give the same bytes.
        allocated.pointee.flags |= AVFMT_FLAG_BITEXACT
        if allocated.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 {
            let status = avio_open(&allocated.pointee.pb, path, AVIO_FLAG_WRITE)
            if status < 0 {
                avformat_free_context(allocated)
                throw FFmpegError("cannot create the file", code: status)
            }
        }
        context = allocated
    }

    deinit {
        if headerWritten && !trailerWritten { av_write_trailer(context) }
        if context.pointee.pb != nil { avio_closep(&context.pointee.pb) }
        avformat_free_context(context)
    }

    /// True when the container wants codec headers once, in the stream parameters.
    var wantsGlobalHeader: Bool { context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 }

    /// Adds a stream described by the opened `encoder`; returns it.
    func addStream(for encoder: Encoder) throws(FFmpegError) -> UnsafeMutablePointer<AVStream> {
        guard let stream = avformat_new_stream(context, nil) else {
            throw FFmpegError("cannot add a stream", code: cffmpeg_averror_enomem())
        }
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder.context),
                  "cannot describe the stream")
        stream.pointee.time_base = encoder.context.pointee.time_base
        return stream
    }

    func writeHeader() throws(FFmpegError) {
        try check(avformat_write_header(context, nil), "cannot write the file header")
        headerWritten = true
    }

    /// Writes `packet` (timestamps already in its stream's time base); takes its data.
    func write(_ packet: Packet) throws(FFmpegError) {
        try check(av_interleaved_write_frame(context, packet.pointer), "cannot write a packet")
    }

    func writeTrailer() throws(FFmpegError) {
        trailerWritten = true
        try check(av_write_trailer(context), "cannot finish the file")
    }
}
