@testable import ClipIO
import Foundation
import TestSupport
import Testing

@Suite struct ClipCacheTests {
    let folder: TemporaryFolder
    let cache: ClipCache
    let settings = SamplingSettings(frames: 8, height: 16, width: 16, channels: 1)

    init() throws {
        folder = try TemporaryFolder()
        cache = ClipCache(directory: folder.file("cache"))
    }

    func clip(frames: Int = 16) throws -> URL {
        try TestClips.indexCoded(folder.file("clip.mp4"), frames: frames)
    }

    @Test func storesDecodedFramesAndReturnsThemOnTheNextCall() throws {
        let url = try clip()
        #expect(cache.cachedFrames(for: url, settings: settings) == nil)
        let decoded = try cache.frames(for: url, settings: settings)
        #expect(decoded == (try ClipReader(url: url).sampledFrames(settings)))
        #expect(FileManager.default.fileExists(atPath: try cache.entryURL(for: url, settings: settings).path))
        #expect(cache.cachedFrames(for: url, settings: settings) == decoded)
        #expect(try cache.frames(for: url, settings: settings) == decoded)
        // Only the entry is left in the folder: no temporary files.
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.directory.path).count == 1)
    }

    @Test func keysEntriesBySettingsAndByTheFileItself() throws {
        let url = try clip()
        let gray = try cache.frames(for: url, settings: settings)
        let rgb = SamplingSettings(frames: 8, height: 16, width: 16, channels: 3)
        #expect(try cache.entryURL(for: url, settings: rgb) != (try cache.entryURL(for: url, settings: settings)))
        #expect(try cache.frames(for: url, settings: rgb).pixels.count == 8 * 16 * 16 * 3)
        // Replacing the clip (new size and time) must not hand out the old frames.
        let before = try cache.entryURL(for: url, settings: settings)
        try TestClips.indexCoded(url, frames: 4)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 10)], ofItemAtPath: url.path)
        #expect(try cache.entryURL(for: url, settings: settings) != before)
        let replaced = try cache.frames(for: url, settings: settings)
        #expect(replaced != gray)
        #expect(TestClips.frameMeans(replaced).map(TestClips.frameIndex) == [0, 0, 1, 1, 2, 2, 3, 3])
    }

    /// Damages the entry with `damage`, then checks it is ignored and rewritten.
    func expectDamagedEntryIsRedecoded(_ damage: (inout Data) -> Void) throws {
        let url = try clip()
        let good = try cache.frames(for: url, settings: settings)
        let entry = try cache.entryURL(for: url, settings: settings)
        var bytes = try Data(contentsOf: entry)
        damage(&bytes)
        try bytes.write(to: entry)
        #expect(cache.cachedFrames(for: url, settings: settings) == nil)
        #expect(try cache.frames(for: url, settings: settings) == good)
        #expect(cache.cachedFrames(for: url, settings: settings) == good)
    }

    @Test func aFlippedPixelByteIsDetected() throws {
        try expectDamagedEntryIsRedecoded { $0[$0.count - 100] ^= 0x01 }
    }

    @Test func aFlippedHeaderByteIsDetected() throws {
        try expectDamagedEntryIsRedecoded { $0[14] ^= 0x20 }
    }

    @Test func aTruncatedEntryIsDetected() throws {
        try expectDamagedEntryIsRedecoded { $0 = $0.prefix($0.count / 2) }
    }

    @Test func anEntryOfAnotherClipIsDetected() throws {
        let other = try TestClips.indexCoded(folder.file("other.mp4"), frames: 5)
        _ = try cache.frames(for: other, settings: settings)
        let otherEntry = try Data(contentsOf: try cache.entryURL(for: other, settings: settings))
        try expectDamagedEntryIsRedecoded { $0 = otherEntry }
    }

    @Test func garbageAndEmptyEntriesAreDetected() throws {
        var generator = SplitMix64(seed: 1)
        try expectDamagedEntryIsRedecoded { $0 = Data((0..<3000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }) }
        try expectDamagedEntryIsRedecoded { $0 = Data() }
    }

    @Test func anUnwritableCacheStillGivesFrames() throws {
        let url = try clip()
        let blocked = folder.file("not-a-folder")
        try Data("a file where the cache folder should be".utf8).write(to: blocked)
        let frames = try ClipCache(directory: blocked).frames(for: url, settings: settings)
        #expect(frames == (try ClipReader(url: url).sampledFrames(settings)))
    }

    @Test func badClipsAreErrorsNamingTheFile() throws {
        let notes = folder.file("notes.mp4")
        try Data("no video here".utf8).write(to: notes)
        #expect(throws: ClipIOError.self) { try cache.frames(for: notes, settings: settings) }
        let missing = #expect(throws: ClipIOError.self) {
            try cache.frames(for: folder.file("missing.mp4"), settings: settings)
        }
        #expect(missing?.description == folder.file("missing.mp4").relativePath + ": no such file")
    }

    @Test func checksumSeesEveryByte() {
        var bytes = [UInt8](repeating: 7, count: 1000)
        let original = Checksum.of(bytes)
        for index in [0, 31, 32, 500, 991, 999] {
            bytes[index] ^= 1
            #expect(Checksum.of(bytes) != original, "byte \(index)")
            bytes[index] ^= 1
        }
        #expect(Checksum.of(bytes) == original)
        #expect(Checksum.of([]) != Checksum.of([0]))
    }
}

