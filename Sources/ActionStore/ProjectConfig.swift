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
/// [training]                                           # optional: the recipe
/// input = "motion"
/// horizontal_flip = [["pan_left", "pan_right"]]
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
    /// The project's training recipe choices, when the file has a [training] section.
    public var training: TrainingChoices?

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
        let known: Set<String> = ["classes", "sampling", "cache", "training"]
        if let unknown = table.keys.sorted().first(where: { !known.contains($0) }) {
            throw ProjectConfigError(file: file, line: nil,
                                     problem: "unknown setting '\(unknown)' (expected 'classes', [sampling], [cache] or [training])")
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
        if let value = table["training"] {
            guard let training = value.table else {
                throw ProjectConfigError(file: file, line: nil, problem: "'training' must be a table")
            }
            config.training = try TrainingChoices.parse(training, classes: config.classes, file: file)
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

/// The `[training]` section of `actionlab.toml`: the project's choices of recipe, each
/// optional (unset ones keep the preset's value). Names of inputs and heads are checked
/// by the trainer, which knows them; label swaps are checked here against the classes.
///
/// ```toml
/// [training]
/// input = "motion"            # frames, frame_differences, signed_differences,
///                             # frames_and_differences, motion, frames_and_motion
/// head = "global_average_pool"
/// crop = true                 # the label-safe changes: crop, shift, speed, light
/// horizontal_flip = [["pan_left", "pan_right"]]   # these trade labels when mirrored
/// vertical_flip = true        # true: every class looks the same upside down
/// time_reversal = false       # false (the default): never
/// ```
public struct TrainingChoices: Sendable, Equatable {
    /// What a mirror or a time reversal may do: nothing (never applied), keep every label,
    /// or swap the labels of the pairs listed.
    public enum Symmetry: Sendable, Equatable {
        case never
        case swaps([[String]])
    }

    public var input: String?
    public var head: String?
    public var normalize: String?
    /// The number format of the matrix products: "fp32" or "bf16".
    public var precision: String?
    public var headDropout: Double?
    public var weightDecay: Double?
    public var crop: Bool?
    public var shift: Bool?
    public var speed: Bool?
    public var light: Bool?
    public var horizontalFlip: Symmetry?
    public var verticalFlip: Symmetry?
    public var timeReversal: Symmetry?

    public init() {}

    static let booleanKeys = ["crop", "shift", "speed", "light"]
    static let symmetryKeys = ["horizontal_flip", "vertical_flip", "time_reversal"]
    static let keys = ["input", "head", "normalize", "precision", "head_dropout", "weight_decay"] + booleanKeys + symmetryKeys

    static func parse(_ table: TOMLTable, classes: [String], file: String) throws -> TrainingChoices {
        func problem(_ text: String) -> ProjectConfigError { ProjectConfigError(file: file, line: nil, problem: text) }
        if let unknown = table.keys.sorted().first(where: { !keys.contains($0) }) {
            throw problem("unknown [training] setting '\(unknown)' (expected \(keys.joined(separator: ", ")))")
        }
        var choices = TrainingChoices()
        for key in ["input", "head", "normalize", "precision"] {
            guard let value = table[key] else { continue }
            guard let name = value.string else { throw problem("[training] \(key) must be a name in quotes") }
            switch key {
            case "input": choices.input = name
            case "head": choices.head = name
            case "precision": choices.precision = name
            default: choices.normalize = name
            }
        }
        for key in ["head_dropout", "weight_decay"] {
            guard let value = table[key] else { continue }
            guard let number = value.double ?? value.int.map(Double.init), number.isFinite, number >= 0, number < 1 else {
                throw problem("[training] \(key) must be a number in [0, 1), found \(value.debugDescription)")
            }
            if key == "head_dropout" { choices.headDropout = number } else { choices.weightDecay = number }
        }
        for key in booleanKeys {
            guard let value = table[key] else { continue }
            guard let flag = value.bool else { throw problem("[training] \(key) must be true or false") }
            switch key {
            case "crop": choices.crop = flag
            case "shift": choices.shift = flag
            case "speed": choices.speed = flag
            default: choices.light = flag
            }
        }
        for key in symmetryKeys {
            guard let value = table[key] else { continue }
            let symmetry = try parseSymmetry(value, key: key, classes: classes, problem: problem)
            switch key {
            case "horizontal_flip": choices.horizontalFlip = symmetry
            case "vertical_flip": choices.verticalFlip = symmetry
            default: choices.timeReversal = symmetry
            }
        }
        return choices
    }

    private static func parseSymmetry(_ value: any TOMLValueConvertible, key: String, classes: [String],
                                      problem: (String) -> ProjectConfigError) throws -> Symmetry {
        if let flag = value.bool { return flag ? .swaps([]) : .never }
        let usage = "[training] \(key) must be false, true (every class looks the same) or a list of class "
            + "pairs that trade labels, e.g. [[\"pan_left\", \"pan_right\"]]"
        guard let pairs = value.array else { throw problem(usage) }
        var result: [[String]] = []
        var used = Set<String>()
        for element in pairs {
            guard let pair = element.array, pair.count == 2,
                  let a = pair[0].string, let b = pair[1].string, a != b else { throw problem(usage) }
            for name in [a, b] {
                guard classes.contains(name) else {
                    throw problem("[training] \(key) names '\(name)', which is not one of the classes "
                                  + "(\(classes.joined(separator: ", ")))")
                }
                guard used.insert(name).inserted else { throw problem("[training] \(key) names '\(name)' twice") }
            }
            result.append([a, b])
        }
        return .swaps(result)
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
