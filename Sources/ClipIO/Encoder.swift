import CFFmpeg

/// A video encoder (owns an `AVCodecContext`): H.264 through libx264 when FFmpeg has
/// it, any other H.264 encoder otherwise, and MPEG-4 Part 2 as the last resort.
final class Encoder {
    let context: UnsafeMutablePointer<AVCodecContext>
    /// FFmpeg's name of the encoder in use, e.g. "libx264" or "mpeg4".
    let name: String

    /// The encoders FFmpeg has, best first: libx264, FFmpeg's default H.264 encoder
    /// (which may be one that needs hardware), MPEG-4 Part 2.
    static func candidates() -> [UnsafePointer<AVCodec>] {
        var found: [UnsafePointer<AVCodec>] = []
        for codec in [avcodec_find_encoder_by_name("libx264"), avcodec_find_encoder(AV_CODEC_ID_H264),
                      avcodec_find_encoder(AV_CODEC_ID_MPEG4)] {
            if let codec, !found.contains(codec) { found.append(codec) }
        }
        return found
    }

    /// Opens the first candidate encoder that opens for `width` x `height` yuv420p
    /// pictures at `fps` frames per second. `quality` is x264's constant rate factor
    /// (0 lossless ... 51 worst; ~28-32 is small and still clear); for MPEG-4 Part 2 it
    /// maps onto a quantiser.
    static func open(width: Int, height: Int, fps: Int, quality: Int, globalHeader: Bool,
                     candidates: [UnsafePointer<AVCodec>] = candidates()) throws(FFmpegError) -> Encoder {
        var failure = FFmpegError("FFmpeg has neither an H.264 nor an MPEG-4 encoder", logged: nil)
        for codec in candidates {
            do {
                return try Encoder(codec: codec, width: width, height: height, fps: fps, quality: quality,
                                   globalHeader: globalHeader)
            } catch {
                failure = error
            }
        }
        throw failure
    }

    init(codec: UnsafePointer<AVCodec>, width: Int, height: Int, fps: Int, quality: Int,
         globalHeader: Bool) throws(FFmpegError) {
        guard let allocated = avcodec_alloc_context3(codec) else {
            throw FFmpegError("cannot allocate an encoder", code: cffmpeg_averror_enomem())
        }
        var toFree: UnsafeMutablePointer<AVCodecContext>? = allocated
        let name = String(cString: codec.pointee.name)
        allocated.pointee.width = Int32(width)
        allocated.pointee.height = Int32(height)
        allocated.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        allocated.pointee.time_base = AVRational(num: 1, den: Int32(fps))
        allocated.pointee.framerate = AVRational(num: Int32(fps), den: 1)
        allocated.pointee.gop_size = Int32(max(fps, 1) * 2)
        // One thread: the same frames always give the same bytes, and clips are tiny.
        allocated.pointee.thread_count = 1
        if globalHeader { allocated.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        if codec.pointee.id == AV_CODEC_ID_H264 {
            av_opt_set(allocated.pointee.priv_data, "crf", "\(quality)", 0)
            av_opt_set(allocated.pointee.priv_data, "preset", "medium", 0)
        } else {
            allocated.pointee.flags |= AV_CODEC_FLAG_QSCALE
            let quantiser = Int32(min(max(quality / 3, 2), 31))
            allocated.pointee.global_quality = quantiser * FF_QP2LAMBDA
        }
        let status = avcodec_open2(allocated, codec, nil)
        if status < 0 {
            avcodec_free_context(&toFree)
            throw FFmpegError("cannot open the \(name) encoder", code: status)
        }
        context = allocated
        self.name = name
    }

    deinit {
        var toFree: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&toFree)
    }

    /// Sends `frame` (nil: no more frames). False when packets must be received first.
    func send(_ frame: Frame?) throws(FFmpegError) -> Bool {
        let status = avcodec_send_frame(context, frame?.pointer)
        if status == cffmpeg_averror_eagain() { return false }
        try check(status, "cannot encode a frame")
        return true
    }

    /// Receives the next packet into `packet`; false when the encoder needs more frames
    /// or has given out everything.
    func receive(into packet: Packet) throws(FFmpegError) -> Bool {
        let status = avcodec_receive_packet(context, packet.pointer)
        if status == cffmpeg_averror_eagain() || status == cffmpeg_averror_eof() { return false }
        try check(status, "cannot encode a frame")
        return true
    }
}
