import Testing
@testable import ActionLabUI

@Test func halfBlocksCarryTheTopPixelAsForegroundAndTheBottomAsBackground() {
    // 2x2 pixels: top row black, white; bottom row red, mid gray.
    let image = PreviewImage(width: 2, height: 2, rgb: [0, 0, 0, 255, 255, 255, 255, 0, 0, 128, 128, 128], timestamp: 0)
    var grid = CellGrid(width: 2, height: 1)
    PreviewRenderer.draw(image, into: &grid, row: 0, column: 0, cellsWide: 2, cellsHigh: 1, use256Colors: true)
    #expect(grid.lines == ["▀▀"])
    #expect(grid[0, 0].style == CellStyle(.xterm(232), background: .xterm(196)))
    #expect(grid[0, 1].style == CellStyle(.xterm(255), background: .xterm(244)))
}

@Test func theImageIsScaledToFitAndCentred() {
    // A 4x2 image into 8x4 cells (8x8 pixels): scaled to 8x4 pixels = 8x2 cells, centred vertically.
    let image = PreviewImage(width: 4, height: 2, rgb: [UInt8](repeating: 255, count: 24), timestamp: 0)
    var grid = CellGrid(width: 8, height: 4)
    PreviewRenderer.draw(image, into: &grid, row: 0, column: 0, cellsWide: 8, cellsHigh: 4, use256Colors: true)
    #expect(grid.lines == ["        ", "▀▀▀▀▀▀▀▀", "▀▀▀▀▀▀▀▀", "        "])
}

@Test func withoutTwoHundredFiftySixColoursShadesAreUsed() {
    let image = PreviewImage(width: 4, height: 2, rgb: [0, 0, 0, 90, 90, 90, 160, 160, 160, 255, 255, 255]
                             + [0, 0, 0, 90, 90, 90, 160, 160, 160, 255, 255, 255], timestamp: 0)
    var grid = CellGrid(width: 4, height: 1)
    PreviewRenderer.draw(image, into: &grid, row: 0, column: 0, cellsWide: 4, cellsHigh: 1, use256Colors: false)
    #expect(grid.lines == [" ░▓█"])
    #expect(grid[0, 3].style == .plain)
}
