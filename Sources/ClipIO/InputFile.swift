import CFFmpeg
import Foundation

/// A demuxer over one media file (owns an `AVFormatContext`).
///
/// Only local files in the video containers of `acceptedFormats` are opened: a file
/// that is really a playlist or a concatenation script could otherwise make FFmpeg
/// open other files or block on a named pipe. Every FFmpeg call on the file runs under
/// a time limit (`timeLimit`) checked by FFmpeg's interrupt callback.
final class InputFile {
    let context: UnsafeMutablePointer<AVFormatContext>
    private let deadline: Deadline

    /// The demuxers clips may use (FFmpeg's `format_whitelist`): MP4/MOV, Matroska/WebM,
    /// AVI and MPEG program and transport streams, the containers of the project's clip
    /// extensions. Playlists (hls), scripts (concat), image sequences and raw streams are not.
    static let acceptedFormats = ["mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "avi", "mpeg", "mpegts"]
    /// The only protocol a clip may be read through (FFmpeg's `protocol_whitelist`).
    static let acceptedProtocols = ["file"]
    /// Seconds one call into FFmpeg (opening with the stream layout, reading one packet,
    /// seeking) may take before it is interrupted.
    static let timeLimit = 30.0

    /// Opens `path` and reads enough of it to know its streams.
    init(path: String, timeLimit: Double = InputFile.timeLimit) throws(FFmpegError) {
        deadline = Deadline(seconds: timeLimit)
        guard let allocated = avformat_alloc_context() else {
            throw FFmpegError("cannot open", code: cffmpeg_averror_enomem())
        }
        allocated.pointee.interrupt_callback = AVIOInterruptCB(
            callback: { opaque in
                guard let opaque else { return 0 }
                return Unmanaged<Deadline>.fromOpaque(opaque).takeUnretainedValue().hasPassed ? 1 : 0
            },
            opaque: Unmanaged.passUnretained(deadline).toOpaque())
        var options: OpaquePointer?
        av_dict_set(&options, "format_whitelist", Self.acceptedFormats.joined(separator: ","), 0)
        av_dict_set(&options, "protocol_whitelist", Self.acceptedProtocols.joined(separator: ","), 0)
        defer { av_dict_free(&options) }
        var opened: UnsafeMutablePointer<AVFormatContext>? = allocated
        deadline.restart()
        // "file:" keeps a path with a colon in it from naming another protocol. On failure
        // avformat_open_input frees the context itself and leaves it nil.
        let status = avformat_open_input(&opened, "file:" + path, nil, &options)
        if status < 0 {
            throw Self.openingError(status, path: path, deadline: deadline)
        }
        guard let opened else { throw FFmpegError("cannot open") }
        deadline.restart()
        let layoutStatus = avformat_find_stream_info(opened, nil)
        if layoutStatus < 0 {
            let error = deadline.hasPassed ? deadline.timeout("cannot read the stream layout")
                : FFmpegError("cannot read the stream layout", code: layoutStatus)
            var toClose: UnsafeMutablePointer<AVFormatContext>? = opened
            avformat_close_input(&toClose)
            throw error
        }
        context = opened
    }

    /// Why `avformat_open_input` failed, naming a refused container by its format.
    private static func openingError(_ status: Int32, path: String, deadline: Deadline) -> FFmpegError {
        if deadline.hasPassed { return deadline.timeout("cannot open") }
        let logged = FFmpegLog.lastError
        if let logged, logged.contains("not on whitelist") {
            let format = probedFormatName(path).map { "its format (\($0))" } ?? "its format"
            return FFmpegError("cannot open: \(format) is not an accepted video container (accepted: "
                               + "MP4/MOV, Matroska/WebM, AVI, MPEG-PS, MPEG-TS)", logged: nil)
        }
        return FFmpegError("cannot open", code: status, logged: logged)
    }

    /// The demuxer FFmpeg would pick for the first bytes of `path`, for messages.
    private static func probedFormatName(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 4096), !head.isEmpty else { return nil }
        // The prober reads past the end of the buffer: it must be followed by zeroed padding.
        var buffer = [UInt8](head) + [UInt8](repeating: 0, count: Int(AVPROBE_PADDING_SIZE))
        return buffer.withUnsafeMutableBufferPointer { bytes -> String? in
            var probe = AVProbeData()
            probe.buf = bytes.baseAddress
            probe.buf_size = Int32(head.count)
            return path.withCString { name -> String? in
                probe.filename = name
                return av_probe_input_format(&probe, 1).map { String(cString: $0.pointee.name) }
            }
        }
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
        deadline.restart()
        let status = av_read_frame(context, packet.pointer)
        if status == cffmpeg_averror_eof() { return false }
        if status < 0 && deadline.hasPassed { throw deadline.timeout("cannot read a packet") }
        try check(status, "cannot read a packet")
        return true
    }

    /// Moves to the last key frame at or before `timestamp` (in `streamIndex`'s time base).
    func seek(streamIndex: Int, to timestamp: Int64) throws(FFmpegError) {
        deadline.restart()
        let status = av_seek_frame(context, Int32(streamIndex), timestamp, AVSEEK_FLAG_BACKWARD)
        if status < 0 && deadline.hasPassed { throw deadline.timeout("cannot seek") }
        try check(status, "cannot seek")
    }
}

/// When the current FFmpeg call on a file must give up; read by FFmpeg's interrupt
/// callback on the thread that made the call.
final class Deadline {
    let seconds: Double
    private var end = 0.0

    init(seconds: Double) { self.seconds = seconds }

    /// Starts the time limit for the next call.
    func restart() { end = Self.now() + seconds }

    var hasPassed: Bool { Self.now() >= end }

    func timeout(_ operation: String) -> FFmpegError {
        FFmpegError(operation + ": gave up after " + String(format: "%g", seconds) + " s", logged: nil)
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}
