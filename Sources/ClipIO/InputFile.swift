import CFFmpeg

/// A demuxer over one media file (owns an `AVFormatContext`).
final class InputFile {
    let context: UnsafeMutablePointer<AVFormatContext>

    /// Opens `path` and reads enough of it to know its streams.
    init(path: String) throws(FFmpegError) {
        var opened: UnsafeMutablePointer<AVFormatContext>?
        // On failure avformat_open_input frees the context itself and leaves it nil.
        try check(avformat_open_input(&opened, path, nil, nil), "cannot open")
        guard let opened else { throw FFmpegError("cannot open") }
        let status = avformat_find_stream_info(opened, nil)
        if status < 0 {
            let error = FFmpegError("cannot read the stream layout", code: status)
            var toClose: UnsafeMutablePointer<AVFormatContext>? = opened
            avformat_close_input(&toClose)
            throw error
        }
        context = opened
    }

    deinit {
        var toClose: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&toClose)
    }

    var streamCount: Int { Int(context.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> {
        context.pointee.streams[index]!
    }

    /// The container's duration in seconds, nil when it does not say.
    var duration: Double? {
        let duration = context.pointee.duration
        guard duration != cffmpeg_nopts_value(), duration > 0 else { return nil }
        return Double(duration) / Double(AV_TIME_BASE)
    }

    /// The index of the main video stream, nil when there is none. Cover pictures
    /// (a single image attached to an audio file) are not video. Other streams are
    /// marked as discarded so the demuxer does not hand their packets out.
    func selectVideoStream() -> Int? {
        let videos = (0..<streamCount).filter { index in
            let stream = stream(index).pointee
            return stream.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO
                && stream.disposition & AV_DISPOSITION_ATTACHED_PIC == 0
        }
        let best = Int(av_find_best_stream(context, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0))
        guard let chosen = videos.contains(best) ? best : videos.first else { return nil }
        for index in 0..<streamCount where index != chosen {
            stream(index).pointee.discard = AVDISCARD_ALL
        }
        return chosen
    }

    /// A short list of the streams for messages, e.g. "audio aac, data bin_data".
    var streamSummary: String {
        (0..<streamCount).map { index -> String in
            let parameters = stream(index).pointee.codecpar.pointee
            let kind = av_get_media_type_string(parameters.codec_type).map { String(cString: $0) } ?? "unknown"
            let cover = stream(index).pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 ? " cover picture" : ""
            return "\(kind) \(String(cString: avcodec_get_name(parameters.codec_id)))\(cover)"
        }.joined(separator: ", ")
    }

    /// Reads the next packet into `packet`; false at the end of the file.
    func read(into packet: Packet) throws(FFmpegError) -> Bool {
        packet.unref()
        let status = av_read_frame(context, packet.pointer)
        if status == cffmpeg_averror_eof() { return false }
        try check(status, "cannot read a packet")
        return true
    }

    /// Moves to the last key frame at or before `timestamp` (in `streamIndex`'s time base).
    func seek(streamIndex: Int, to timestamp: Int64) throws(FFmpegError) {
        try check(av_seek_frame(context, Int32(streamIndex), timestamp, AVSEEK_FLAG_BACKWARD), "cannot seek")
    }
}
