/// How many terminal cells text takes, as the C library's wcwidth() counts them (the
/// count ncursesw moves its cursor by): East Asian wide characters and most emoji take
/// two cells, combining marks none, everything else one.
enum DisplayWidth {
    /// The cells `scalar` takes: 0, 1 or 2. Control characters count 1: the grid draws
    /// them as "�" (see `Cell.printable`).
    static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x300 { return 1 }
        if contains(DisplayWidthTables.wide, value) { return 2 }
        if contains(DisplayWidthTables.zero, value) { return 0 }
        return 1
    }

    /// The cells a character (a grapheme cluster) takes: those of its first scalar, as
    /// the marks after it are drawn in the same cell. A cluster that starts with a mark
    /// (a stray accent at the start of a name) takes none.
    static func of(_ character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        return of(first)
    }

    private static func contains(_ ranges: [ClosedRange<UInt32>], _ value: UInt32) -> Bool {
        var low = 0, high = ranges.count - 1
        while low <= high {
            let mid = (low + high) / 2
            if value < ranges[mid].lowerBound {
                high = mid - 1
            } else if value > ranges[mid].upperBound {
                low = mid + 1
            } else {
                return true
            }
        }
        return false
    }
}

extension String {
    /// The cells the string takes on a terminal.
    var displayWidth: Int {
        var total = 0
        for character in self { total += DisplayWidth.of(character) }
        return total
    }

    /// The longest start of the string that fits in `width` cells (a wide character
    /// that would need one cell more is left out whole).
    func prefix(cells width: Int) -> String {
        var used = 0, end = startIndex
        for index in indices {
            let cells = DisplayWidth.of(self[index])
            if used + cells > width { break }
            used += cells
            end = self.index(after: index)
        }
        return String(self[..<end])
    }

    /// The longest end of the string that fits in `width` cells.
    func suffix(cells width: Int) -> String {
        var used = 0, start = endIndex
        while start > startIndex {
            let previous = index(before: start)
            let cells = DisplayWidth.of(self[previous])
            if used + cells > width { break }
            used += cells
            start = previous
        }
        return String(self[start...])
    }

    /// The string cut to at most `width` cells, ending in "…" when cut.
    func truncated(to width: Int) -> String {
        guard width > 0 else { return "" }
        if displayWidth <= width { return self }
        return prefix(cells: width - 1) + "…"
    }

    /// The string cut to at most `width` cells in the middle, keeping its start and its
    /// end: names that differ only at the end ("take_01.mp4", "take_02.mp4") stay apart,
    /// and the extension stays visible.
    func truncatedInMiddle(to width: Int) -> String {
        guard width > 0 else { return "" }
        if displayWidth <= width { return self }
        guard width >= 3 else { return truncated(to: width) }
        let room = width - 1
        let head = room / 2
        return prefix(cells: head) + "…" + suffix(cells: room - head)
    }

    /// The string cut at its start to at most `width` cells, "…" first when cut: for
    /// messages whose end says what matters.
    func truncatedAtStart(to width: Int) -> String {
        guard width > 0 else { return "" }
        if displayWidth <= width { return self }
        return "…" + suffix(cells: width - 1)
    }

    /// The string cut or padded with spaces to exactly `width` cells.
    func padded(to width: Int) -> String {
        let cut = truncated(to: width)
        return cut + String(repeating: " ", count: max(0, width - cut.displayWidth))
    }

    /// The string cut in the middle (see `truncatedInMiddle`) or padded to exactly `width` cells.
    func paddedName(to width: Int) -> String {
        let cut = truncatedInMiddle(to: width)
        return cut + String(repeating: " ", count: max(0, width - cut.displayWidth))
    }

    /// The string right-aligned in `width` cells.
    func leftPadded(to width: Int) -> String {
        let cut = truncated(to: width)
        return String(repeating: " ", count: max(0, width - cut.displayWidth)) + cut
    }
}
