import Foundation

/// Sampled clips kept on disk, so a clip is decoded once per sampling setting
/// (ActionLab keeps them under `DIR/.actionlab/cache/`).
///
/// An entry is keyed by the clip's absolute path, size and modification time and by
/// the sampling settings: editing or replacing a clip makes a new entry. Each entry
/// is one file:
///
///     "ALCLIP01"                            magic and format version (8 bytes)
///     u32 key length, key (UTF-8)           path, size, mtime, settings, as text
///     u32 frames, height, width, channels   the settings again, as numbers
///     u64 payload length, u64 payload checksum
///     u64 header checksum                   of every byte before it
///     payload                               (T, H, W, C) uint8 pixels
///
/// all integers little-endian. An entry that is short, has another key or fails a
/// checksum is never trusted: the clip is decoded again and the entry rewritten.
/// Entries are written to a temporary file and renamed, so a reader never sees half
/// of one, even with several processes sharing the folder.
///
/// The folder is kept under `sizeLimit` bytes: once writes may have passed it, the
/// least recently used entries are removed (a read marks an entry used by setting its
/// modification time, so old sampling sizes age out first).
public struct ClipCache: Sendable {
    public let directory: URL
    /// The most bytes the entries may take together.
    public let sizeLimit: Int64

    static let magic = Array("ALCLIP01".utf8)
    /// 2 GiB: the entries of 1,000 clips at 60 x 192 x 192 gray.
    public static let defaultSizeLimit: Int64 = 2 << 30
    static let entrySuffix = ".frames"

    /// Bytes written since the folder was last measured, shared by copies of this value.
    private let written: WrittenBytes

    public init(directory: URL, sizeLimit: Int64 = ClipCache.defaultSizeLimit) {
        self.directory = directory
        self.sizeLimit = max(0, sizeLimit)
        written = WrittenBytes()
    }

    /// The sampled frames of `url`: from the cache when a valid entry exists, otherwise
    /// decoded with `ClipReader` and stored. Failing to store an entry (read-only
    /// folder, full disk) costs speed only, so it does not fail the call.
    public func frames(for url: URL, settings: SamplingSettings) throws(ClipIOError) -> ClipFrames {
        let key = try entryKey(for: url, settings: settings)
        if let cached = read(key: key, settings: settings) {
            Self.markUsed(key.file)
            return cached
        }
        let frames = try ClipReader(url: url).sampledFrames(settings)
        if (try? write(frames, key: key)) != nil { evictIfNeeded(afterWriting: Int64(frames.pixels.count)) }
        return frames
    }

    /// The cached frames of `url`, nil when there is no valid entry.
    public func cachedFrames(for url: URL, settings: SamplingSettings) -> ClipFrames? {
        guard let key = try? entryKey(for: url, settings: settings) else { return nil }
        return read(key: key, settings: settings)
    }

    /// The file holding the entry of `url` at `settings` (whether or not it exists yet).
    public func entryURL(for url: URL, settings: SamplingSettings) throws(ClipIOError) -> URL {
        try entryKey(for: url, settings: settings).file
    }

    // MARK: Keys

    struct EntryKey {
        var text: String
        var file: URL
    }

