import CFFmpeg
import Foundation

/// Reads one video file: its metadata, T frames sampled evenly over its duration,
/// single frames and frame sequences for display. Nothing of FFmpeg shows through.
///
/// Every method either returns pictures or throws a `ClipIOError` naming the file; the
/// work done on any input is bounded (packets read, decoding errors tolerated).
/// A reader is not thread-safe: use one per thread.
public final class ClipReader {
    public let url: URL
    public let metadata: ClipMetadata

    /// Most packets read in one pass over a file (about an hour at 60 fps).
    static let maximumPackets = 250_000
    /// Most decoding errors tolerated in one pass before giving up on the rest of the file.
    static let maximumDecodeErrors = 100
    /// Decoder threads for a `width` x `height` stream. Two threads pay off from about
    /// 640x360; below that, starting and feeding them costs more than they save
    /// (measured with `actionlab bench --decode` on 96x96 to 640x480 H.264 clips).
    static func decoderThreads(width: Int, height: Int) -> Int {
        width * height >= 640 * 360 ? 2 : 1
    }

    /// The file as the caller named it, for messages.
    private let displayPath: String
    private var input: InputFile
    private var decoder: Decoder
    private let streamIndex: Int
    /// Seconds per unit of the stream's timestamps.
    private let timeBase: Double
    /// The stream's first timestamp; frame times are measured from it.
    private let startTimestamp: Int64
    /// Seconds between frames, for frames without timestamps.
    private let frameInterval: Double
    /// True when the next decode starts at the first frame without seeking.
    private var isAtStart = true

    private let packet: Packet
    private let decoded: Frame
    private let held: Frame
    private let scaler = Scaler()

    /// Opens `url` and reads its metadata. Throws `ClipIOError` when the file is missing,
    /// empty, not a video FFmpeg can demux, or has no video stream it can decode.
    public init(url: URL) throws(ClipIOError) {
        self.url = url
        let displayPath = url.isFileURL ? url.relativePath : url.absoluteString
        self.displayPath = displayPath
        let fileSize = try Self.checkIsReadableFile(url, displayPath: displayPath)
        let opened = try namingFile(displayPath) { () throws -> OpenedStream in
            try OpenedStream(path: url.path)
        }
        let stream = opened.input.stream(opened.streamIndex).pointee
        let timeBase = av_q2d(stream.time_base)
        guard timeBase.isFinite, timeBase > 0 else {
            throw ClipIOError(path: displayPath, reason: "the video stream has no usable time base "
                              + "(\(stream.time_base.num)/\(stream.time_base.den))")
        }
        let startTimestamp = stream.start_time == cffmpeg_nopts_value() ? 0 : stream.start_time
        var metadata = Self.metadata(of: opened)
        let frameInterval = metadata.fps > 0 ? 1 / metadata.fps : 1.0 / 25
        let needsScan = metadata.duration <= 0
        if needsScan {
            // The container does not say how long the clip is: find out from the packets.
            let known = metadata
            metadata = try namingFile(displayPath) {
                try Self.measureByScanning(known, opened: opened, timeBase: timeBase,
                                           startTimestamp: startTimestamp, frameInterval: frameInterval)
            }
        }
        if let problem = ClipLimits.problem(with: metadata, fileSize: fileSize) {
            throw ClipIOError(path: displayPath, reason: problem)
        }
        do {
            packet = try Packet()
            decoded = try Frame()
            held = try Frame()
        } catch {
            throw ClipIOError(path: displayPath, error)
        }
        input = opened.input
        decoder = opened.decoder
        streamIndex = opened.streamIndex
        self.timeBase = timeBase
        self.startTimestamp = startTimestamp
        self.frameInterval = frameInterval
        self.metadata = metadata
        isAtStart = !needsScan
    }

    // MARK: Sampling

