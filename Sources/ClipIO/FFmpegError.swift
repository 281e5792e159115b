import CFFmpeg

/// Turns an FFmpeg status code into FFmpeg's own message (`av_strerror`).
func ffmpegMessage(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(cffmpeg_error_max_string_size()))
    if av_strerror(code, &buffer, buffer.count) < 0 {
        return "FFmpeg error \(code)"
    }
    return string(fromCharacters: buffer)
}

/// The text of a NUL-terminated C character buffer.
func string(fromCharacters buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A failed FFmpeg call inside ClipIO: what was being done, FFmpeg's status code and
/// the last error FFmpeg logged meanwhile. It never leaves the module: public entry
/// points turn it into a `ClipIOError` naming the file (see `ClipIOError.init(path:_:)`).
struct FFmpegError: Error {
    /// What ClipIO was doing, e.g. "cannot open".
    let operation: String
    /// FFmpeg's status code, or nil when the failure is ClipIO's own finding.
    let code: Int32?
    /// The last error-level message FFmpeg logged during the call (e.g. "moov atom not found").
    let logged: String?

    init(_ operation: String, code: Int32? = nil, logged: String? = FFmpegLog.lastError) {
        self.operation = operation
        self.code = code
        self.logged = logged
    }

    var message: String {
        var parts = [operation]
        if let code { parts.append(ffmpegMessage(code)) }
        if let logged, !logged.isEmpty, !parts.contains(where: { $0.contains(logged) }) {
            parts.append(logged)
        }
        return parts.joined(separator: ": ")
    }
}

/// Checks an FFmpeg status code: negative codes become an `FFmpegError` naming `operation`.
@discardableResult
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(FFmpegError) -> Int32 {
    if code < 0 { throw FFmpegError(operation(), code: code) }
    return code
}

/// A clip that could not be read, decoded, cached or written.
///
/// `description` is one line, `"<file>: <what is wrong>"`, with FFmpeg's own message
/// where FFmpeg gave one, e.g. `"clip.mp4: cannot open: Invalid data found when processing input"`.
public struct ClipIOError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file, as the caller named it.
    public let path: String
    /// What is wrong with it.
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// The one place FFmpeg failures become public errors.
    init(path: String, _ error: FFmpegError) {
        self.init(path: path, reason: error.message)
    }

    public var description: String { "\(path): \(reason)" }
}

/// Runs `body`, turning any failure into a `ClipIOError` naming `path` and capturing
/// FFmpeg's log messages on this thread so they can explain the failure.
func namingFile<T>(_ path: String, _ body: () throws -> T) throws(ClipIOError) -> T {
    do {
        return try FFmpegLog.capturing(body)
    } catch let error as ClipIOError {
        throw error
    } catch let error as FFmpegError {
        throw ClipIOError(path: path, error)
    } catch {
        throw ClipIOError(path: path, reason: "\(error)")
    }
}