    private func entryKey(for url: URL, settings: SamplingSettings) throws(ClipIOError) -> EntryKey {
        let path = url.standardizedFileURL.path
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw ClipIOError(path: url.relativePath, reason: "no such file")
        }
        let text = "\(path)\n\(status.st_size)\n\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)\n"
            + "\(settings.frames)x\(settings.height)x\(settings.width)x\(settings.channels)"
        let hash = Checksum.of(Array(text.utf8))
        let name = String(hash, radix: 16).leftPadded(to: 16) + ".frames"
        return EntryKey(text: text, file: directory.appendingPathComponent(name))
    }

    // MARK: Reading

    /// Where a valid entry's frames lie, so a run can read them again on demand (with
    /// `readFrames(at:into:)`) instead of holding every clip's frames in memory.
    public struct EntryLocation: Sendable, Equatable {
        /// The clip the entry was made from.
        public let clip: URL
        /// The entry file.
        public let file: URL
        /// The entry's size in bytes, header and payload.
        let length: Int
        /// Where the payload starts.
        let payloadOffset: Int
        let headerChecksum: UInt64
        let payloadChecksum: UInt64
    }

    /// The location of `url`'s entry at `settings` when the entry is valid and holds
    /// exactly `frames` (what a loader returned for the clip); nil otherwise.
    public func location(of url: URL, settings: SamplingSettings, holding frames: ClipFrames) -> EntryLocation? {
        guard frames.settings == settings, let key = try? entryKey(for: url, settings: settings),
              let bytes = Self.readFile(key.file), let entry = Self.parse(bytes, key: key, settings: settings),
              bytes[entry.payload].elementsEqual(frames.pixels)
        else { return nil }
        return EntryLocation(clip: url, file: key.file, length: bytes.count, payloadOffset: entry.payload.lowerBound,
                             headerChecksum: entry.headerChecksum, payloadChecksum: entry.payloadChecksum)
    }

    /// Reads the entry at `location` into `buffer` (grown when too small, reused between
    /// calls) and returns where its frames lie there. The file is read with `pread`, not
    /// memory-mapped: another process may rewrite, evict or truncate it at any time, and a
    /// mapped page that vanished would crash the reader. An entry that is gone, has another
    /// size or fails a checksum throws an error naming the clip.
    public static func readFrames(at location: EntryLocation, into buffer: inout [UInt8]) throws(ClipIOError) -> Range<Int> {
        let clip = location.clip.path
        func changed(_ what: String) -> ClipIOError {
            ClipIOError(path: clip, reason: "its clip-cache entry \(location.file.lastPathComponent) \(what) since the clip was loaded")
        }
        let descriptor = open(location.file.path, O_RDONLY)
        guard descriptor >= 0 else { throw changed("was removed (\(String(cString: strerror(errno))))") }
        defer { close(descriptor) }
        // One byte more than expected: an entry that grew changed as surely as one that shrank.
        let wanted = location.length + 1
        if buffer.count < wanted { buffer = [UInt8](repeating: 0, count: wanted) }
        var done = 0
        let failure: Int32? = buffer.withUnsafeMutableBytes { raw in
            while done < wanted {
                let got = pread(descriptor, raw.baseAddress! + done, wanted - done, off_t(done))
                if got < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if got == 0 { return nil }
                done += got
            }
            return nil
        }
        if let failure { throw changed("could not be read (\(String(cString: strerror(failure))))") }
        guard done == location.length else {
            throw changed(done > location.length ? "grew past its \(location.length) bytes"
                          : "shrank to \(done) of its \(location.length) bytes")
        }
        let headerEnd = location.payloadOffset - 8
        let intact = buffer.withUnsafeBytes { raw in
            raw.loadUnaligned(fromByteOffset: headerEnd, as: UInt64.self) == location.headerChecksum.littleEndian
                && Checksum.of(UnsafeRawBufferPointer(rebasing: raw[..<headerEnd])) == location.headerChecksum
                && Checksum.of(UnsafeRawBufferPointer(rebasing: raw[location.payloadOffset ..< location.length]))
                    == location.payloadChecksum
        }
        guard intact else { throw changed("was rewritten or damaged (a checksum differs)") }
        return location.payloadOffset ..< location.length
    }

    private func read(key: EntryKey, settings: SamplingSettings) -> ClipFrames? {
        guard let bytes = Self.readFile(key.file), let entry = Self.parse(bytes, key: key, settings: settings) else { return nil }
        return ClipFrames(settings: settings, pixels: Array(bytes[entry.payload]))
    }

    /// What a valid entry's header says.
    private struct ParsedEntry {
        var payload: Range<Int>
        var headerChecksum: UInt64
        var payloadChecksum: UInt64
    }

    /// The entry in `bytes` when it has `key`, holds `settings` and passes both checksums.
    private static func parse(_ bytes: [UInt8], key: EntryKey, settings: SamplingSettings) -> ParsedEntry? {
        var reader = ByteReader(bytes: bytes)
        guard reader.take(Self.magic.count) == Self.magic,
              let keyLength = reader.u32(), let keyBytes = reader.take(Int(keyLength)),
              keyBytes == Array(key.text.utf8),
              let frames = reader.u32(), let height = reader.u32(), let width = reader.u32(),
              let channels = reader.u32(),
              SamplingSettings(frames: Int(frames), height: Int(height), width: Int(width),
                               channels: Int(channels)) == settings,
              let payloadLength = reader.u64(), payloadLength == UInt64(settings.byteCount),
              let payloadChecksum = reader.u64()
        else { return nil }
        let headerEnd = reader.offset
        guard let headerChecksum = reader.u64(),
              headerChecksum == bytes.withUnsafeBytes({ Checksum.of(UnsafeRawBufferPointer(rebasing: $0[..<headerEnd])) }),
              bytes.count - reader.offset == Int(payloadLength)
        else { return nil }
        let payloadStart = reader.offset
        let valid = bytes.withUnsafeBytes {
            Checksum.of(UnsafeRawBufferPointer(rebasing: $0[payloadStart...])) == payloadChecksum
        }
        guard valid else { return nil }
        return ParsedEntry(payload: payloadStart ..< bytes.count, headerChecksum: headerChecksum, payloadChecksum: payloadChecksum)
    }

    /// The whole file, nil when it cannot be read.
    private static func readFile(_ url: URL) -> [UInt8]? {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_size > 0, status.st_size < 1 << 34 else { return nil }
        let size = Int(status.st_size)
        var complete = true
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var done = 0
            while done < size {
                let got = Foundation.read(descriptor, buffer.baseAddress! + done, size - done)
                if got <= 0 { break }
                done += got
            }
            complete = done == size
            count = done
        }
        return complete ? bytes : nil
    }

    // MARK: Size

    /// What the cache folder holds.
    public struct Usage: Sendable, Equatable {
        /// Entries and their bytes.
        public struct Share: Sendable, Equatable {
            public var entries = 0
            public var bytes: Int64 = 0
        }
        public var total = Share()
        /// By the sampling the entries were made for.
        public var bySampling: [SamplingSettings: Share] = [:]
        /// Files that are not readable entries (damaged, another format, leftovers).
        public var other = Share()
    }

    /// Measures the folder, reading each entry's header (not its frames).
    public func usage() -> Usage {
        var usage = Usage()
        for file in Self.files(in: directory) {
            usage.total.entries += 1
            usage.total.bytes += file.bytes
            if let settings = Self.settings(ofEntry: file.url) {
                usage.bySampling[settings, default: Usage.Share()].entries += 1
                usage.bySampling[settings, default: Usage.Share()].bytes += file.bytes
            } else {
                usage.other.entries += 1
                usage.other.bytes += file.bytes
            }
        }
        return usage
    }

    /// Removes every file in the cache folder; returns what was removed. Entries are
    /// rebuilt from the clips when next needed.
    @discardableResult
    public func clear() -> Usage.Share {
        var removed = Usage.Share()
        for file in Self.files(in: directory) where (try? FileManager.default.removeItem(at: file.url)) != nil {
            removed.entries += 1
            removed.bytes += file.bytes
        }
        return removed
    }

    /// Removes least recently used entries until the folder holds at most `limit` bytes;
    /// returns what was removed.
    @discardableResult
    public func evict(toFit limit: Int64) -> Usage.Share {
        var files = Self.files(in: directory)
        var total = files.reduce(Int64(0)) { $0 + $1.bytes }
        var removed = Usage.Share()
        guard total > limit else { return removed }
        files.sort { $0.used < $1.used }
        for file in files where total > limit {
            guard (try? FileManager.default.removeItem(at: file.url)) != nil else { continue }
            total -= file.bytes
            removed.entries += 1
            removed.bytes += file.bytes
        }
        return removed
    }

    /// Measures the folder once the bytes written since the last time could have taken
    /// it past the limit (a sixteenth of it), so a full folder is not listed at each write.
    private func evictIfNeeded(afterWriting bytes: Int64) {
        guard written.add(bytes, threshold: max(1, sizeLimit / 16)) else { return }
        evict(toFit: sizeLimit)
    }

    /// A file of the cache folder: its size and when it was last used.
    struct CachedFile {
        let url: URL
        let bytes: Int64
        let used: Date
    }

    /// The files of `directory` (not the temporaries of writes in progress).
    static func files(in directory: URL) -> [CachedFile] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.compactMap { name in
            guard !name.hasPrefix(".") else { return nil }
            let url = directory.appendingPathComponent(name)
            var status = stat()
            guard lstat(url.path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
            let used = Date(timeIntervalSince1970: Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9)
            return CachedFile(url: url, bytes: Int64(status.st_size), used: used)
        }
    }

    /// The sampling an entry holds, from its header; nil for a file that is not an entry.
    static func settings(ofEntry url: URL) -> SamplingSettings? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let start = try? handle.read(upToCount: magic.count + 4) else { return nil }
        var reader = ByteReader(bytes: Array(start))
        guard reader.take(magic.count) == magic, let keyLength = reader.u32(), keyLength < 1 << 20,
              (try? handle.seek(toOffset: UInt64(magic.count + 4) + UInt64(keyLength))) != nil,
              let numbers = try? handle.read(upToCount: 16)
        else { return nil }
        var fields = ByteReader(bytes: Array(numbers))
        guard let frames = fields.u32(), let height = fields.u32(), let width = fields.u32(),
              let channels = fields.u32()
        else { return nil }
        return SamplingSettings(frames: Int(frames), height: Int(height), width: Int(width), channels: Int(channels))
    }

    /// Sets the entry's modification time to now: eviction removes the least recently used.
    private static func markUsed(_ file: URL) {
        _ = utimensat(AT_FDCWD, file.path, nil, 0)
    }

    // MARK: Writing

    private func write(_ frames: ClipFrames, key: EntryKey) throws {
        var header = Self.magic
        let keyBytes = Array(key.text.utf8)
        header.appendLittleEndian(UInt32(keyBytes.count))
        header += keyBytes
        for value in [frames.settings.frames, frames.settings.height, frames.settings.width, frames.settings.channels] {
            header.appendLittleEndian(UInt32(value))
        }
        header.appendLittleEndian(UInt64(frames.pixels.count))
        header.appendLittleEndian(frames.pixels.withUnsafeBytes { Checksum.of($0) })
        header.appendLittleEndian(Checksum.of(header))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(".\(key.file.lastPathComponent).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp")
        let data = Data(header) + Data(frames.pixels)
        do {
            try data.write(to: temporary)
            guard rename(temporary.path, key.file.path) == 0 else {
                throw CocoaError(.fileWriteUnknown)
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }
}

/// A byte count shared by the copies of one `ClipCache`, which may be used from several threads.
private final class WrittenBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: Int64 = 0
    private var measured = false

    /// Adds `count`; true (and starts counting again) once the total reaches `threshold`,
    /// or on the first write, so a folder already over the limit is trimmed at once.
    func add(_ count: Int64, threshold: Int64) -> Bool {
        lock.withLock {
            bytes += count
            guard bytes >= threshold || !measured else { return false }
            bytes = 0
            measured = true
            return true
        }
    }
}

