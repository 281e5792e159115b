import Foundation
import GRDB

/// What `importCSV` applied.
public struct ImportReport: Sendable, Equatable {
    /// A row whose clip the last scan found unreadable: its label is imported (so an
    /// export imports back whole), but the clip is not trained on until it can be read.
    public struct UnreadableClip: Sendable, Equatable {
        public let line: Int
        public let path: String
        public let reason: String
        public init(line: Int, path: String, reason: String) {
            self.line = line
            self.path = path
            self.reason = reason
        }
    }

    /// Rows read (header and blank lines not counted).
    public var rows: Int
    /// Clips whose label changed.
    public var changed: Int
    /// Clips that already had the imported label.
    public var unchanged: Int
    /// Files that were not in the database yet (added unprobed; the next scan probes them).
    public var addedClips: Int
    /// Rows whose label was renamed by the import's class mapping.
    public var mapped: Int
    /// Labelled clips that cannot be decoded, by line.
    public var unreadable: [UnreadableClip]

    public init(rows: Int, changed: Int, unchanged: Int, addedClips: Int, mapped: Int = 0,
                unreadable: [UnreadableClip] = []) {
        self.rows = rows
        self.changed = changed
        self.unchanged = unchanged
        self.addedClips = addedClips
        self.mapped = mapped
        self.unreadable = unreadable
    }
}

/// Why a label file was rejected as a whole; nothing of it was applied.
public struct LabelImportError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// One bad row.
    public struct Problem: Sendable, Equatable {
        /// From 1; 0 for the file as a whole.
        public let line: Int
        public let message: String
        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    public let file: String
    public let problems: [Problem]
    /// What to do about them, when there is one thing to do.
    public let hint: String?

    public init(file: String, problems: [Problem], hint: String? = nil) {
        self.file = file
        self.problems = problems
        self.hint = hint
    }

    /// The problems listed in full up to this many, then counted.
    static let listed = 20

    public var description: String {
        // Line 0 stands for the file as a whole (it cannot be read at all).
        if problems.count == 1, problems[0].line == 0 { return "\(file): \(problems[0].message), nothing imported" }
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        var text = "\(file): \(count), nothing imported"
        for problem in problems.prefix(Self.listed) {
            text += "\n  line \(problem.line): \(problem.message)"
        }
        if problems.count > Self.listed { text += "\n  ... and \(problems.count - Self.listed) more" }
        if let hint { text += "\n" + hint }
        return text
    }

    public var errorDescription: String? { description }
}

/// The two files of a UCF101-style label list.
public struct UCF101Export: Sendable, Equatable {
    /// `classInd.txt`: one `index name` line per class, index from 1.
    public var classIndex: String
    /// One `path index` line per labelled clip.
    public var list: String
}

extension ProjectStore {
    /// The labels as CSV: a `path,label` header, then one row per labelled clip on disk, by path.
    public func exportCSV() throws -> String {
        var text = CSV.line(["path", "label"])
        for clip in try clips() where !clip.isMissing {
            if let label = clip.label { text += CSV.line([clip.path, label.className]) }
        }
        return text
    }

    /// The labels as UCF101 lists: class indices from 1 in key order, and `path index`
    /// lines for labelled clips on disk whose class is still configured.
    public func exportUCF101() throws -> UCF101Export {
        var classIndex = ""
        for info in classes {
            guard !info.name.contains(where: \.isWhitespace) else {
                throw StoreError.unexportable(item: "class '\(info.name)'",
                                              reason: "UCF101 lists separate fields by spaces")
            }
            classIndex += "\(info.index + 1) \(info.name)\n"
        }
        var list = ""
        for clip in try clips() where !clip.isMissing {
            guard let index = clip.label?.classIndex else { continue }
            guard !clip.path.contains(where: \.isWhitespace) else {
                throw StoreError.unexportable(item: clip.path, reason: "UCF101 lists separate fields by spaces")
            }
            list += "\(clip.path) \(index + 1)\n"
        }
        return UCF101Export(classIndex: classIndex, list: list)
    }

