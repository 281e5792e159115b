import CFFmpeg

/// A video decoder for one stream (owns an `AVCodecContext`).
final class Decoder {
    let context: UnsafeMutablePointer<AVCodecContext>

    /// What `receive(into:)` produced.
    enum Output {
        case frame
        /// The decoder wants more packets before it can give a frame.
        case needsInput
        /// Everything sent has been decoded and returned.
        case endOfStream
    }

    /// Opens a decoder for `stream`, using `threads` threads where the codec can.
    init(stream: UnsafeMutablePointer<AVStream>, threads: Int) throws(FFmpegError) {
        let parameters = stream.pointee.codecpar!
        let codecID = parameters.pointee.codec_id
        guard let codec = avcodec_find_decoder(codecID) else {
            throw FFmpegError("no decoder for codec \(String(cString: avcodec_get_name(codecID)))", logged: nil)
        }
        guard let allocated = avcodec_alloc_context3(codec) else {
            throw FFmpegError("cannot allocate a decoder", code: cffmpeg_averror_enomem())
        }
        var context: UnsafeMutablePointer<AVCodecContext>? = allocated
        do {
            try check(avcodec_parameters_to_context(allocated, parameters), "cannot configure the decoder")
            allocated.pointee.pkt_timebase = stream.pointee.time_base
            allocated.pointee.thread_count = Int32(threads)
            allocated.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
            try check(avcodec_open2(allocated, codec, nil),
                      "cannot open the \(String(cString: codec.pointee.name)) decoder")
        } catch {
            avcodec_free_context(&context)
            throw error
        }
        self.context = allocated
    }

    deinit {
        var toFree: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&toFree)
    }

    /// Which frames the decoder may drop without decoding. Read by the decoder for
    /// each packet sent, so it can change from one packet to the next.
    var skipFrame: AVDiscard {
        get { context.pointee.skip_frame }
        set { context.pointee.skip_frame = newValue }
    }

    /// Sends `packet` (nil: the end of the stream, to drain buffered frames).
    /// Returns false when the decoder must first hand out frames (EAGAIN).
    func send(_ packet: Packet?) throws(FFmpegError) -> Bool {
        let status = avcodec_send_packet(context, packet?.pointer)
        if status == cffmpeg_averror_eagain() { return false }
        if status == cffmpeg_averror_eof() { return true }
        try check(status, "cannot decode a packet")
        return true
    }

    /// Receives the next decoded frame into `frame`.
    func receive(into frame: Frame) throws(FFmpegError) -> Output {
        let status = avcodec_receive_frame(context, frame.pointer)
        if status == cffmpeg_averror_eagain() { return .needsInput }
        if status == cffmpeg_averror_eof() { return .endOfStream }
        try check(status, "cannot decode a frame")
        return .frame
    }

    /// Drops buffered frames and state, e.g. after a seek.
    func flush() {
        avcodec_flush_buffers(context)
    }
}
