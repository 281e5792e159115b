import Foundation
import Testing
@testable import ActionLabUI

// Clip names with double-width characters, and long names, rendered into the grid.

/// The cell column where `text` starts in `line`, counting cells, at or after cell `start`.
private func cellColumn(of text: String, in line: String, from start: Int = 0) -> Int? {
    var column = 0, index = line.startIndex
    while index < line.endIndex {
        if column >= start && line[index...].hasPrefix(text) { return column }
        column += DisplayWidth.of(line[index])
        index = line.index(after: index)
    }
    return nil
}

private func wideNamedState(screenWidth: Int = 100) -> AppState {
    var clips = Sample.clips(6)
    clips[1].path = "clip_01 走る.mp4"
    clips[2].path = "clip_02 🏃 sprint.mp4"
    clips[3].path = "clip_03 Café\u{301}.mp4"
    clips[1].label = 0
    clips[4].label = 1
    var state = Sample.state(clips, width: screenWidth)
    _ = state.update(.key(.down))     // the wide name is selected: it is the preview's title too
    return state
}

@Test(arguments: [80, 100, 123])
func wideNamesKeepEveryLineTheWidthOfTheScreen(width: Int) {
    let state = wideNamedState(screenWidth: width)
    for screen in 1...4 {
        var shown = state
        _ = shown.update(.key(.function(screen)))
        let lines = AppView.render(shown).lines
        for (row, line) in lines.enumerated() {
            #expect(line.displayWidth == width, "screen F\(screen), row \(row): \(line)")
        }
    }
}

@Test func theListBorderStaysInPlaceBesideAWideName() {
    let state = wideNamedState()
    let layout = state.layout
    let lines = AppView.render(state).lines
    let rows = (0..<6).map { lines[layout.listFirstRow + $0] }
    #expect(rows[1].contains("clip_01 走る.mp4"))
    #expect(rows[2].contains("clip_02 🏃 sprint.mp4"))
    #expect(rows[3].contains("clip_03 Café\u{301}.mp4"))
    for (i, row) in rows.enumerated() {
        #expect(cellColumn(of: "│", in: row, from: 1) == layout.listWidth - 1, "row \(i): \(row)")
    }
    // The label column starts at the same cell beside a wide name as beside a plain one.
    let wideLabel = cellColumn(of: "run", in: rows[1]), plainLabel = cellColumn(of: "walk", in: rows[4])
    #expect(wideLabel != nil && wideLabel == plainLabel)
    // The preview's title is the selected (wide) name, and its box keeps its right edge.
    #expect(lines[layout.bodyTop].contains("clip_01 走る.mp4"))
    #expect(cellColumn(of: "┐", in: lines[layout.bodyTop], from: layout.listWidth) == layout.width - 1)
}

@Test func longNamesThatDifferAtTheEndStayApartInTheList() {
    var clips = Sample.clips(3)
    let stem = "a very long folder name/and an even longer clip name, take"
    clips[0].path = stem + "_01.mp4"
    clips[1].path = stem + "_02.mp4"
    let state = Sample.state(clips)
    let lines = AppView.render(state).lines
    let first = lines[state.layout.listFirstRow], second = lines[state.layout.listFirstRow + 1]
    #expect(first.contains("…"))
    #expect(first.contains("take_01.mp4") && second.contains("take_02.mp4"))
    #expect(first.contains("a very long"), "the start of the name stays too")
}

@Test func ctrlLAsksForAFullRepaintWhateverIsShown() {
    var state = Sample.state()
    #expect(state.update(.key(.control("l"))).effects == [.repaintTerminal])
    _ = state.update(.key(.character("?")))
    #expect(state.update(.key(.control("l"))).effects == [.repaintTerminal])
    #expect(state.showingHelp, "the help stays open: Ctrl-L only repaints")
    _ = state.update(.key(.escape))
    _ = state.update(.key(.character("/")))
    #expect(state.update(.key(.control("l"))).effects == [.repaintTerminal])
    #expect(state.clips.filter.isEmpty, "Ctrl-L is not typed into the filter")
}
