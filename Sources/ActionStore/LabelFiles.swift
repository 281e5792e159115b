import Foundation
import GRDB

/// What `importCSV` applied.
public struct ImportReport: Sendable, Equatable {
    /// Rows read (header and blank lines not counted).
    public var rows: Int
    /// Clips whose label changed.
    public var changed: Int
    /// Clips that already had the imported label.
    public var unchanged: Int
    /// Files that were not in the database yet (added unprobed; the next scan probes them).
    public var addedClips: Int

    public init(rows: Int, changed: Int, unchanged: Int, addedClips: Int) {
        self.rows = rows
        self.changed = changed
        self.unchanged = unchanged
        self.addedClips = addedClips
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

    public init(file: String, problems: [Problem]) {
        self.file = file
        self.problems = problems
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
    @discardableResult
    public func importCSV(_ url: URL) throws -> ImportReport {
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
        return try importCSV(text: text, file: url.path)
    }

    /// Like `importCSV(_:)` for CSV text; `file` names it in errors.
    @discardableResult
    public func importCSV(text: String, file: String) throws -> ImportReport {
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

        struct Row {
            let line: Int
            let path: String
            let stamp: FileStamp
            let classIndex: Int
        }
        let classByName = Dictionary(uniqueKeysWithValues: classes.map { ($0.name, $0.index) })
        var problems: [LabelImportError.Problem] = []
        var rows: [Row] = []
        var firstLine: [String: (line: Int, label: String)] = [:]
        for record in records {
            guard record.fields.count == 2 else {
                problems.append(.init(line: record.line,
                                      message: "expected 2 fields (path,label), found \(record.fields.count)"))
                continue
            }
            let label = record.fields[1].trimmingCharacters(in: .whitespaces)
            let classIndex = classByName[label]
            if classIndex == nil {
                let message = label.isEmpty ? "no label" : "unknown label '\(label)'"
                problems.append(.init(line: record.line, message: "\(message) (classes: "
                                      + classes.map(\.name).joined(separator: ", ") + ")"))
            }
            let path: String
            switch projectRelativePath(record.fields[0].trimmingCharacters(in: .whitespaces)) {
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
            if let classIndex { rows.append(Row(line: record.line, path: path, stamp: stamp, classIndex: classIndex)) }
        }
        if !problems.isEmpty { throw LabelImportError(file: file, problems: problems) }

        return try wrapErrors {
            try database.write { db in
                var report = ImportReport(rows: records.count, changed: 0, unchanged: 0, addedClips: 0)
                for row in rows {
                    let existed = try Bool.fetchOne(db, sql: "SELECT 1 FROM clips WHERE path = ?",
                                                    arguments: [row.path]) != nil
                    let clipID = try addUnprobed(db, path: row.path, stamp: row.stamp)
                    if !existed { report.addedClips += 1 }
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
        return .success(relative)
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
