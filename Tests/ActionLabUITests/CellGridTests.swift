@testable import ActionLabUI
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
