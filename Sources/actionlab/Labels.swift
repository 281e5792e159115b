import ActionStore
import ArgumentParser
import Foundation

/// `actionlab labels export|import`: labels in and out of a project as files other tools read.
struct Labels: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export or import a project's labels (CSV path,label or UCF101-style lists).",
        subcommands: [Export.self, Import.self])

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv
        case ucf101
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the labels of a project folder.",
            discussion: """
                csv: a `path,label` header and one row per labelled clip, paths relative to DIR; \
                written to standard output unless --out is given.
                ucf101: `classInd.txt` (one `index name` line per class, from 1) and a list of \
                `path index` lines, written to --out (default DIR/.actionlab/export/trainlist.txt) \
                with classInd.txt beside it.
                """)

        @Argument(help: "The project folder.")
        var dir: String

        @Option(help: "csv or ucf101.")
        var format: Format = .csv

        @Option(help: "The file to write (csv: standard output when omitted).")
        var out: String?

        func run() throws {
            let store = try Labels.openProject(dir)
            switch format {
            case .csv:
                let text = try store.exportCSV()
                if let out {
                    try Labels.writeAtomically(text, to: URL(fileURLWithPath: out))
                } else {
                    FileHandle.standardOutput.write(Data(text.utf8))
                }
            case .ucf101:
                let export = try store.exportUCF101()
                let listURL = out.map { URL(fileURLWithPath: $0) }
                    ?? store.layout.stateDirectory.appendingPathComponent("export/trainlist.txt")
                let classIndexURL = listURL.deletingLastPathComponent().appendingPathComponent("classInd.txt")
                try Labels.writeAtomically(export.classIndex, to: classIndexURL)
                try Labels.writeAtomically(export.list, to: listURL)
                print("Wrote \(classIndexURL.path) and \(listURL.path)")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the labels of a `path,label` CSV file to a project folder.",
            discussion: """
                Paths are relative to DIR (absolute paths inside DIR also work); a `path,label` \
                header row is optional. Every row is checked first: if any names an unknown label \
                or a missing file, all problems are listed with their line numbers and nothing is applied. \
                Labels of classes actionlab.toml no longer lists can be imported as other classes \
                with --map OLD=NEW (repeatable). Labels of clips that cannot be decoded are imported \
                with a warning listing them: they are kept, but not trained on.
                """)

        @Argument(help: "The project folder.")
        var dir: String

        @Argument(help: "The CSV file to import.")
        var file: String

        @Option(name: .customLong("map"), help: ArgumentHelp(
            "Import the label OLD as the class NEW (repeatable).", valueName: "OLD=NEW"))
        var mappings: [String] = []

        func validate() throws {
            _ = try mapping()
        }

        /// The --map options as a dictionary, refusing malformed and contradictory ones.
        func mapping() throws -> [String: String] {
            var mapping: [String: String] = [:]
            for option in mappings {
                let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("--map \(option): expected OLD=NEW, e.g. --map dance=wave")
                }
                let (old, new) = (String(parts[0]), String(parts[1]))
                if let earlier = mapping[old], earlier != new {
                    throw ValidationError("--map maps '\(old)' to both '\(earlier)' and '\(new)'")
                }
                mapping[old] = new
            }
            return mapping
        }

        func run() throws {
            let store = try Labels.openProject(dir)
            let report = try store.importCSV(URL(fileURLWithPath: file), mapping: mapping())
            var summary = "Imported \(Labels.count(report.rows, "row")) from \(file): "
                + "\(Labels.count(report.changed, "label")) changed, \(report.unchanged) already set"
            if report.mapped > 0 { summary += ", \(Labels.count(report.mapped, "label")) mapped by --map" }
            if report.addedClips > 0 {
                summary += ", \(Labels.count(report.addedClips, "new clip")) (probed when the project opens)"
            }
            print(summary)
            if !report.unreadable.isEmpty {
                var warning = "warning: \(file): \(Labels.count(report.unreadable.count, "labelled clip")) "
                    + "cannot be decoded; the labels are kept but these clips are not trained on until fixed:\n"
                for clip in report.unreadable.prefix(20) {
                    warning += "  line \(clip.line): \(clip.path): \(clip.reason)\n"
                }
                if report.unreadable.count > 20 { warning += "  ... and \(report.unreadable.count - 20) more\n" }
                FileHandle.standardError.write(Data(warning.utf8))
            }
        }
    }
}

extension Labels {
    /// A command-line failure whose message already names the file and the problem.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// "1 row", "2 rows": `count` and `noun`, plural when it is not one.
    static func count(_ count: Int, _ noun: String) -> String {
        count == 1 ? "1 \(noun)" : "\(count) \(noun)s"
    }

    /// Opens the project database in `dir`, which must be an existing folder.
    static func openProject(_ dir: String) throws -> ProjectStore {
        try ProjectStore.open(ProjectLayout(root: URL(fileURLWithPath: dir)))
    }

    /// Writes through a temporary file and a rename, so a reader never sees half a file.
    static func writeAtomically(_ text: String, to url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw Failure(description: "\(url.path): cannot be written (\(error.localizedDescription))")
        }
    }
}
