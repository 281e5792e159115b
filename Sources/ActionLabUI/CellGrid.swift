/// What a cell's colour means. Views speak in roles; the theme turns each role
/// into terminal colours, so switching themes never touches a view.
public enum ColorRole: String, Sendable, Hashable, CaseIterable {
    /// Ordinary text on the screen background.
    case text
    /// Secondary text: durations, hints, unlabelled markers.
    case dim
    /// Headings and the active tab.
    case accent
    /// Box lines around panes.
    case border
    /// The selected row of a list.
    case selection
    /// The title bar across the top.
    case header
    /// The status line at the bottom.
    case status
    /// Key names in the class bar and help overlay.
    case key
    /// Unreadable clips and error messages.
    case error
    /// Warnings such as a broken theme file.
    case warning
    /// The help overlay's box.
    case overlay
}

/// A cell colour: a themed role, a class colour (by class index), or an exact
/// xterm-256 colour used by the video preview.
public enum CellColor: Sendable, Hashable {
    case role(ColorRole)
    case classColor(Int)
    case xterm(UInt8)
}

/// How a cell is drawn. `foreground` and `background` of `nil` mean "the role's
/// own colours from the theme"; the preview sets both to exact xterm colours.
public struct CellStyle: Sendable, Hashable {
    public var foreground: CellColor
    public var background: CellColor?
    public var bold: Bool
    public var reverse: Bool
    public var underline: Bool

    public init(_ foreground: CellColor = .role(.text), background: CellColor? = nil,
                bold: Bool = false, reverse: Bool = false, underline: Bool = false) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.reverse = reverse
        self.underline = underline
    }

    public static let plain = CellStyle()
    public static func role(_ role: ColorRole, bold: Bool = false) -> CellStyle {
        CellStyle(.role(role), bold: bold)
    }
}

/// One terminal cell: a character and its style. A wide character (two cells, see
/// `DisplayWidth`) sits in its first cell; the cell after it is a continuation, which
/// holds no character of its own and is never drawn.
public struct Cell: Sendable, Hashable {
    public var character: Character
    public var style: CellStyle
    /// True for the second cell of a wide character.
    public internal(set) var isContinuation: Bool

    public init(_ character: Character = " ", style: CellStyle = .plain) {
        self.character = Self.printable(character)
        self.style = style
        isContinuation = false
    }

    /// The cells the character takes: 1 or 2 (a continuation cell: 0).
    public var width: Int { isContinuation ? 0 : max(1, DisplayWidth.of(character)) }

    /// Control characters (a tab or newline in a file name) would move the terminal's
    /// cursor: they are shown as "�".
    static func printable(_ character: Character) -> Character {
        guard let first = character.unicodeScalars.first else { return " " }
        return first.properties.generalCategory == .control ? "\u{FFFD}" : character
    }

    static func continuation(of cell: Cell) -> Cell {
        var next = Cell(" ", style: cell.style)
        next.isContinuation = true
        return next
    }
}

