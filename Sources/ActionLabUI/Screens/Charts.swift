/// A grid of braille dots: each terminal cell holds 2 x 4 dots (U+2800 + a bit per dot),
/// so a chart has twice the cells' horizontal and four times their vertical resolution.
/// Dot (x, y) counts from the top-left; a cell remembers the series that drew in it last,
/// which gives the cell its colour.
struct BrailleCanvas: Equatable {
    let cellsWide: Int
    let cellsHigh: Int
    /// Row-major per cell: the dots set (bits as in the Unicode braille block).
    private(set) var bits: [UInt8]
    /// Row-major per cell: the index of the series that set a dot in it last.
    private(set) var owners: [Int?]

    var dotsWide: Int { cellsWide * 2 }
    var dotsHigh: Int { cellsHigh * 4 }

    init(cellsWide: Int, cellsHigh: Int) {
        self.cellsWide = max(0, cellsWide)
        self.cellsHigh = max(0, cellsHigh)
        bits = Array(repeating: 0, count: self.cellsWide * self.cellsHigh)
        owners = Array(repeating: nil, count: self.cellsWide * self.cellsHigh)
    }

    /// The bit of dot (column 0-1, row 0-3) inside a cell: dots 1-2-3 go down the left
    /// column, 4-5-6 down the right one, and 7, 8 are the bottom row (added later to Unicode).
    private static let dotBits: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]

    mutating func set(x: Int, y: Int, series: Int) {
        guard x >= 0, y >= 0, x < dotsWide, y < dotsHigh else { return }
        let cell = (y / 4) * cellsWide + x / 2
        bits[cell] |= Self.dotBits[x % 2][y % 4]
        owners[cell] = series
    }

    /// Sets every dot on the straight line from (x0, y0) to (x1, y1) (Bresenham's).
    mutating func line(from x0: Int, _ y0: Int, to x1: Int, _ y1: Int, series: Int) {
        var x = x0, y = y0
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
        var error = dx + dy
        while true {
            set(x: x, y: y, series: series)
            if x == x1 && y == y1 { break }
            let doubled = 2 * error
            if doubled >= dy { error += dy; x += sx }
            if doubled <= dx { error += dx; y += sy }
        }
    }

    /// The braille character of cell (row, column); U+2800 (blank braille) when empty.
    func character(row: Int, column: Int) -> Character {
        Character(Unicode.Scalar(0x2800 + UInt32(bits[row * cellsWide + column]))!)
    }

    func owner(row: Int, column: Int) -> Int? { owners[row * cellsWide + column] }

    /// The canvas as text, one string per cell row (for tests).
    var lines: [String] {
        (0..<cellsHigh).map { row in String((0..<cellsWide).map { character(row: row, column: $0) }) }
    }
}

/// One line of a chart: points in data units, drawn in order and joined.
struct ChartSeries: Sendable, Equatable {
    var name: String
    var points: [ChartPoint]
    var color: CellColor
}

/// A point of a chart series, in data units (x: epochs, y: loss or accuracy).
public struct ChartPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// A line chart: series, the ranges the plot covers, and the x positions of ticks
/// (epochs) on the bottom axis.
struct LineChart: Sendable, Equatable {
    var series: [ChartSeries]
    var xRange: ClosedRange<Double>
    var yRange: ClosedRange<Double>
    var xTicks: [Double] = []
    /// How the y axis labels print their values.
    var yLabelStyle: AxisLabelStyle = .number
    /// The caption under the y labels, beside the tick labels ("epoch").
    var xCaption = "epoch"

    enum AxisLabelStyle: Sendable, Equatable {
        case number
        case percent
    }

    func yLabel(_ value: Double) -> String {
        switch yLabelStyle {
        case .percent: return String(format: "%.0f%%", value * 100)
        case .number:
            if value == 0 { return "0" }
            let magnitude = abs(value)
            if magnitude >= 100 { return String(format: "%.0f", value) }
            if magnitude >= 10 { return String(format: "%.1f", value) }
            if magnitude >= 0.01 { return String(format: "%.3f", value) }
            return String(format: "%.1e", value)
        }
    }

    /// The canvas of the plot area: every series mapped from data units into dots.
    func canvas(cellsWide: Int, cellsHigh: Int) -> BrailleCanvas {
        var canvas = BrailleCanvas(cellsWide: cellsWide, cellsHigh: cellsHigh)
        guard canvas.dotsWide > 0, canvas.dotsHigh > 0 else { return canvas }
        let xSpan = xRange.upperBound - xRange.lowerBound, ySpan = yRange.upperBound - yRange.lowerBound
        func dot(_ point: ChartPoint) -> (Int, Int)? {
            guard point.x.isFinite, point.y.isFinite else { return nil }
            let fx = xSpan > 0 ? (point.x - xRange.lowerBound) / xSpan : 0
            let fy = ySpan > 0 ? (yRange.upperBound - point.y) / ySpan : 0.5
            let x = Int((min(max(fx, 0), 1) * Double(canvas.dotsWide - 1)).rounded())
            let y = Int((min(max(fy, 0), 1) * Double(canvas.dotsHigh - 1)).rounded())
            return (x, y)
        }
        for (index, series) in series.enumerated() {
            var previous: (Int, Int)?
            for point in series.points {
                guard let current = dot(point) else { previous = nil; continue }
                if let previous {
                    canvas.line(from: previous.0, previous.1, to: current.0, current.1, series: index)
                } else {
                    canvas.set(x: current.0, y: current.1, series: index)
                }
                previous = current
            }
        }
        return canvas
    }

