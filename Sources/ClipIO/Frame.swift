import CFFmpeg

/// One decoded (or to-be-encoded) picture (owns an `AVFrame`).
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() throws(FFmpegError) {
        guard let frame = av_frame_alloc() else {
            throw FFmpegError("cannot allocate a frame", code: cffmpeg_averror_enomem())
        }
        pointer = frame
    }

    /// A frame with its own writable picture buffer of the given size and format.
    convenience init(width: Int, height: Int, format: AVPixelFormat) throws(FFmpegError) {
        try self.init()
        pointer.pointee.width = Int32(width)
        pointer.pointee.height = Int32(height)
        pointer.pointee.format = format.rawValue
        try check(av_frame_get_buffer(pointer, 0), "cannot allocate a \(width)x\(height) picture")
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&frame)
    }

    var width: Int { Int(pointer.pointee.width) }
    var height: Int { Int(pointer.pointee.height) }
    var pixelFormat: AVPixelFormat { AVPixelFormat(rawValue: pointer.pointee.format) }

    /// The decoder's best guess of the presentation time, in the stream's time base.
    var bestEffortTimestamp: Int64? {
        let candidates = [pointer.pointee.best_effort_timestamp, pointer.pointee.pts]
        return candidates.first { $0 != cffmpeg_nopts_value() }
    }

    /// Bytes per row of plane `plane`.
    func lineSize(_ plane: Int) -> Int {
        Int(withUnsafeBytes(of: pointer.pointee.linesize) { $0.load(fromByteOffset: plane * 4, as: Int32.self) })
    }

    /// The start of plane `plane`.
    func plane(_ plane: Int) -> UnsafeMutablePointer<UInt8>? {
        withUnsafeBytes(of: pointer.pointee.data) {
            $0.load(fromByteOffset: plane * MemoryLayout<UnsafeMutablePointer<UInt8>?>.stride,
                    as: UnsafeMutablePointer<UInt8>?.self)
        }
    }

    /// Makes sure the picture buffer is not shared with an encoder before writing to it.
    func makeWritable() throws(FFmpegError) {
        try check(av_frame_make_writable(pointer), "cannot make a frame writable")
    }

    /// Drops the picture this frame refers to.
    func unref() {
        av_frame_unref(pointer)
    }

    /// Moves `other`'s picture into this frame, leaving `other` empty.
    func take(from other: Frame) {
        av_frame_unref(pointer)
        av_frame_move_ref(pointer, other.pointer)
    }
}