/// A fast 64-bit checksum (four multiply-rotate lanes over 8-byte words, as in xxHash)
/// to detect damaged cache entries; not cryptographic.
enum Checksum {
    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9

    static func of(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { of($0) }
    }

    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        @inline(__always) func round(_ lane: UInt64, _ word: UInt64) -> UInt64 {
            let mixed = lane &+ word &* prime2
            return ((mixed << 31) | (mixed >> 33)) &* prime1
        }
        let count = bytes.count
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (prime1 &+ prime2, prime2, 0, 0 &- prime1)
        var offset = 0
        while offset + 32 <= count {
            lanes.0 = round(lanes.0, bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            lanes.1 = round(lanes.1, bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
            lanes.2 = round(lanes.2, bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self))
            lanes.3 = round(lanes.3, bytes.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self))
            offset += 32
        }
        var hash = UInt64(count) &* prime3
        for lane in [lanes.0, lanes.1, lanes.2, lanes.3] {
            hash = round(hash ^ round(0, lane), prime3)
        }
        while offset < count {
            hash = round(hash, UInt64(bytes[offset]) &+ 1)
            offset += 1
        }
        hash ^= hash >> 33
        hash = hash &* prime2
        hash ^= hash >> 29
        return hash
    }
}

/// Reads little-endian fields from a byte array; nil past the end.
private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return Array(bytes[offset ..< offset + count])
    }

    mutating func u32() -> UInt32? {
        take(4).map { $0.reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    }

    mutating func u64() -> UInt64? {
        take(8).map { $0.reversed().reduce(0) { $0 << 8 | UInt64($1) } }
    }
}

private extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
