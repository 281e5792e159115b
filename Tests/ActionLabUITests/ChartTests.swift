import ActionNet
import Testing
@testable import ActionLabUI

@Suite struct ChartTests {
    @Test func dotsMapToTheirBrailleBits() {
        var canvas = BrailleCanvas(cellsWide: 2, cellsHigh: 1)
        // Left column top to bottom: dots 1, 2, 3, 7; right column: 4, 5, 6, 8.
        for y in 0..<4 { canvas.set(x: 0, y: y, series: 0) }
        canvas.set(x: 3, y: 3, series: 1)
        #expect(canvas.lines == ["⡇⢀"])
        #expect(canvas.owner(row: 0, column: 0) == 0)
        #expect(canvas.owner(row: 0, column: 1) == 1)
        canvas.set(x: 4, y: 0, series: 0)   // outside: ignored
        canvas.set(x: -1, y: 0, series: 0)
        #expect(canvas.lines == ["⡇⢀"])
    }

    @Test func aRisingDiagonalFillsOneDotPerColumn() {
        var canvas = BrailleCanvas(cellsWide: 2, cellsHigh: 2)
        canvas.line(from: 0, 7, to: 3, 0, series: 0)
        // A steep line: two dots per column, (0,7) (0,6) (1,5) (1,4) (2,3) (2,2) (3,1) (3,0).
        #expect(canvas.lines == ["⠀⡜", "⡜⠀"])
    }

    @Test func aSeriesIsScaledIntoThePlot() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: [ChartPoint(x: 0, y: 0), ChartPoint(x: 1, y: 1),
                                                                        ChartPoint(x: 2, y: 0)], color: .role(.accent))],
                              xRange: 0...2, yRange: 0...1)
        // 3 cells x 1: 6 x 4 dots; (0,3) up to (2.5 → 3, 0) and down to (5,3).
        #expect(chart.canvas(cellsWide: 3, cellsHigh: 1).lines == ["⡠⠊⢆"])
    }

    @Test func flatAndEmptySeriesGetARangeAroundThem() {
        #expect(LineChart.fittedRange([]) == 0...1)
        let flat = LineChart.fittedRange([ChartSeries(name: "a", points: [ChartPoint(x: 0, y: 2), ChartPoint(x: 1, y: 2)],
                                                      color: .role(.accent))])
        #expect(flat.lowerBound < 2 && flat.upperBound > 2)
        let positive = LineChart.fittedRange([ChartSeries(name: "a", points: [ChartPoint(x: 0, y: 0.01), ChartPoint(x: 1, y: 1)],
                                                          color: .role(.accent))])
        #expect(positive.lowerBound == 0, "a loss axis does not go below zero")
    }

    @Test func epochTicksAreThinnedToFit() {
        #expect(LineChart.epochTicks(upTo: 3) == [1, 2, 3])
        #expect(LineChart.epochTicks(upTo: 40, maximum: 10) == [4, 8, 12, 16, 20, 24, 28, 32, 36, 40])
        #expect(LineChart.epochTicks(upTo: 0).isEmpty)
    }

    @Test func aDrawnChartHasLegendAxesLabelsAndTicks() {
        let chart = LineChart(series: [ChartSeries(name: "train", points: [ChartPoint(x: 0, y: 2), ChartPoint(x: 2, y: 1)],
                                                   color: .role(.accent)),
                                       ChartSeries(name: "val", points: [ChartPoint(x: 1, y: 1.5), ChartPoint(x: 2, y: 1.2)],
                                                   color: .role(.warning))],
                              xRange: 0...2, yRange: 1...2, xTicks: [1, 2])
        var grid = CellGrid(width: 24, height: 7)
        chart.draw(into: &grid, row: 0, column: 0, width: 24, height: 7)
        #expect(grid.lines == [
            "⣀⣀ train  ⣀⣀ val        ",
            "2.000┤⠉⠒⠤⣀⡀             ",
            "     │    ⠈⠑⠢⠤⣀         ",
            "     │         ⠉⠓⠲⢦⡤⢄⣀⡀ ",
            "1.000┤             ⠈⠉⠒⠬⣉",
            "     └─────────┬───────┬",
            "epoch          1       2",
        ])
        // Where both lines pass, the cell takes the colour of the one drawn last.
        #expect(grid[4, 23].style.foreground == .role(.warning))
        #expect(grid[1, 6].style.foreground == .role(.accent))
    }
}

extension ChartTests {
    /// The x axis's labels as text: what the row under the axis shows.
    private func axisLabels(epochs: Int, plotWidth: Int) -> String {
        let chart = LineChart(series: [], xRange: 0...Double(epochs), yRange: 0...1,
                              xTicks: LineChart.epochTicks(upTo: epochs, maximum: 10))
        var row = Array(repeating: Character(" "), count: plotWidth)
        for label in chart.xTickLabels(plotColumn: 0, plotWidth: plotWidth) {
            guard let start = label.start else { continue }
            for (i, c) in label.text.enumerated() { row[start + i] = c }
        }
        return String(row)
    }

    @Test(arguments: [20, 30, 47, 60])
    func theLastEpochIsLabelledOnATenEpochChart(plotWidth: Int) {
        let labels = axisLabels(epochs: 10, plotWidth: plotWidth)
        #expect(labels.hasSuffix("10"), "|\(labels)|")
        #expect(labels.split(separator: " ").first == "1", "|\(labels)|")
        // Whole numbers only, none glued to another.
        #expect(labels.split(separator: " ").allSatisfy { Int($0) != nil && Int($0)! <= 10 }, "|\(labels)|")
    }

    @Test func aLabelThatWouldTouchTheLastOneMakesWayForIt() {
        // 10 epochs in 12 cells: the labels crowd at the end, and "10" keeps its place.
        let labels = axisLabels(epochs: 10, plotWidth: 12)
        #expect(labels.hasSuffix(" 10"), "|\(labels)|")
        #expect(labels.split(separator: " ").allSatisfy { Int($0) != nil && Int($0)! <= 10 }, "|\(labels)|")
    }
}

@Test func sizesAndDurationsAreWordedOneWay() {
    #expect(Formatting.bytes(512) == "512.0 B")
    #expect(Formatting.bytes(47_290_000) == "45.1 MB")
    #expect(Formatting.bytes(10_600_000, decimals: 2) == "10.11 MB")
    #expect(Formatting.duration(2) == "2.0s")
    #expect(Formatting.duration(65) == "1:05")
    #expect(Formatting.duration(7_500) == "2h05m")
    #expect(Formatting.duration(nil) == "?")
    #expect(Formatting.duration(.nan) == "?")
}
