import Foundation
import TOMLKit

/// The settings a user writes in `DIR/actionlab.toml`:
///
/// ```toml
/// classes = ["run", "walk", "jump", "wave", "spin"]   # keys 1..9 in this order
/// [sampling]                                           # optional
/// frames = 16
/// height = 64
/// width = 64
/// channels = 1
/// [cache]                                              # optional
/// max_size_mib = 2048                                  # the clip cache's size limit
/// ```
///
/// Without the file the five default classes apply and no sampling is set.
public struct ProjectConfig: Sendable, Equatable {
    /// Class names in key order: the first is labelled with key 1, the ninth with key 9.
    public var classes: [String]
    /// How clips are sampled into model input, when the file sets it.
    public var sampling: Sampling?
    /// The most bytes the clip cache (`.actionlab/cache`) may hold, when the file sets it.
    public var cacheSizeLimit: Int64?

    /// The sampling a project asks for: `frames` timesteps of `height` x `width` x `channels`.
    public struct Sampling: Sendable, Equatable {
        public var frames: Int
        public var height: Int
        public var width: Int
        public var channels: Int

        public init(frames: Int, height: Int, width: Int, channels: Int) {
            self.frames = frames
            self.height = height
            self.width = width
            self.channels = channels
        }
    }

    public static let defaultClasses = ["run", "walk", "jump", "wave", "spin"]
    /// One class per digit key 1-9.
    public static let maximumClasses = 9

    public init(classes: [String] = ProjectConfig.defaultClasses, sampling: Sampling? = nil) {
        self.classes = classes
        self.sampling = sampling
    }

    /// Reads `layout.configURL`, or returns the defaults when the file does not exist.
    public static func load(_ layout: ProjectLayout) throws -> ProjectConfig {
        let url = layout.configURL
        guard FileManager.default.fileExists(atPath: url.path) else { return ProjectConfig() }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ProjectConfigError(file: url.path, line: nil, problem: "cannot be read as UTF-8 text")
        }
        return try parse(text, file: url.path)
    }

    /// Parses the text of an `actionlab.toml`; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> ProjectConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ProjectConfigError(file: file, line: error.source.begin.line, problem: error.description)
        }
        let known: Set<String> = ["classes", "sampling", "cache"]
        if let unknown = table.keys.sorted().first(where: { !known.contains($0) }) {
            throw ProjectConfigError(file: file, line: nil,
                                     problem: "unknown setting '\(unknown)' (expected 'classes', [sampling] or [cache])")
        }

        var config = ProjectConfig()
        if let value = table["classes"] {
            guard let array = value.array else {
                throw ProjectConfigError(file: file, line: nil, problem: "'classes' must be an array of names")
            }
            var names: [String] = []
            for element in array {
                guard let name = element.string else {
                    throw ProjectConfigError(file: file, line: nil,
                                             problem: "'classes' must hold only strings, found \(element.debugDescription)")
                }
                names.append(name)
            }
            config.classes = names
        }
        try validate(classes: config.classes, file: file)

        if let value = table["sampling"] {
            guard let sampling = value.table else {
                throw ProjectConfigError(file: file, line: nil, problem: "'sampling' must be a table")
            }
            config.sampling = try parseSampling(sampling, file: file)
        }
        if let value = table["cache"] {
            guard let cache = value.table else {
                throw ProjectConfigError(file: file, line: nil, problem: "'cache' must be a table")
            }
            config.cacheSizeLimit = try parseCacheLimit(cache, file: file)
        }
        return config
    }

    /// `[cache] max_size_mib`: a whole number of MiB, at most a pebibyte.
    private static func parseCacheLimit(_ table: TOMLTable, file: String) throws -> Int64 {
        if let unknown = table.keys.sorted().first(where: { $0 != "max_size_mib" }) {
            throw ProjectConfigError(file: file, line: nil,
                                     problem: "unknown [cache] setting '\(unknown)' (expected max_size_mib)")
        }
        guard let value = table["max_size_mib"] else {
            throw ProjectConfigError(file: file, line: nil, problem: "[cache] is missing 'max_size_mib'")
        }
        guard let mebibytes = value.int, (1...(1 << 30)).contains(mebibytes) else {
            throw ProjectConfigError(file: file, line: nil, problem: "[cache] max_size_mib must be a whole number "
                                     + "from 1 to 1073741824, found \(value.debugDescription)")
        }
        return Int64(mebibytes) << 20
    }

    private static func validate(classes: [String], file: String) throws {
        if classes.isEmpty {
            throw ProjectConfigError(file: file, line: nil, problem: "'classes' is empty; name at least one class")
        }
        if classes.count > maximumClasses {
            throw ProjectConfigError(file: file, line: nil,
                                     problem: "'classes' names \(classes.count) classes; at most \(maximumClasses) fit the keys 1-9")
        }
        var seen = Set<String>()
        for name in classes {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed != name || name.contains(where: \.isNewline) {
                throw ProjectConfigError(file: file, line: nil,
                                         problem: "class name '\(name)' is empty or has surrounding spaces")
            }
            if !seen.insert(name).inserted {
                throw ProjectConfigError(file: file, line: nil, problem: "class '\(name)' is named twice")
            }
        }
    }

    private static func parseSampling(_ table: TOMLTable, file: String) throws -> Sampling {
        let fields = ["frames", "height", "width", "channels"]
        if let unknown = table.keys.sorted().first(where: { !fields.contains($0) }) {
            throw ProjectConfigError(file: file, line: nil,
                                     problem: "unknown [sampling] setting '\(unknown)' (expected frames, height, width, channels)")
        }
        // ClipIO's own bounds: beyond them a size is a typing mistake, and their product cannot overflow.
        func value(_ field: String, in range: ClosedRange<Int>) throws -> Int {
            guard let value = table[field] else {
                throw ProjectConfigError(file: file, line: nil, problem: "[sampling] is missing '\(field)'")
            }
            guard let number = value.int, range.contains(number) else {
                throw ProjectConfigError(file: file, line: nil, problem: "[sampling] \(field) must be a whole number "
                                         + "from \(range.lowerBound) to \(range.upperBound), found \(value.debugDescription)")
            }
            return number
        }
        let frames = try value("frames", in: 1...10_000)
        let height = try value("height", in: 1...8192)
        let width = try value("width", in: 1...8192)
        let channels = try value("channels", in: 1...3)
        guard channels == 1 || channels == 3 else {
            throw ProjectConfigError(file: file, line: nil,
                                     problem: "[sampling] channels must be 1 (gray) or 3 (RGB), found \(channels)")
        }
        return Sampling(frames: frames, height: height, width: width, channels: channels)
    }
}

/// A problem in `actionlab.toml`, naming the file and, when known, the line.
public struct ProjectConfigError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int?
    public let problem: String

    public var description: String {
        if let line { return "\(file):\(line): \(problem)" }
        return "\(file): \(problem)"
    }
}
