@testable import ActionLabUI
import Foundation
import Testing

@Test func textIsClippedAtTheEdges() {
    var grid = CellGrid(width: 5, height: 2)
    grid.put("abcdefg", row: 0, column: 2)
    grid.put("xy", row: 5, column: 0)
    #expect(grid.lines == ["  abc", "     "])
}

@Test func boxesFillsAndStylesStayInsideTheGrid() {
    var grid = CellGrid(width: 8, height: 4)
    grid.box(row: 0, column: 0, width: 8, height: 4, title: "ab")
    grid.fill(row: 1, column: 1, width: 20, height: 1, with: Cell("x", style: .role(.selection)))
    let end = grid.put("hello", row: 2, column: 2, style: .role(.accent), maxWidth: 3)
    #expect(end == 5)
    #expect(grid.lines == ["┌ ab ──┐", "│xxxxxxx", "│ hel  │", "└──────┘"])
    #expect(grid[0, 2].style == .role(.accent, bold: true), "the title has the title style")
    #expect(grid[1, 7].style == .role(.selection))
    grid.restyle(row: 2, column: 0, width: 2, style: .role(.dim))
    #expect(grid[2, 0] == Cell("│", style: .role(.dim)))
    grid[9, 9] = Cell("!")
    #expect(!grid.lines.joined().contains("!"), "writes outside the grid are dropped")
}

@Test func textIsCutWithAnEllipsis() {
    #expect("abcdef".truncated(to: 4) == "abc…")
    #expect("abc".padded(to: 5) == "abc  ")
    #expect("abc".leftPadded(to: 5) == "  abc")
    #expect("abcdef".padded(to: 3) == "ab…")
}

@Test func characterWidthsFollowWcwidth() {
    #expect("abc".displayWidth == 3)
    #expect("走る.mp4".displayWidth == 8, "CJK characters take two cells")
    #expect("🎬x".displayWidth == 3, "an emoji takes two cells")
    #expect("Cafe\u{301}.mp4".displayWidth == 8, "a combining accent takes none")
    #expect("\u{301}x".displayWidth == 1, "a stray combining mark takes none")
    #expect("ｶﾀｶﾅ".displayWidth == 4, "half-width katakana take one cell")
    #expect("Ｆｕｌｌ".displayWidth == 8, "fullwidth Latin takes two")
}

@Test func wideCharactersTakeTwoCellsAndLinesKeepTheGridWidth() {
    var grid = CellGrid(width: 8, height: 1)
    let end = grid.put("走る.mp4", row: 0, column: 0)
    #expect(end == 8)
    #expect(grid.lines == ["走る.mp4"])
    #expect(grid[0, 1].isContinuation && grid[0, 3].isContinuation)
    #expect(grid[0, 4].character == ".")
    #expect(grid.lines[0].displayWidth == 8)
}

@Test func aWideCharacterThatDoesNotFitLeavesASpace() {
    var grid = CellGrid(width: 5, height: 2)
    #expect(grid.put("ab走", row: 0, column: 2) == 5)
    #expect(grid.lines[0] == "  ab ", "no half character at the right edge")
    let end = grid.put("x走る", row: 1, column: 0, maxWidth: 4)
    #expect(end == 4)
    #expect(grid.lines[1] == "x走  ", "the limit cuts before the wide character, not through it")
}

@Test func overwritingHalfAWideCharacterClearsTheOtherHalf() {
    var grid = CellGrid(width: 6, height: 2)
    grid.put("走る走", row: 0, column: 0)
    grid.put("x", row: 0, column: 1)       // the second half of 走
    grid.put("y", row: 0, column: 2)       // the first half of る
    #expect(grid.lines[0] == " xy 走")
    grid.put("ab走", row: 1, column: 0)
    grid.put("る", row: 1, column: 1)       // over b and the first half of 走
    #expect(grid.lines[1] == "aる   ")
    #expect(grid.lines.allSatisfy { $0.displayWidth == 6 })
    // Every continuation follows the wide character it belongs to.
    for row in 0..<grid.height {
        for column in 0..<grid.width where grid[row, column].isContinuation {
            #expect(column > 0 && grid[row, column - 1].width == 2)
        }
    }
}

@Test func controlCharactersAreShownAsReplacementCharacters() {
    var grid = CellGrid(width: 6, height: 1)
    grid.put("a\tb\nc", row: 0, column: 0)
    #expect(grid.lines == ["a\u{FFFD}b\u{FFFD}c "])
}

@Test func cuttingTextNeverSplitsAWideCharacter() {
    #expect("走る走る".truncated(to: 4) == "走…")
    #expect("走る走る".padded(to: 4) == "走… ")
    #expect("走る走る".padded(to: 4).displayWidth == 4)
    #expect("走る".leftPadded(to: 6) == "  走る")
    #expect("走る走る".prefix(cells: 3) == "走")
    #expect("走る走る".suffix(cells: 3) == "る")
    #expect("Cafe\u{301}s".truncated(to: 5) == "Cafe\u{301}s", "the accent stays with its letter")
}

@Test func longNamesAreCutInTheMiddleKeepingTheirEnds() {
    let first = "a folder/take_with_a_long_name_01.mp4", second = "a folder/take_with_a_long_name_02.mp4"
    let a = first.truncatedInMiddle(to: 20), b = second.truncatedInMiddle(to: 20)
    #expect(a == "a folder/…ame_01.mp4")
    #expect(a != b, "names that differ at the end stay apart")
    #expect(a.displayWidth == 20)
    #expect("short.mp4".truncatedInMiddle(to: 20) == "short.mp4")
    #expect("走る走る走る.mp4".truncatedInMiddle(to: 9).displayWidth <= 9)
    #expect("走る走る走る.mp4".truncatedInMiddle(to: 9).hasSuffix(".mp4"))
    #expect("走る走る走る.mp4".paddedName(to: 9).displayWidth == 9)
}

@Test func theDriverDrawsMarksInTheCellOfTheirLetter() {
    #expect(TerminalScreen.cellText("e\u{301}") == [0x65, 0x301].map { wchar_t(bitPattern: $0) })
    #expect(TerminalScreen.cellText("走") == [wchar_t(bitPattern: 0x8D70)])
    // A family emoji is one grapheme but several spacing characters: only the first is drawn.
    #expect(TerminalScreen.cellText("👨\u{200D}👩").count == 2)
}

@Test func listsScrollAsLittleAsShowsTheSelection() {
    #expect(ListScroll.top(from: 0, showing: 3, rows: 5, count: 20) == 0, "already on screen")
    #expect(ListScroll.top(from: 0, showing: 7, rows: 5, count: 20) == 3, "the selection becomes the last row")
    #expect(ListScroll.top(from: 10, showing: 4, rows: 5, count: 20) == 4, "the selection becomes the first row")
    #expect(ListScroll.top(from: 18, showing: 19, rows: 5, count: 20) == 15, "the last page is full")
    #expect(ListScroll.top(from: 3, showing: 0, rows: 5, count: 2) == 0, "a short list does not scroll")
}
