import ActionStore
import ArgumentParser
import ClipIO
import Foundation

/// `actionlab cache DIR`: what the project's clip cache holds, and clearing it.
struct Cache: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the size of a project's clip cache, by sampling size, or clear it.",
        discussion: """
            The cache (DIR/.actionlab/cache) keeps clips decoded at each sampling size used \\
            for training or prediction, so a clip is decoded once per size. It is kept under \\
            a size limit, 2 GiB unless actionlab.toml sets [cache] max_size_mib, by removing \\
            the least recently used entries. Clearing it loses nothing: entries are decoded \\
            again when needed.
            """)

    @Argument(help: "The project folder.")
    var dir: String

    @Flag(help: "Remove every cache entry.")
    var clear = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let layout = ProjectLayout(root: URL(fileURLWithPath: dir))
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: layout.root.path, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw StoreError.noSuchProjectFolder(layout.root.path) }
        // Refuses a linked .actionlab (and cleans stale temporaries) like every command.
        try ProjectStore.open(layout).close()
        let limit = try ProjectConfig.load(layout).cacheSizeLimit ?? ClipCache.defaultSizeLimit
        let cache = ClipCache(directory: layout.cacheDirectory, sizeLimit: limit)
        let removed = clear ? cache.clear() : nil
        let usage = cache.usage()
        if json {
            print(Self.json(usage, folder: cache.directory.path, limit: limit, removed: removed))
        } else {
            print(Self.text(usage, folder: cache.directory.path, limit: limit, removed: removed))
        }
    }

    static func text(_ usage: ClipCache.Usage, folder: String, limit: Int64, removed: ClipCache.Usage.Share?) -> String {
        var lines: [String] = []
        if let removed { lines.append("Removed \(entries(removed.entries)) (\(bytes(removed.bytes)))") }
        lines.append("\(folder): \(entries(usage.total.entries)), \(bytes(usage.total.bytes)) of \(bytes(limit))")
        let sizes = usage.bySampling.sorted { ($0.key.frames, $0.key.height, $0.key.width, $0.key.channels)
            < ($1.key.frames, $1.key.height, $1.key.width, $1.key.channels) }
        for (settings, share) in sizes {
            lines.append("  \(settings.frames) x \(settings.height) x \(settings.width) x \(settings.channels): "
                         + "\(entries(share.entries)), \(bytes(share.bytes))")
        }
        if usage.other.entries > 0 {
            lines.append("  other files: \(usage.other.entries), \(bytes(usage.other.bytes))")
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ usage: ClipCache.Usage, folder: String, limit: Int64, removed: ClipCache.Usage.Share?) -> String {
        struct Report: Encodable {
            struct Size: Encodable {
                let frames, height, width, channels, entries: Int
                let bytes: Int64
            }
            struct Removed: Encodable {
                let entries: Int
                let bytes: Int64
            }
            let folder: String
            let entries: Int
            let bytes: Int64
            let limitBytes: Int64
            let bySampling: [Size]
            let otherFiles: Int
            let otherBytes: Int64
            let removed: Removed?
        }
        let sizes = usage.bySampling.map { settings, share in
            Report.Size(frames: settings.frames, height: settings.height, width: settings.width,
                        channels: settings.channels, entries: share.entries, bytes: share.bytes)
        }.sorted { ($0.frames, $0.height, $0.width, $0.channels) < ($1.frames, $1.height, $1.width, $1.channels) }
        let report = Report(folder: folder, entries: usage.total.entries, bytes: usage.total.bytes, limitBytes: limit,
                            bySampling: sizes, otherFiles: usage.other.entries, otherBytes: usage.other.bytes,
                            removed: removed.map { Report.Removed(entries: $0.entries, bytes: $0.bytes) })
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(report)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func entries(_ count: Int) -> String { count == 1 ? "1 entry" : "\(count) entries" }

    /// Bytes in the largest binary unit that keeps a number of at least 1.
    static func bytes(_ count: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? (count == 1 ? "1 byte" : "\(count) bytes") : String(format: "%.1f", value) + " " + units[unit]
    }
}