    /// Draws the chart into the `width` x `height` cells at (row, column):
    ///
    ///     ⣀⣀ train   ⣀⣀ validation        <- legend
    ///     2.31┤⠑⠢⢄                       <- max label at the top row
    ///         │   ⠉⠒⠤⣀⣀                   <- plot rows
    ///     0.42┤        ⠉⠉⠉               <- min label at the bottom row
    ///         └────┬────┬────┬            <- x axis with a tick per epoch
    ///     epoch    1    2    3            <- tick labels (some left out when crowded)
    func draw(into grid: inout CellGrid, row: Int, column: Int, width: Int, height: Int) {
        guard width >= 12, height >= 4 else { return }
        // Legend.
        var x = column
        for entry in series {
            guard x < column + width else { break }
            x = grid.put("⣀⣀", row: row, column: x, style: CellStyle(entry.color, bold: true), maxWidth: column + width - x)
            x = grid.put(" \(entry.name)  ", row: row, column: x, style: .role(.dim), maxWidth: column + width - x)
        }
        let plotRows = height - 3
        let top = yLabel(yRange.upperBound), bottom = yLabel(yRange.lowerBound)
        let labelWidth = max(top.count, bottom.count, xCaption.count - 1)
        let plotColumn = column + labelWidth + 1
        let plotWidth = width - labelWidth - 1
        guard plotWidth > 0 else { return }
        let axis = CellStyle.role(.dim)
        for r in 0..<plotRows {
            let label = r == 0 ? top : r == plotRows - 1 ? bottom : ""
            grid.put(label.leftPadded(to: labelWidth), row: row + 1 + r, column: column, style: axis)
            grid.put(label.isEmpty ? "│" : "┤", row: row + 1 + r, column: plotColumn - 1, style: axis)
        }
        let canvas = canvas(cellsWide: plotWidth, cellsHigh: plotRows)
        for r in 0..<plotRows {
            for c in 0..<plotWidth {
                guard let owner = canvas.owner(row: r, column: c) else { continue }
                grid[row + 1 + r, plotColumn + c] = Cell(canvas.character(row: r, column: c),
                                                        style: CellStyle(series[owner].color))
            }
        }
        // The x axis, its ticks and their labels.
        let axisRow = row + 1 + plotRows
        grid.put("└" + String(repeating: "─", count: plotWidth), row: axisRow, column: plotColumn - 1, style: axis)
        grid.put(xCaption, row: axisRow + 1, column: column, style: axis, maxWidth: labelWidth + 1)
        for label in xTickLabels(plotColumn: plotColumn, plotWidth: plotWidth) {
            grid.put("┬", row: axisRow, column: label.tickColumn, style: axis)
            if let start = label.start { grid.put(label.text, row: axisRow + 1, column: start, style: axis) }
        }
    }

    /// Where each x tick goes and where its label starts (nil: left out). A label is centred
    /// under its tick but kept inside the plot, so the last tick's (often the last epoch,
    /// "10", at the right edge) ends at the edge; labels that would touch the one before
    /// are left out, except the last tick's, which takes the place of those it would touch.
    func xTickLabels(plotColumn: Int, plotWidth: Int) -> [(tickColumn: Int, text: String, start: Int?)] {
        let span = xRange.upperBound - xRange.lowerBound
        guard span > 0, plotWidth > 0 else { return [] }
        let ticks = xTicks.filter { xRange.contains($0) }
        var labels: [(tickColumn: Int, text: String, start: Int?)] = []
        var placed: [Int] = []      // indices into labels of those shown
        for (i, tick) in ticks.enumerated() {
            let cell = Int(((tick - xRange.lowerBound) / span * Double(plotWidth * 2 - 1)).rounded()) / 2
            let text = tick == tick.rounded() ? String(format: "%.0f", tick) : String(format: "%g", tick)
            let start = min(plotColumn + cell - (text.count - 1) / 2, plotColumn + plotWidth - text.count)
            labels.append((plotColumn + cell, text, nil))
            guard start >= plotColumn else { continue }
            func touchesPrevious() -> Bool {
                guard let previous = placed.last else { return false }
                return start <= labels[previous].start! + labels[previous].text.count
            }
            if touchesPrevious() {
                guard i == ticks.count - 1 else { continue }
                while touchesPrevious() { labels[placed.removeLast()].start = nil }
            }
            labels[i].start = start
            placed.append(i)
        }
        return labels
    }

    /// A y range that holds every point of `series`, widened a little so lines do not
    /// run along the frame, and never empty.
    static func fittedRange(_ series: [ChartSeries]) -> ClosedRange<Double> {
        let values = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        guard var low = values.min(), var high = values.max() else { return 0...1 }
        if high - low < 1e-6 {
            low -= max(abs(low) * 0.1, 0.05)
            high += max(abs(high) * 0.1, 0.05)
        } else {
            let margin = (high - low) * 0.05
            low -= margin
            high += margin
        }
        if values.allSatisfy({ $0 >= 0 }) { low = max(0, low) }
        return low...high
    }

    /// Ticks at whole epochs 1...last, thinned to at most `maximum`.
    static func epochTicks(upTo last: Int, maximum: Int = 20) -> [Double] {
        guard last >= 1 else { return [] }
        let step = max(1, (last + maximum - 1) / maximum)
        return stride(from: step, through: last, by: step).map(Double.init)
    }
}
