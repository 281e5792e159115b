@testable import ClipIO
import Foundation
import TestSupport
import Testing

/// Reading a located cache entry again, as a training run does for every batch, while
/// other processes may evict, rewrite or truncate it.
@Suite struct CacheEntryReadTests {
    let folder: TemporaryFolder
    let cache: ClipCache
    let settings = SamplingSettings(frames: 8, height: 16, width: 16, channels: 1)

    init() throws {
        folder = try TemporaryFolder()
        cache = ClipCache(directory: folder.file("cache"))
    }

    /// A clip, its decoded frames and the location of the entry that holds them.
    func located() throws -> (URL, ClipFrames, ClipCache.EntryLocation) {
        let url = try TestClips.indexCoded(folder.file("clip.mp4"), frames: 16)
        let frames = try cache.frames(for: url, settings: settings)
        let location = try #require(cache.location(of: url, settings: settings, holding: frames))
        return (url, frames, location)
    }

    @Test func aLocatedEntryReadsBackItsFramesIntoAReusedBuffer() throws {
        let (_, frames, location) = try located()
        var buffer: [UInt8] = []
        let payload = try ClipCache.readFrames(at: location, into: &buffer)
        #expect(Array(buffer[payload]) == frames.pixels)
        let capacity = buffer.count
        #expect(Array(buffer[try ClipCache.readFrames(at: location, into: &buffer)]) == frames.pixels)
        #expect(buffer.count == capacity, "the buffer is reused, not grown again")
    }

    @Test func anEntryHoldingOtherFramesIsNotLocated() throws {
        let (url, frames, _) = try located()
        var other = frames
        other.pixels[0] &+= 1
        #expect(cache.location(of: url, settings: settings, holding: other) == nil)
        let uncached = try TestClips.indexCoded(folder.file("other.mp4"), frames: 16)
        #expect(cache.location(of: uncached, settings: settings, holding: frames) == nil)
    }

    /// Changes the located entry with `change`; reading it must throw an error naming the clip.
    func expectChangedEntryIsAnError(_ change: (URL) throws -> Void, saying words: String) throws {
        let (url, _, location) = try located()
        try change(location.file)
        var buffer: [UInt8] = []
        do {
            _ = try ClipCache.readFrames(at: location, into: &buffer)
            Issue.record("a changed entry was read")
        } catch {
            #expect(error.path == url.path)
            #expect(error.reason.contains(words), "\(error)")
        }
    }

    @Test func anEntryTruncatedInPlaceIsAnErrorNamingTheClip() throws {
        try expectChangedEntryIsAnError({ file in
            let handle = try FileHandle(forWritingTo: file)
            try handle.truncate(atOffset: 100)
            try handle.close()
        }, saying: "shrank to 100")
    }

    @Test func anEntryThatGrewIsAnError() throws {
        try expectChangedEntryIsAnError({ file in
            let handle = try FileHandle(forWritingTo: file)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data([1]))
            try handle.close()
        }, saying: "grew")
    }

    @Test func anEntryRewrittenWithOtherFramesIsAnError() throws {
        try expectChangedEntryIsAnError({ file in
            var bytes = try Data(contentsOf: file)
            bytes[bytes.count - 1] ^= 0xFF
            try bytes.write(to: file)
        }, saying: "checksum")
    }

    @Test func anEvictedEntryIsAnError() throws {
        try expectChangedEntryIsAnError({ try FileManager.default.removeItem(at: $0) }, saying: "removed")
    }
}