    /// Applies the labels of a `path,label` CSV file (paths relative to the project folder;
    /// a `path,label` header is optional). Every row is checked first: unknown labels,
    /// missing files and malformed rows are reported together with their line numbers,
    /// and then nothing is applied. A valid file is applied in one transaction.
    ///
    /// - Parameter mapping: renames labels before they are looked up (old name to a
    ///   configured class), for files naming classes `actionlab.toml` no longer lists.
    @discardableResult
    public func importCSV(_ url: URL, mapping: [String: String] = [:]) throws -> ImportReport {
        // A pipe or device would be read forever, a huge file whole into memory.
        var status = stat()
        if stat(url.path, &status) == 0 {
            guard (status.st_mode & S_IFMT) == S_IFREG else {
                let kind = (status.st_mode & S_IFMT) == S_IFDIR ? "a folder" : "not a regular file"
                throw LabelImportError(file: url.path, problems: [.init(line: 0, message: "is \(kind)")])
            }
            guard status.st_size <= Self.largestLabelFile else {
                throw LabelImportError(file: url.path, problems: [.init(line: 0, message:
                    "is \(status.st_size >> 20) MiB; label files of up to \(Self.largestLabelFile >> 20) MiB are read")])
            }
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason = FileManager.default.fileExists(atPath: url.path) ? "cannot be read" : "no such file"
            throw LabelImportError(file: url.path, problems: [.init(line: 0, message: reason)])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LabelImportError(file: url.path, problems: [.init(line: 1, message: "is not UTF-8 text")])
        }
        return try importCSV(text: text, file: url.path, mapping: mapping)
    }

    /// Like `importCSV(_:mapping:)` for CSV text; `file` names it in errors.
    @discardableResult
    public func importCSV(text: String, file: String, mapping: [String: String] = [:]) throws -> ImportReport {
        var records: [CSV.Record]
        do {
            records = try CSV.parse(text)
        } catch let error as CSV.SyntaxError {
            throw LabelImportError(file: file, problems: [.init(line: error.line, message: error.problem)])
        }
        if let first = records.first,
           first.fields.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) == ["path", "label"] {
            records.removeFirst()
        }
        let classNames = classes.map(\.name).joined(separator: ", ")
        if let (from, to) = mapping.sorted(by: { $0.key < $1.key }).first(where: { !classes.map(\.name).contains($0.value) }) {
            throw LabelImportError(file: file, problems: [.init(line: 0, message:
                "cannot map '\(from)' to '\(to)': '\(to)' is not a class of \(layout.configURL.path) (classes: \(classNames))")])
        }

        /// A row checked and ready to apply.
        struct Pending {
            let line: Int
            let path: String
            let stamp: FileStamp
            let classIndex: Int
        }
        let classByName = Dictionary(uniqueKeysWithValues: classes.map { ($0.name, $0.index) })
        var problems: [LabelImportError.Problem] = []
        // Rows of each unknown label, reported once per label rather than once per row.
        var unknownLabels: [String: [Int]] = [:]
        var rows: [Pending] = []
        var mapped = 0
        var firstLine: [String: (line: Int, label: String)] = [:]
        for record in records {
            guard record.fields.count == 2 else {
                problems.append(.init(line: record.line,
                                      message: "expected 2 fields (path,label), found \(record.fields.count)"))
                continue
            }
            let written = CSV.value(record, 1)
            let label = mapping[written] ?? written
            if label != written { mapped += 1 }
            let classIndex = classByName[label]
            if classIndex == nil {
                if label.isEmpty {
                    problems.append(.init(line: record.line, message: "no label (classes: \(classNames))"))
                } else {
                    unknownLabels[label, default: []].append(record.line)
                }
            }
            let path: String
            switch projectRelativePath(CSV.value(record, 0)) {
            case let .failure(problem):
                problems.append(.init(line: record.line, message: problem.message))
                continue
            case let .success(relative):
                path = relative
            }
            if let earlier = firstLine[path] {
                if earlier.label != label {
                    problems.append(.init(line: record.line, message: "\(path) is labelled '\(earlier.label)' "
                                          + "on line \(earlier.line) and '\(label)' here"))
                }
                continue
            }
            firstLine[path] = (record.line, label)
            guard ProjectLayout.isClipPath(path) else {
                problems.append(.init(line: record.line, message: "\(path) is not a video clip (extensions: "
                                      + ProjectLayout.clipExtensions.sorted().joined(separator: ", ") + ")"))
                continue
            }
            guard let stamp = Self.stamp(of: layout.root.appendingPathComponent(path)) else {
                problems.append(.init(line: record.line, message: "file not found: \(path)"))
                continue
            }
            if let classIndex { rows.append(Pending(line: record.line, path: path, stamp: stamp, classIndex: classIndex)) }
        }
        var hint: String?
        if !unknownLabels.isEmpty {
            for (label, lines) in unknownLabels {
                let more = lines.count == 1 ? "" : " on \(lines.count) rows (also line"
                    + (lines.count == 2 ? " " : "s ") + lines.dropFirst().prefix(5).map(String.init).joined(separator: ", ")
                    + (lines.count > 6 ? ", ..." : "") + ")"
                problems.append(.init(line: lines[0], message: "unknown label '\(label)'\(more) (classes: \(classNames))"))
            }
            problems.sort { $0.line < $1.line }
            let example = unknownLabels.keys.sorted().map { "--map \($0)=CLASS" }.joined(separator: " ")
            hint = "Labels not among the classes of \(layout.configURL.path): "
                + unknownLabels.keys.sorted().joined(separator: ", ")
                + ". Add them to its classes, or import them as other classes with `labels import \(example)`."
        }
        if !problems.isEmpty { throw LabelImportError(file: file, problems: problems, hint: hint) }