    /// `settings.frames` (T) frames evenly spaced over the clip, scaled to H x W, gray or RGB.
    ///
    /// Sample `i` is the frame shown at time `(i + 0.5) * duration / T`, so a clip with
    /// fewer than T frames repeats its frames evenly. Decoding stops after the last frame
    /// needed, and frames no sample needs are dropped undecoded where the codec allows.
    public func sampledFrames(_ settings: SamplingSettings) throws(ClipIOError) -> ClipFrames {
        if let problem = settings.problem {
            throw ClipIOError(path: displayPath, reason: "cannot sample: \(problem)")
        }
        return try namingFile(displayPath) { try sample(settings) }
    }

    /// Sample times in seconds from the start of the stream, ascending.
    func sampleTimes(count: Int) -> [Double] {
        (0..<count).map { (Double($0) + 0.5) * metadata.duration / Double(count) }
    }

    private func sample(_ settings: SamplingSettings) throws -> ClipFrames {
        try rewind()
        let targets = sampleTimes(count: settings.frames)
        let frameBytes = settings.bytesPerFrame
        var pixels = [UInt8](repeating: 0, count: settings.byteCount)
        var filled = 0
        var heldTime: Double?
        // Sample `filled..<end` with the held frame: scaled once, copied to the others.
        func fillWithHeld(upTo end: Int) throws {
            guard end > filled else { return }
            try pixels.withUnsafeMutableBytes { pixels in
                let first = UnsafeMutableRawBufferPointer(rebasing: pixels[filled * frameBytes ..< (filled + 1) * frameBytes])
                try scale(held, to: settings, into: first)
                for index in (filled + 1)..<end {
                    (pixels.baseAddress! + index * frameBytes).copyMemory(from: first.baseAddress!, byteCount: frameBytes)
                }
            }
            filled = end
        }
        let tolerance = 1e-6
        let outcome = try decodeFrames(mayDrop: { start, length in
            // Keep the frame when some sample time falls while it is on screen.
            let first = Self.firstIndex(in: targets, notBefore: start - tolerance)
            return first == targets.count || targets[first] >= start + length - tolerance
        }) { frame, time in
            if heldTime != nil {
                // The held frame is on screen until `time`: it is the sample for every target before.
                var end = filled
                while end < targets.count && targets[end] < time - tolerance { end += 1 }
                try fillWithHeld(upTo: end)
            }
            held.take(from: frame)
            heldTime = time
            return filled < targets.count
        }
        guard heldTime != nil else {
            throw outcome.failure ?? FFmpegError("no video frame could be decoded", logged: nil)
        }
        try fillWithHeld(upTo: targets.count)
        held.unref()
        return ClipFrames(settings: settings, pixels: pixels)
    }

    private func scale(_ frame: Frame, to settings: SamplingSettings,
                       into output: UnsafeMutableRawBufferPointer) throws(FFmpegError) {
        let format = settings.channels == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24
        try scaler.scale(frame, width: settings.width, height: settings.height, format: format,
                         bytesPerPixel: settings.channels, into: output)
    }

