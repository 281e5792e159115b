/// Where the parts of the Clips screen go for a terminal size. Shared by `update`
/// (page size, scrolling, preview size) and the view, so they always agree.
///
/// Rows: 0 title bar; 1..<classBarRow the list (left) and preview (right) boxes;
/// then the class bar, the status line and the hint/filter line.
struct ClipsLayout: Equatable {
    let width: Int
    let height: Int

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    var bodyTop: Int { 1 }
    var bodyHeight: Int { max(0, height - 4) }
    var classBarRow: Int { height - 3 }
    var statusRow: Int { height - 2 }
    var hintRow: Int { height - 1 }

    /// The preview box takes a little under half the width.
    var previewWidth: Int { max(30, width * 12 / 25) }
    var listWidth: Int { width - previewWidth }
    var previewColumn: Int { listWidth }

    /// Rows of clips inside the list box (below its border and column header).
    var listRows: Int { max(1, bodyHeight - 3) }
    var listFirstRow: Int { bodyTop + 2 }
    var listInnerWidth: Int { max(0, listWidth - 2) }

    /// Lines of text under the image inside the preview box.
    static let previewInfoLines = 3
    /// The image area inside the preview box, in cells.
    var imageColumn: Int { previewColumn + 1 }
    var imageRow: Int { bodyTop + 1 }
    var imageCells: (width: Int, height: Int) {
        (max(1, previewWidth - 2), max(1, bodyHeight - 2 - Self.previewInfoLines))
    }

    /// The pixel size a clip of `clipWidth` x `clipHeight` is decoded to so that it
    /// fills the image area with its aspect ratio kept: each cell shows two pixels,
    /// one above the other (a half block), and terminal cells are about twice as
    /// tall as wide, so pixels come out square. Heights are even.
    func previewPixels(clipWidth: Int?, clipHeight: Int?) -> (width: Int, height: Int) {
        let areaWidth = imageCells.width, areaHeight = imageCells.height * 2
        let cw = Double(clipWidth ?? 1), ch = Double(clipHeight ?? 1)
        guard cw > 0, ch > 0 else { return (areaWidth, areaHeight) }
        let scale = min(Double(areaWidth) / cw, Double(areaHeight) / ch)
        let w = max(2, min(areaWidth, Int((cw * scale).rounded())))
        var h = max(2, min(areaHeight, Int((ch * scale).rounded())))
        h -= h % 2
        return (w, h)
    }
}

/// Scrolling of the lists (clips, runs).
enum ListScroll {
    /// The first row shown of a list of `count` rows, `rows` at a time: `top` moved as
    /// little as puts row `selection` on screen, and no further than fills the last page.
    static func top(from top: Int, showing selection: Int, rows: Int, count: Int) -> Int {
        var top = top
        if selection < top { top = selection }
        if selection >= top + rows { top = selection - rows + 1 }
        return max(0, min(top, max(0, count - rows)))
    }
}