/// The cache's size limit, its measure by sampling size, and clearing it.
@Suite struct ClipCacheSizeTests {
    let folder: TemporaryFolder
    // Three sampling sizes of equal byte count (2,048 bytes of frames each).
    let small = SamplingSettings(frames: 8, height: 16, width: 16, channels: 1)
    let wide = SamplingSettings(frames: 8, height: 8, width: 32, channels: 1)
    let short = SamplingSettings(frames: 4, height: 16, width: 32, channels: 1)

    init() throws {
        folder = try TemporaryFolder()
    }

    /// Makes `url`'s entry look last used `seconds` ago.
    func age(_ entry: URL, by seconds: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -seconds)],
                                              ofItemAtPath: entry.path)
    }

    @Test func writesPastTheLimitRemoveTheLeastRecentlyUsedEntries() throws {
        let url = try TestClips.indexCoded(folder.file("clip.mp4"), frames: 16)
        let probe = ClipCache(directory: folder.file("probe"))
        _ = try probe.frames(for: url, settings: small)
        let entryBytes = try #require(ClipCache.files(in: probe.directory).first?.bytes)

        // Room for two entries and a half.
        let cache = ClipCache(directory: folder.file("cache"), sizeLimit: entryBytes * 5 / 2)
        _ = try cache.frames(for: url, settings: small)
        try age(cache.entryURL(for: url, settings: small), by: 300)
        _ = try cache.frames(for: url, settings: wide)
        try age(cache.entryURL(for: url, settings: wide), by: 200)
        // Reading the oldest entry makes it the most recently used.
        _ = try cache.frames(for: url, settings: small)
        _ = try cache.frames(for: url, settings: short)

        let exists = { (settings: SamplingSettings) in
            FileManager.default.fileExists(atPath: try cache.entryURL(for: url, settings: settings).path)
        }
        #expect(try exists(small))
        #expect(try !exists(wide))
        #expect(try exists(short))
        #expect(cache.usage().total.bytes <= cache.sizeLimit)
    }

    @Test func usageCountsEntriesBySamplingAndClearRemovesThem() throws {
        let url = try TestClips.indexCoded(folder.file("clip.mp4"), frames: 16)
        let other = try TestClips.indexCoded(folder.file("other.mp4"), frames: 16)
        let cache = ClipCache(directory: folder.file("cache"))
        for clip in [url, other] { _ = try cache.frames(for: clip, settings: small) }
        _ = try cache.frames(for: url, settings: wide)
        try Data("left over".utf8).write(to: cache.directory.appendingPathComponent("junk.frames"))

        let usage = cache.usage()
        #expect(usage.total.entries == 4)
        #expect(usage.bySampling[small]?.entries == 2)
        #expect(usage.bySampling[wide]?.entries == 1)
        #expect(usage.bySampling[short] == nil)
        #expect(usage.other == .init(entries: 1, bytes: 9))
        #expect(usage.total.bytes == usage.bySampling.values.reduce(0) { $0 + $1.bytes } + 9)

        let removed = cache.clear()
        #expect(removed == usage.total)
        #expect(cache.usage().total.entries == 0)
        // Cleared entries are decoded again when needed.
        #expect(try cache.frames(for: url, settings: small) == (try ClipReader(url: url).sampledFrames(small)))
    }
}
