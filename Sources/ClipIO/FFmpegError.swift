import CFFmpeg

/// Turns an FFmpeg status code into FFmpeg's own message (`av_strerror`).
func ffmpegMessage(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(cffmpeg_error_max_string_size()))
    if av_strerror(code, &buffer, buffer.count) < 0 {
        return "FFmpeg error \(code)"
    }
    return String(cString: buffer)
}
