import CFFmpeg
import Foundation

/// Writes pictures to an MP4 file with ActionLab's own encoder (H.264 via libx264
/// when FFmpeg has it, else another H.264 encoder, else MPEG-4 Part 2; see `codecName`).
///
/// Pictures are (H, W, C) row-major uint8, gray (C = 1) or RGB (C = 3); they are
/// stored as yuv420p, so width and height must be even.
public final class MP4Writer {
    public let url: URL
    public let width: Int
    public let height: Int
    /// The encoder in use, e.g. "libx264", or "mpeg4" when FFmpeg has no H.264 encoder.
    public let codecName: String

    private let displayPath: String
    private let output: OutputFile
    private let encoder: Encoder
    private let stream: UnsafeMutablePointer<AVStream>
    private let picture: Frame
    private let source: Frame
    private let packet: Packet
    private let scaler = Scaler()
    private var framesWritten: Int64 = 0
    private var finished = false

    /// Creates `url` for `width` x `height` pictures at `fps` frames per second.
    /// `quality` is x264's constant rate factor (lower is better and bigger).
    public convenience init(url: URL, width: Int, height: Int, fps: Int = 24, quality: Int = 30) throws(ClipIOError) {
        try self.init(url: url, width: width, height: height, fps: fps, quality: quality, encoders: Encoder.candidates())
    }

    /// Like the public initialiser, trying only `encoders` (so tests can take the fallbacks).
    init(url: URL, width: Int, height: Int, fps: Int, quality: Int,
         encoders: [UnsafePointer<AVCodec>]) throws(ClipIOError) {
        self.url = url
        self.width = width
        self.height = height
        let displayPath = url.relativePath
        self.displayPath = displayPath
        guard width >= 2, height >= 2, width % 2 == 0, height % 2 == 0, width <= 8192, height <= 8192 else {
            throw ClipIOError(path: displayPath, reason: "cannot write \(width)x\(height) video: sides must be even, 2...8192")
        }
        guard (1...240).contains(fps), (0...51).contains(quality) else {
            throw ClipIOError(path: displayPath, reason: "cannot write video at \(fps) fps, quality \(quality)")
        }
        let parts = try namingFile(displayPath) { () throws -> (OutputFile, Encoder, UnsafeMutablePointer<AVStream>, Frame, Frame, Packet) in
            let output = try OutputFile(path: url.path, format: "mp4")
            let encoder = try Encoder.open(width: width, height: height, fps: fps, quality: quality,
                                           globalHeader: output.wantsGlobalHeader, candidates: encoders)
            let stream = try output.addStream(for: encoder)
            try output.writeHeader()
            return (output, encoder, stream, try Frame(width: width, height: height, format: AV_PIX_FMT_YUV420P),
                    try Frame(), try Packet())
        }
        (output, encoder, stream, picture, source, packet) = parts
        codecName = encoder.name
    }

    /// Appends one picture: `pixels` is (H, W, C) row-major with C = `channels` (1 or 3).
    public func append(_ pixels: [UInt8], channels: Int) throws(ClipIOError) {
        guard !finished else { throw ClipIOError(path: displayPath, reason: "cannot append: file already finished") }
        guard channels == 1 || channels == 3, pixels.count == width * height * channels else {
            throw ClipIOError(path: displayPath,
                              reason: "cannot append \(pixels.count) bytes as a \(width)x\(height)x\(channels) picture")
        }
        try namingFile(displayPath) {
            try picture.makeWritable()
            try convert(pixels, channels: channels)
            picture.pointer.pointee.pts = framesWritten
            framesWritten += 1
            try encode(picture)
        }
    }

    /// Flushes the encoder and writes the file's index; the file is complete afterwards.
    public func finish() throws(ClipIOError) {
        guard !finished else { return }
        finished = true
        try namingFile(displayPath) {
            try encode(nil)
            try output.writeTrailer()
        }
    }

    /// Converts a packed gray or RGB picture into `picture` (yuv420p) with libswscale.
    private func convert(_ pixels: [UInt8], channels: Int) throws {
        var pixels = pixels
        try pixels.withUnsafeMutableBufferPointer { buffer in
            // Describe the caller's bytes as a frame without copying them.
            source.unref()
            source.pointer.pointee.width = Int32(width)
            source.pointer.pointee.height = Int32(height)
            source.pointer.pointee.format = (channels == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24).rawValue
            source.pointer.pointee.data.0 = buffer.baseAddress
            source.pointer.pointee.linesize.0 = Int32(width * channels)
            defer {
                source.pointer.pointee.data.0 = nil
                source.pointer.pointee.linesize.0 = 0
            }
            if channels == 1 {
                // Gray has no colour: make the chroma planes neutral rather than rely on
                // swscale to write planes its gray input does not have.
                for plane in 1...2 {
                    picture.plane(plane)?.update(repeating: 128, count: picture.lineSize(plane) * ((height + 1) / 2))
                }
            }
            try scaler.convert(source, into: picture)
        }
    }

    private func encode(_ frame: Frame?) throws {
        var accepted = try encoder.send(frame)
        while true {
            while try encoder.receive(into: packet) {
                // Every picture lasts one frame; without a duration the last one would
                // be cut from the clip's length.
                if packet.pointer.pointee.duration <= 0 { packet.pointer.pointee.duration = 1 }
                av_packet_rescale_ts(packet.pointer, encoder.context.pointee.time_base, stream.pointee.time_base)
                packet.pointer.pointee.stream_index = stream.pointee.index
                try output.write(packet)
            }
            if accepted { return }
            accepted = try encoder.send(frame)
        }
    }
}
