import Foundation

/// Comma-separated values as RFC 4180 writes them, read leniently the way
/// spreadsheets save them: an optional UTF-8 byte-order mark, LF or CRLF line ends,
/// fields in double quotes that may hold commas, doubled quotes and line breaks.
public enum CSV {
    /// One record of a CSV text and the line it starts on (from 1).
    public struct Record: Sendable, Equatable {
        public let line: Int
        public let fields: [String]
        /// Per field, whether it was written in double quotes: its spaces are then part of
        /// the value, where a reader may trim those of an unquoted field.
        public let quoted: [Bool]
    }

    /// Malformed CSV, with the line where the problem is.
    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        public let line: Int
        public let problem: String
        public init(line: Int, problem: String) {
            self.line = line
            self.problem = problem
        }
        public var description: String { "line \(line): \(problem)" }
    }

    /// Splits `text` into records, skipping blank lines.
    public static func parse(_ text: String) throws -> [Record] {
        var scalars = Substring(text).unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }

        var records: [Record] = []
        var fields: [String] = []
        var quoted: [Bool] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var recordLine = 1
        var fieldWasQuoted = false

        func endRecord() {
            fields.append(String(field))
            quoted.append(fieldWasQuoted)
            // A line with nothing on it is not a record with one empty field.
            let blank = fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted
            if !blank { records.append(Record(line: recordLine, fields: fields, quoted: quoted)) }
            fields = []
            quoted = []
            field = String.UnicodeScalarView()
            fieldWasQuoted = false
        }

        var index = scalars.startIndex
        var atFieldStart = true
        while index < scalars.endIndex {
            let scalar = scalars[index]
            if atFieldStart && scalar == "\"" {
                // A quoted field runs to the next quote not doubled.
                fieldWasQuoted = true
                let quoteLine = line
                index = scalars.index(after: index)
                var closed = false
                while index < scalars.endIndex {
                    let inner = scalars[index]
                    index = scalars.index(after: index)
                    if inner == "\"" {
                        if index < scalars.endIndex && scalars[index] == "\"" {
                            field.append("\"")
                            index = scalars.index(after: index)
                        } else {
                            closed = true
                            break
                        }
                    } else {
                        if inner == "\n" { line += 1 }
                        field.append(inner)
                    }
                }
                if !closed {
                    throw SyntaxError(line: quoteLine, problem: "quoted field is never closed")
                }
                if index < scalars.endIndex, !",\r\n".unicodeScalars.contains(scalars[index]) {
                    throw SyntaxError(line: line, problem: "unexpected text after a closing quote")
                }
                atFieldStart = false
                continue
            }
            switch scalar {
            case ",":
                fields.append(String(field))
                quoted.append(fieldWasQuoted)
                field = String.UnicodeScalarView()
                fieldWasQuoted = false
                atFieldStart = true
            case "\r", "\n":
                endRecord()
                index = scalars.index(after: index)
                if scalar == "\r", index < scalars.endIndex, scalars[index] == "\n" {
                    index = scalars.index(after: index)
                }
                line += 1
                recordLine = line
                atFieldStart = true
                continue
            case "\"":
                throw SyntaxError(line: line, problem: "a quote inside a field that does not start with one")
            default:
                field.append(scalar)
                atFieldStart = false
            }
            index = scalars.index(after: index)
        }
        if !atFieldStart || !fields.isEmpty || !field.isEmpty || fieldWasQuoted { endRecord() }
        return records
    }

    /// Field `index` of `record` as a value: an unquoted field loses its surrounding
    /// spaces (spreadsheets pad them), a quoted one keeps them, as `field` writes them.
    public static func value(_ record: Record, _ index: Int) -> String {
        let text = record.fields[index]
        return record.quoted.indices.contains(index) && record.quoted[index]
            ? text : text.trimmingCharacters(in: .whitespaces)
    }

    /// `value` as one CSV field: quoted when it holds a comma, quote or line break.
    public static func field(_ value: String) -> String {
        let needsQuotes = value.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
            || value.hasPrefix(" ") || value.hasSuffix(" ")
        guard needsQuotes else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One line of CSV, ending in a line feed.
    public static func line(_ values: [String]) -> String {
        values.map(field).joined(separator: ",") + "\n"
    }
}
