import ActionLabUI
import Testing

@Test func textIsClippedAtTheEdges() {
    var grid = CellGrid(width: 5, height: 2)
    grid.put("abcdefg", row: 0, column: 2)
    grid.put("xy", row: 5, column: 0)
    #expect(grid.lines == ["  abc", "     "])
}
