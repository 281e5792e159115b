/// A rectangle of terminal cells that views draw into. Views are pure functions
/// from state to a grid; the ncurses driver copies the grid to the screen and the
/// tests compare its text with stored snapshots.
public struct CellGrid: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var characters: [Character]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        characters = Array(repeating: " ", count: self.width * self.height)
    }

    /// Writes `text` from (row, column), clipped at the right edge.
    public mutating func put(_ text: String, row: Int, column: Int) {
        guard row >= 0, row < height else { return }
        var x = column
        for character in text {
            if x >= width { break }
            if x >= 0 { characters[row * width + x] = character }
            x += 1
        }
    }

    /// The grid's rows as strings, trailing spaces kept, for snapshot comparison.
    public var lines: [String] {
        (0..<height).map { String(characters[($0 * width)..<($0 * width + width)]) }
    }
}