        return try wrapErrors {
            try database.write { db in
                var report = ImportReport(rows: records.count, changed: 0, unchanged: 0, addedClips: 0, mapped: mapped)
                for row in rows {
                    let known = try Row.fetchOne(db, sql: "SELECT probed, unreadable_reason FROM clips WHERE path = ?",
                                                  arguments: [row.path])
                    if let known, let reason: String = try known.stored(1, "clips.unreadable_reason", of: row.path) {
                        report.unreadable.append(.init(line: row.line, path: row.path, reason: reason))
                    }
                    let clipID = try addUnprobed(db, path: row.path, stamp: row.stamp)
                    if known == nil { report.addedClips += 1 }
                    let classID = try classID(db, position: row.classIndex)
                    if try applyLabel(db, clipID: clipID, classID: classID, kind: .imported, watchedSeconds: 0) != nil {
                        report.changed += 1
                    } else {
                        report.unchanged += 1
                    }
                }
                report.unchanged += records.count - rows.count  // duplicate rows repeating a label
                return report
            }
        }
    }

    /// 256 MiB: millions of rows, far more than a project has clips.
    static let largestLabelFile = 256 << 20

    private struct PathProblem: Error { let message: String }

    /// `path` as stored in the database: relative to the project folder, `./` removed;
    /// absolute paths must lie inside the project folder.
    private func projectRelativePath(_ path: String) -> Result<String, PathProblem> {
        guard !path.isEmpty else { return .failure(PathProblem(message: "no path")) }
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : layout.root.appendingPathComponent(path)
        let relative = layout.relativePath(of: url)
        if relative.hasPrefix("/") || relative == ".." || relative.hasPrefix("../") || relative.isEmpty {
            return .failure(PathProblem(message: "\(path) is outside the project folder \(layout.root.path)"))
        }
        if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            // The scan skips hidden files and folders, so such a clip could never be shown.
            return .failure(PathProblem(message: "\(path) is hidden (ActionLab skips names starting with '.')"))
        }
        // Through a linked folder one file has several names; the database keeps its real one.
        switch layout.resolve(relative) {
        case .unresolved:
            return .success(relative)
        case let .outside(real):
            return .failure(PathProblem(message: "\(path) is a link to \(real), outside the project folder "
                                        + "\(layout.root.path) (ActionLab does not follow such links)"))
        case let .inside(real):
            if real.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                return .failure(PathProblem(message: "\(path) is a link to \(real), which is hidden "
                                            + "(ActionLab skips names starting with '.')"))
            }
            return .success(real)
        }
    }

    /// The size and modification time of a regular file, or nil if there is none.
    public static func stamp(of url: URL) -> FileStamp? {
        guard let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey,
                                                             .contentModificationDateKey]),
              values.isRegularFile == true, let size = values.fileSize, let modified = values.contentModificationDate
        else { return nil }
        return FileStamp(size: Int64(size), modified: modified)
    }
}
