import CFFmpeg

/// Converts decoded pictures to a packed size and pixel format with libswscale
/// (owns a `SwsContext`, rebuilt only when the source size or format changes).
final class Scaler {
    fileprivate var context: OpaquePointer?
    /// Rows are written here first: swscale's vector code may write whole vector
    /// widths past the end of a row, so rows are padded before they are packed.
    private var scratch: [UInt8] = []

    init() {}

    deinit {
        sws_freeContext(context)
    }

    /// Scales `frame` to `width` x `height` in `format` (a packed format with
    /// `bytesPerPixel` bytes per pixel) and writes the rows, tightly packed, to `output`.
    func scale(_ frame: Frame, width: Int, height: Int, format: AVPixelFormat, bytesPerPixel: Int,
               into output: UnsafeMutableRawBufferPointer) throws(FFmpegError) {
        precondition(output.count >= width * height * bytesPerPixel, "output too small")
        guard frame.width > 0, frame.height > 0 else {
            throw FFmpegError("decoded picture has no size (\(frame.width)x\(frame.height))", logged: nil)
        }
        context = sws_getCachedContext(context, Int32(frame.width), Int32(frame.height), frame.pixelFormat,
                                       Int32(width), Int32(height), format, SWS_BILINEAR, nil, nil, nil)
        guard let context else {
            let name = av_get_pix_fmt_name(frame.pixelFormat).map { String(cString: $0) } ?? "unknown"
            throw FFmpegError("cannot convert \(name) \(frame.width)x\(frame.height) pictures to \(width)x\(height)")
        }
        let rowBytes = width * bytesPerPixel
        let paddedRowBytes = (rowBytes + 63) / 64 * 64 + 64
        let scratchBytes = paddedRowBytes * (height + 2)
        if scratch.count < scratchBytes { scratch = [UInt8](repeating: 0, count: scratchBytes) }
        var sourcePlanes = (0..<4).map { UnsafePointer(frame.plane($0)) }
        var sourceStrides = (0..<4).map { Int32(frame.lineSize($0)) }
        var destinationStrides: [Int32] = [Int32(paddedRowBytes), 0, 0, 0]
        let status = scratch.withUnsafeMutableBufferPointer { scratch -> Int32 in
            var destinationPlanes: [UnsafeMutablePointer<UInt8>?] = [scratch.baseAddress, nil, nil, nil]
            return sws_scale(context, &sourcePlanes, &sourceStrides, 0, Int32(frame.height),
                             &destinationPlanes, &destinationStrides)
        }
        try check(status, "cannot scale a picture")
        scratch.withUnsafeBytes { scratch in
            for row in 0..<height {
                let source = scratch.baseAddress! + row * paddedRowBytes
                (output.baseAddress! + row * rowBytes).copyMemory(from: source, byteCount: rowBytes)
            }
        }
    }
}

extension Scaler {
    /// Converts `frame` into `destination`, a frame with its own buffer, at the
    /// destination's size and pixel format.
    func convert(_ frame: Frame, into destination: Frame) throws(FFmpegError) {
        context = sws_getCachedContext(context, Int32(frame.width), Int32(frame.height), frame.pixelFormat,
                                       Int32(destination.width), Int32(destination.height),
                                       destination.pixelFormat, SWS_BILINEAR, nil, nil, nil)
        guard let context else { throw FFmpegError("cannot convert pictures for the encoder") }
        var sourcePlanes = (0..<4).map { UnsafePointer(frame.plane($0)) }
        var sourceStrides = (0..<4).map { Int32(frame.lineSize($0)) }
        var destinationPlanes = (0..<4).map { destination.plane($0) }
        var destinationStrides = (0..<4).map { Int32(destination.lineSize($0)) }
        try check(sws_scale(context, &sourcePlanes, &sourceStrides, 0, Int32(frame.height),
                            &destinationPlanes, &destinationStrides), "cannot convert a picture")
    }
}
