import CFFmpeg
import Foundation

/// FFmpeg logs through one process-wide callback. The default one writes to stderr,
/// which would scribble over the terminal UI, so ClipIO installs its own: it drops
/// everything except error messages logged on a thread that is running ClipIO code,
/// and keeps the last of those so it can explain a failure in a `ClipIOError`.
enum FFmpegLog {
    /// The error messages FFmpeg logged on one thread during one ClipIO call.
    final class Capture {
        var lastError: String?
    }

    private static let threadCapture: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    private static let installation: Void = {
        av_log_set_level(AV_LOG_QUIET)
        // Only error messages logged on a capturing thread are kept; everything else is dropped.
        av_log_set_callback { _, level, format, arguments in
            guard level <= AV_LOG_ERROR, let format, let arguments,
                  let raw = pthread_getspecific(threadCapture) else { return }
            var buffer = [CChar](repeating: 0, count: 512)
            _ = vsnprintf(&buffer, buffer.count, format, arguments)
            let message = string(fromCharacters: buffer).trimmingCharacters(in: .whitespacesAndNewlines)
            if !message.isEmpty {
                Unmanaged<Capture>.fromOpaque(raw).takeUnretainedValue().lastError = message
            }
        }
    }()

    /// Makes sure FFmpeg writes nothing to stderr. Safe to call any number of times.
    static func silence() {
        _ = installation
    }

    /// Runs `body` with FFmpeg's error messages on this thread kept for `lastError`.
    static func capturing<T>(_ body: () throws -> T) rethrows -> T {
        silence()
        if pthread_getspecific(threadCapture) != nil { return try body() }
        let capture = Capture()
        pthread_setspecific(threadCapture, Unmanaged.passUnretained(capture).toOpaque())
        defer { pthread_setspecific(threadCapture, nil) }
        return try withExtendedLifetime(capture) { try body() }
    }

    /// The last error FFmpeg logged on this thread since the previous call, if any;
    /// reading it clears it so a message explains at most one failure.
    static var lastError: String? {
        guard let raw = pthread_getspecific(threadCapture) else { return nil }
        let capture = Unmanaged<Capture>.fromOpaque(raw).takeUnretainedValue()
        defer { capture.lastError = nil }
        return capture.lastError
    }
}
