import ActionStore
import Testing

@Suite struct CSVTests {
    private func rows(_ text: String) throws -> [[String]] { try CSV.parse(text).map(\.fields) }

    @Test func plainRowsWithLineNumbers() throws {
        let records = try CSV.parse("path,label\na.mp4,run\nb.mp4,walk\n")
        #expect(records.map(\.fields) == [["path", "label"], ["a.mp4", "run"], ["b.mp4", "walk"]])
        #expect(records.map(\.line) == [1, 2, 3])
    }

    @Test func byteOrderMarkCRLFAndBlankLines() throws {
        let records = try CSV.parse("\u{FEFF}path,label\r\n\r\na.mp4,run\r\n\n  \nb.mp4,walk")
        #expect(records.map(\.fields) == [["path", "label"], ["a.mp4", "run"], ["  "], ["b.mp4", "walk"]])
        #expect(records.map(\.line) == [1, 3, 5, 6])
    }

    @Test func quotedFieldsHoldCommasQuotesAndLineBreaks() throws {
        let records = try CSV.parse("\"a, b.mp4\",\"say \"\"hi\"\"\"\n\"two\nlines.mp4\",run\n\"\",x\nlast,\"\"")
        #expect(records.map(\.fields) == [["a, b.mp4", "say \"hi\""], ["two\nlines.mp4", "run"], ["", "x"],
                                          ["last", ""]])
        #expect(records.map(\.line) == [1, 2, 4, 5])
    }

    @Test func emptyFieldsAndTrailingComma() throws {
        #expect(try rows("a,,c\nd,\n,\n") == [["a", "", "c"], ["d", ""], ["", ""]])
        #expect(try rows("\"\"\n") == [[""]])
        #expect(try rows("") == [])
    }

    @Test func malformedQuotesAreReportedWithTheirLine() throws {
        #expect(throws: CSV.SyntaxError(line: 2, problem: "quoted field is never closed")) {
            try CSV.parse("a,b\n\"open,run\nc,d\n")
        }
        #expect(throws: CSV.SyntaxError(line: 3, problem: "unexpected text after a closing quote")) {
            try CSV.parse("a,b\nc,d\n\"x\"y,run\n")
        }
        #expect(throws: CSV.SyntaxError(line: 1, problem: "a quote inside a field that does not start with one")) {
            try CSV.parse("ab\"c,run\n")
        }
    }

    @Test func writtenFieldsReadBackUnchanged() throws {
        let values = ["plain", "with,comma", "with \"quotes\"", "two\nlines", "cr\r\nlf", " padded ", "", "naïve"]
        let text = values.map { CSV.line([$0, "x"]) }.joined()
        #expect(try rows(text) == values.map { [$0, "x"] })
        #expect(CSV.field("plain") == "plain")
        #expect(CSV.field("a,b") == "\"a,b\"")
    }
}