    /// The index of the first element of ascending `values` that is >= `bound`.
    static func firstIndex(in values: [Double], notBefore bound: Double) -> Int {
        var low = 0, high = values.count
        while low < high {
            let middle = (low + high) / 2
            if values[middle] < bound { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: Display

    /// The frame on screen at `seconds` from the start, scaled to `width` x `height` RGB24.
    public func frame(at seconds: Double, width: Int, height: Int) throws(ClipIOError) -> PreviewFrame {
        try checkDisplaySize(width: width, height: height)
        return try namingFile(displayPath) {
            let target = min(max(seconds.isFinite ? seconds : 0, 0), metadata.duration)
            try seek(to: target)
            var heldTime: Double?
            let tolerance = 1e-6
            let outcome = try decodeFrames(mayDrop: { start, length in
                !(start - tolerance <= target && target < start + length - tolerance)
            }) { frame, time in
                if heldTime != nil && time > target + tolerance { return false }
                held.take(from: frame)
                heldTime = time
                return true
            }
            guard let heldTime else {
                throw outcome.failure ?? FFmpegError("no video frame could be decoded", logged: nil)
            }
            defer { held.unref() }
            return try preview(of: held, width: width, height: height, time: heldTime)
        }
    }

    /// The clip's frames in order from the start, at most `maxFrames`, each scaled to
    /// `width` x `height` RGB24, so a player can show them at `metadata.fps` from memory.
    public func previewFrames(width: Int, height: Int, maxFrames: Int) throws(ClipIOError) -> [PreviewFrame] {
        try checkDisplaySize(width: width, height: height)
        guard maxFrames > 0 else { return [] }
        return try namingFile(displayPath) {
            try rewind()
            var frames: [PreviewFrame] = []
            let outcome = try decodeFrames(mayDrop: nil) { frame, time in
                frames.append(try preview(of: frame, width: width, height: height, time: time))
                return frames.count < maxFrames
            }
            if frames.isEmpty {
                throw outcome.failure ?? FFmpegError("no video frame could be decoded", logged: nil)
            }
            return frames
        }
    }

    private func checkDisplaySize(width: Int, height: Int) throws(ClipIOError) {
        let sides = 1...SamplingSettings.maximumSide
        guard sides.contains(width), sides.contains(height) else {
            throw ClipIOError(path: displayPath, reason: "cannot show a frame at \(width)x\(height)")
        }
    }

    private func preview(of frame: Frame, width: Int, height: Int, time: Double) throws -> PreviewFrame {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        try rgb.withUnsafeMutableBytes { bytes in
            try scaler.scale(frame, width: width, height: height, format: AV_PIX_FMT_RGB24,
                             bytesPerPixel: 3, into: bytes)
        }
        return PreviewFrame(width: width, height: height, rgb: rgb, timestamp: time)
    }

    // MARK: Decoding

    /// How a pass over the packets ended.
    struct PassOutcome {
        /// Why decoding stopped early, when it did (too many errors, unreadable packets).
        var failure: FFmpegError?
    }

    /// Decodes the video stream from the current position and hands each frame, in
    /// presentation order, to `body` with its time in seconds from the stream's start;
    /// `body` returns false to stop. `mayDrop(start, length)`, asked for each packet
    /// with its display interval in seconds, says the frame is not needed, which lets
    /// the decoder skip it when no other frame refers to it.
    ///
    /// The pass ends at the end of the file, after `maximumPackets` packets or after
    /// `maximumDecodeErrors` errors; the last two end it with a `failure`.
    private func decodeFrames(mayDrop: ((Double, Double) -> Bool)?,
                              _ body: (Frame, Double) throws -> Bool) throws -> PassOutcome {
        isAtStart = false
        var outcome = PassOutcome()
        var decodeErrors = 0
        var packetsRead = 0
        var nextUntimedFrame = 0.0

        /// Counts a decoding error; false once there have been too many.
        func tolerate(_ error: FFmpegError) -> Bool {
            decodeErrors += 1
            if decodeErrors > Self.maximumDecodeErrors {
                outcome.failure = FFmpegError("gave up after \(decodeErrors) decoding errors, last: \(error.message)",
                                              logged: nil)
                return false
            }
            return true
        }

        /// Hands out the frames the decoder has ready; false when `body` wants to stop
        /// or decoding must end.
        func drainFrames() throws -> Bool {
            while true {
                let output: Decoder.Output
                do {
                    output = try decoder.receive(into: decoded)
                } catch {
                    if tolerate(error) { continue } else { return false }
                }
                guard output == .frame else { return true }
                let time = decoded.bestEffortTimestamp.map(seconds(fromTimestamp:)) ?? nextUntimedFrame
                nextUntimedFrame = time + frameInterval
                let wantsMore = try body(decoded, time)
                decoded.unref()
                if !wantsMore { return false }
            }
        }

        decoder.skipFrame = AVDISCARD_DEFAULT
        readLoop: while true {
            if packetsRead >= Self.maximumPackets {
                outcome.failure = FFmpegError("gave up after reading \(packetsRead) packets", logged: nil)
                return outcome
            }
            let gotPacket: Bool
            do {
                gotPacket = try input.read(into: packet)
            } catch {
                // A damaged or truncated file: decode what was read so far.
                outcome.failure = error
                break readLoop
            }
            guard gotPacket else { break }
            packetsRead += 1
            guard Int(packet.streamIndex) == streamIndex else { continue }
            if let mayDrop {
                let dropCandidate = packet.presentationTime.map { pts in
                    mayDrop(seconds(fromTimestamp: pts), packet.duration.map { Double($0) * timeBase } ?? frameInterval)
                } ?? false
                decoder.skipFrame = dropCandidate ? AVDISCARD_NONREF : AVDISCARD_DEFAULT
            }
            while true {
                let accepted: Bool
                do {
                    accepted = try decoder.send(packet)
                } catch {
                    if tolerate(error) { break } else { return outcome }
                }
                if !(try drainFrames()) { return outcome }
                if accepted { break }
            }
        }
        decoder.skipFrame = AVDISCARD_DEFAULT
        // End of input: flush the frames the decoder still holds.
        do {
            _ = try decoder.send(nil)
        } catch {
            outcome.failure = outcome.failure ?? error
            return outcome
        }
        _ = try drainFrames()
        return outcome
    }

    private func seconds(fromTimestamp timestamp: Int64) -> Double {
        // Subtracted as Doubles: a damaged packet's timestamp may be anything.
        (Double(timestamp) - Double(startTimestamp)) * timeBase
    }

    /// Makes the next pass start at the first frame.
    private func rewind() throws {
        if isAtStart { return }
        try seekOrReopen(toTimestamp: startTimestamp)
        isAtStart = true
    }

    /// Makes the next pass start at the key frame at or before `seconds`.
    private func seek(to seconds: Double) throws {
        // seconds <= duration <= ClipLimits.maximumDuration, yet a tiny time base can make the
        // timestamp overflow: then the pass starts from the top instead.
        guard seconds > 0, let offset = ClipLimits.wholeNumber((seconds / timeBase).rounded(.down), in: 0...Int64.max),
              case let (timestamp, false) = startTimestamp.addingReportingOverflow(offset) else { return try rewind() }
        try seekOrReopen(toTimestamp: timestamp)
    }

    private func seekOrReopen(toTimestamp timestamp: Int64) throws {
        do {
            try input.seek(streamIndex: streamIndex, to: timestamp)
            decoder.flush()
        } catch {
            // Some files cannot seek (damaged index, raw streams): start again from the top.
            let reopened = try OpenedStream(path: url.path)
            input = reopened.input
            decoder = reopened.decoder
        }
    }

    // MARK: Metadata

    /// Refuses what is not a regular, non-empty file (a folder, a named pipe or a device
    /// would block or never end) and MP4 sample tables claiming more frames than the file
    /// can hold. Returns the file's size in bytes, nil for a URL that is not a file.
    private static func checkIsReadableFile(_ url: URL, displayPath: String) throws(ClipIOError) -> Int? {
        guard url.isFileURL else { return nil }
        var status = stat()
        guard stat(url.path, &status) == 0 else {
            let reason = errno == ENOENT ? "no such file" : "cannot read: \(String(cString: strerror(errno)))"
            throw ClipIOError(path: displayPath, reason: reason)
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw ClipIOError(path: displayPath, reason: "is a folder, not a video file")
        case S_IFIFO: throw ClipIOError(path: displayPath, reason: "is a named pipe, not a video file")
        default: throw ClipIOError(path: displayPath, reason: "is a device or socket, not a video file")
        }
        let size = Int(status.st_size)
        if size == 0 {
            throw ClipIOError(path: displayPath, reason: "empty file (0 bytes), not a video")
        }
        // Non-blocking: should the file have been swapped for a pipe since stat, open does not wait.
        let descriptor = open(url.path, O_RDONLY | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw ClipIOError(path: displayPath, reason: "cannot read: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        if let problem = MP4SampleTables.problem(descriptor: descriptor, fileSize: size) {
            throw ClipIOError(path: displayPath, reason: problem)
        }
        return size
    }

    private static func metadata(of opened: OpenedStream) -> ClipMetadata {
        let stream = opened.input.stream(opened.streamIndex).pointee
        let parameters = stream.codecpar.pointee
        let rate = [stream.avg_frame_rate, stream.r_frame_rate].first { $0.num > 0 && $0.den > 0 }
        var fps = rate.map(av_q2d) ?? 0
        var duration = 0.0
        if stream.duration != cffmpeg_nopts_value() && stream.duration > 0 {
            duration = Double(stream.duration) * av_q2d(stream.time_base)
        } else if let containerDuration = opened.input.duration {
            duration = containerDuration
        }
        let storedCount = Int(stream.nb_frames)
        if fps <= 0 && storedCount > 0 && duration > 0 { fps = Double(storedCount) / duration }
        if duration <= 0 && storedCount > 0 && fps > 0 { duration = Double(storedCount) / fps }
        // A header may claim any duration and rate: an impossible product stays out of Int
        // (saturated), and ClipLimits then refuses the clip.
        let frameCount = storedCount > 0 ? storedCount : ClipLimits.wholeNumber(duration * fps, in: 0...Int.max) ?? Int.max
        return ClipMetadata(codec: String(cString: avcodec_get_name(parameters.codec_id)),
                            width: Int(parameters.width), height: Int(parameters.height),
                            fps: fps, duration: duration, frameCount: frameCount,
                            frameCountIsExact: storedCount > 0)
    }

    /// Reads every packet of the video stream (without decoding) to learn the duration
    /// and frame count a container did not store.
    private static func measureByScanning(_ metadata: ClipMetadata, opened: OpenedStream, timeBase: Double,
                                          startTimestamp: Int64, frameInterval: Double) throws -> ClipMetadata {
        let packet = try Packet()
        var packets = 0
        var end: Double = 0
        while packets < maximumPackets, (try? opened.input.read(into: packet)) == true {
            guard Int(packet.streamIndex) == opened.streamIndex else { continue }
            packets += 1
            let length = packet.duration.map { Double($0) * timeBase } ?? frameInterval
            let start = packet.presentationTime.map { (Double($0) - Double(startTimestamp)) * timeBase }
                ?? Double(packets - 1) * frameInterval
            end = max(end, start + length)
        }
        var measured = metadata
        measured.duration = end
        measured.frameCount = packets
        measured.frameCountIsExact = false
        if measured.fps <= 0 && end > 0 { measured.fps = Double(packets) / end }
        return measured
    }
}

/// A file opened with its video stream and a decoder for it.
private struct OpenedStream {
    let input: InputFile
    let decoder: Decoder
    let streamIndex: Int

    init(path: String) throws {
        input = try InputFile(path: path)
        guard let index = input.selectVideoStream() else {
            let streams = input.streamSummary
            throw FFmpegError("no video stream" + (streams.isEmpty ? "" : " (only \(streams))"), logged: nil)
        }
        streamIndex = index
        let parameters = input.stream(index).pointee.codecpar.pointee
        guard parameters.width > 0, parameters.height > 0 else {
            throw FFmpegError("video stream has no picture size", logged: FFmpegLog.lastError)
        }
        decoder = try Decoder(stream: input.stream(index),
                              threads: ClipReader.decoderThreads(width: Int(parameters.width), height: Int(parameters.height)))
    }
}
