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

/// One terminal cell: a character of display width one and its style.
public struct Cell: Sendable, Hashable {
    public var character: Character
    public var style: CellStyle

    public init(_ character: Character = " ", style: CellStyle = .plain) {
        self.character = character
        self.style = style
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

    public subscript(row: Int, column: Int) -> Cell {
        get { cells[row * width + column] }
        set {
            guard row >= 0, row < height, column >= 0, column < width else { return }
            cells[row * width + column] = newValue
        }
    }

    /// Writes `text` from (row, column), clipped at the right edge. Returns the
    /// column after the last character, so callers can chain pieces of a line.
    @discardableResult
    public mutating func put(_ text: String, row: Int, column: Int, style: CellStyle = .plain,
                             maxWidth: Int? = nil) -> Int {
        guard row >= 0, row < height else { return column }
        let limit = maxWidth.map { min(width, column + $0) } ?? width
        var x = column
        for character in text {
            if x >= limit { break }
            if x >= 0 { cells[row * width + x] = Cell(character, style: style) }
            x += 1
        }
        return x
    }

    /// Fills a rectangle with one cell.
    public mutating func fill(row: Int, column: Int, width fillWidth: Int, height fillHeight: Int,
                              with cell: Cell) {
        let rows = max(0, row)..<min(height, row + fillHeight)
        let columns = max(0, column)..<min(width, column + fillWidth)
        guard !columns.isEmpty else { return }
        for y in rows {
            for x in columns { cells[y * width + x] = cell }
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
            put(" \(title) ", row: row, column: column + 1, style: titleStyle, maxWidth: boxWidth - 2)
        }
    }

    /// The grid's rows as strings, trailing spaces kept, for snapshot comparison.
    public var lines: [String] {
        (0..<height).map { row in
            String(cells[(row * width)..<(row * width + width)].map(\.character))
        }
    }
}

extension String {
    /// The string cut to `width` characters, ending in "…" when cut.
    func truncated(to width: Int) -> String {
        guard width > 0 else { return "" }
        if count <= width { return self }
        return String(prefix(width - 1)) + "…"
    }

    /// The string cut or padded with spaces to exactly `width` characters.
    func padded(to width: Int) -> String {
        let cut = truncated(to: width)
        return cut + String(repeating: " ", count: max(0, width - cut.count))
    }

    /// The string right-aligned in `width` characters.
    func leftPadded(to width: Int) -> String {
        let cut = truncated(to: width)
        return String(repeating: " ", count: max(0, width - cut.count)) + cut
    }
}
