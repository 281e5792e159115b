/// Draws video frames into cells. Each cell shows two pixels stacked: the upper
/// half block "▀" in the top pixel's colour over a background of the bottom
/// pixel's colour. Colours are xterm-256: the 24-step gray ramp (232-255) for gray
/// pixels and the 6x6x6 cube for coloured ones. Terminals without 256 colours get
/// shade characters instead.
enum PreviewRenderer {
    static let shades: [Character] = [" ", "░", "▒", "▓", "█"]

    /// Draws `image` scaled (nearest pixel) to fit `cellsWide` x `cellsHigh` cells
    /// with its aspect ratio kept, centred in that area.
    static func draw(_ image: PreviewImage, into grid: inout CellGrid, row: Int, column: Int,
                     cellsWide: Int, cellsHigh: Int, use256Colors: Bool) {
        let layoutFit = fit(imageWidth: image.width, imageHeight: image.height,
                            cellsWide: cellsWide, cellsHigh: cellsHigh)
        let pixelsWide = layoutFit.width, pixelsHigh = layoutFit.height
        let left = column + (cellsWide - pixelsWide) / 2
        let top = row + (cellsHigh - pixelsHigh / 2) / 2
        let colors = image.xtermColors
        for cellY in 0..<(pixelsHigh / 2) {
            let topY = (2 * cellY) * image.height / pixelsHigh
            let bottomY = (2 * cellY + 1) * image.height / pixelsHigh
            for x in 0..<pixelsWide {
                let sourceX = x * image.width / pixelsWide
                let upper = topY * image.width + sourceX
                let lower = bottomY * image.width + sourceX
                let cell: Cell
                if use256Colors {
                    cell = Cell("▀", style: CellStyle(.xterm(colors[upper]), background: .xterm(colors[lower])))
                } else {
                    let brightness = (luma(image.rgb, upper) + luma(image.rgb, lower)) / 2
                    cell = Cell(shades[min(shades.count - 1, brightness * shades.count / 256)])
                }
                grid[top + cellY, left + x] = cell
            }
        }
    }

    /// The pixel size an image takes in an area of cells: fitted, aspect kept, even height.
    static func fit(imageWidth: Int, imageHeight: Int, cellsWide: Int, cellsHigh: Int) -> (width: Int, height: Int) {
        let areaWidth = Double(cellsWide), areaHeight = Double(cellsHigh * 2)
        let scale = min(areaWidth / Double(max(1, imageWidth)), areaHeight / Double(max(1, imageHeight)))
        let width = max(1, min(cellsWide, Int((Double(imageWidth) * scale).rounded())))
        var height = max(2, min(cellsHigh * 2, Int((Double(imageHeight) * scale).rounded())))
        height -= height % 2
        return (width, height)
    }

    /// The brightness 0-255 of pixel `index` of `rgb`.
    @inline(__always)
    private static func luma(_ rgb: [UInt8], _ index: Int) -> Int {
        (Int(rgb[3 * index]) * 299 + Int(rgb[3 * index + 1]) * 587 + Int(rgb[3 * index + 2]) * 114) / 1000
    }
}