/// A rectangle of terminal cells that views draw into. Views are pure functions
/// from state to a grid; the ncurses driver copies the grid to the screen and the
/// tests compare its text with stored snapshots. Cells are stored row-major:
/// cell (row, column) is `cells[row * width + column]`.
public struct CellGrid: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int, fill: Cell = Cell()) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    /// The cell at (row, column). Setting one keeps wide characters whole: a wide
    /// character gets its continuation cell (or becomes a space at the right edge), and
    /// a wide character half overwritten loses its other half to a space.
    public subscript(row: Int, column: Int) -> Cell {
        get { cells[row * width + column] }
        set {
            guard row >= 0, row < height, column >= 0, column < width else { return }
            store(newValue, row: row, column: column)
        }
    }

    private mutating func store(_ cell: Cell, row: Int, column: Int) {
        let base = row * width
        var cell = cell
        let wide = cell.width == 2
        if wide && column + 1 >= width { cell = Cell(" ", style: cell.style) }
        let cellsTaken = cell.width == 2 ? 2 : 1
        // The wide character this overwrites the second half of loses its first half.
        if cells[base + column].isContinuation && column > 0 {
            cells[base + column - 1] = Cell(" ", style: cells[base + column - 1].style)
        }
        // The wide character whose first half this overwrites loses its second half.
        let after = column + cellsTaken
        if after < width && cells[base + after].isContinuation {
            cells[base + after] = Cell(" ", style: cells[base + after].style)
        }
        cells[base + column] = cell
        if cellsTaken == 2 { cells[base + column + 1] = Cell.continuation(of: cell) }
    }

    /// Writes `text` from (row, column), clipped at the right edge and at `maxWidth`
    /// cells. Wide characters take two cells; one that does not fit whole leaves a
    /// space. Returns the column after the last cell written, so callers can chain
    /// pieces of a line.
    @discardableResult
    public mutating func put(_ text: String, row: Int, column: Int, style: CellStyle = .plain,
                             maxWidth: Int? = nil) -> Int {
        guard row >= 0, row < height else { return column }
        let limit = maxWidth.map { min(width, column + $0) } ?? width
        var x = column
        for character in text {
            if x >= limit { break }
            let cell = Cell(character, style: style)
            let cells = DisplayWidth.of(cell.character)
            if cells == 0 { continue }
            if x + cells > limit {
                if x >= 0 { store(Cell(" ", style: style), row: row, column: x) }
                x += 1
                break
            }
            if x >= 0 { store(cell, row: row, column: x) }
            x += cells
        }
        return x
    }

    /// Fills a rectangle with one cell.
    public mutating func fill(row: Int, column: Int, width fillWidth: Int, height fillHeight: Int,
                              with cell: Cell) {
        let rows = max(0, row)..<min(height, row + fillHeight)
        let columns = max(0, column)..<min(width, column + fillWidth)
        guard !columns.isEmpty else { return }
        let step = cell.width
        for y in rows {
            for x in stride(from: columns.lowerBound, to: columns.upperBound, by: step) {
                store(x + step <= columns.upperBound ? cell : Cell(" ", style: cell.style), row: y, column: x)
            }
        }
    }

    /// Sets the style of every cell in a row segment, keeping the characters.
    public mutating func restyle(row: Int, column: Int, width segmentWidth: Int, style: CellStyle) {
        guard row >= 0, row < height else { return }
        for x in max(0, column)..<min(width, column + segmentWidth) {
            cells[row * width + x].style = style
        }
    }

    /// Draws a box with single lines and an optional title in its top edge.
    public mutating func box(row: Int, column: Int, width boxWidth: Int, height boxHeight: Int,
                             title: String? = nil, style: CellStyle = .role(.border),
                             titleStyle: CellStyle = .role(.accent, bold: true)) {
        guard boxWidth >= 2, boxHeight >= 2 else { return }
        let right = column + boxWidth - 1, bottom = row + boxHeight - 1
        for x in (column + 1)..<right {
            self[row, x] = Cell("─", style: style)
            self[bottom, x] = Cell("─", style: style)
        }
        for y in (row + 1)..<bottom {
            self[y, column] = Cell("│", style: style)
            self[y, right] = Cell("│", style: style)
        }
        self[row, column] = Cell("┌", style: style)
        self[row, right] = Cell("┐", style: style)
        self[bottom, column] = Cell("└", style: style)
        self[bottom, right] = Cell("┘", style: style)
        if let title, boxWidth > 4 {
            put(" \(title.truncated(to: boxWidth - 4)) ", row: row, column: column + 1, style: titleStyle, maxWidth: boxWidth - 2)
        }
    }

    /// The grid's rows as strings, trailing spaces kept, for snapshot comparison: each
    /// line takes exactly `width` cells on a terminal (continuation cells add nothing).
    public var lines: [String] {
        (0..<height).map { row in
            String(cells[(row * width)..<(row * width + width)].filter { !$0.isContinuation }.map(\.character))
        }
    }
}
