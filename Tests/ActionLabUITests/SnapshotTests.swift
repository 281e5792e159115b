import Foundation
import Testing
import TestSupport
@testable import ActionLabUI

// The screens rendered at 100x30 into a cell grid and compared line by line with
// Snapshots/*.txt (ACTIONLAB_RECORD_SNAPSHOTS=1 re-records them).

/// A project in mid-labelling: labelled, unlabelled, unreadable and missing clips,
/// the third clip selected and its preview on frame 2.
private func labellingState() -> AppState {
    var clips = Sample.clips(30)
    for (i, label) in [0, 1, 2, 3, 4, 0, 1].enumerated() { clips[i].label = label }
    clips[9].unreadableReason = "clip_09.mp4: invalid data found when processing input"
    clips[10].isMissing = true
    clips[11].duration = 75
    clips[12].path = "a folder with a very long name/and a clip with a long name too.mp4"
    var state = Sample.state(clips)
    Sample.send(&state, [.key(.down), .key(.down)])
    Sample.deliverPreview(&state)
    Sample.send(&state, [.tick(now: 0.05), .tick(now: 0.09)])
    return state
}

private func expectSnapshot(_ state: AppState, _ name: String) {
    let grid = AppView.render(state)
    #expect(grid.width == state.width && grid.height == state.height)
    let mismatch = Snapshot.mismatch(grid.lines, named: name)
    #expect(mismatch == nil, "\(mismatch ?? "")")
}

@Test func clipsScreenSnapshot() {
    expectSnapshot(labellingState(), "clips-100x30")
}

@Test func clipsScreenPausedAtTheLastClipSnapshot() {
    var state = labellingState()
    Sample.send(&state, [.key(.end), .key(.character("+")), .key(.character("+"))])
    Sample.deliverPreview(&state, frames: Sample.frames(8, width: 42, height: 42))
    Sample.send(&state, [.key(.character(".")), .key(.character("."))])
    expectSnapshot(state, "clips-end-paused-100x30")
}

@Test func helpOverlaySnapshot() {
    var state = labellingState()
    _ = state.update(.key(.character("?")))
    expectSnapshot(state, "help-100x30")
}

@Test func filterSnapshot() {
    var state = labellingState()
    Sample.send(&state, [.key(.character("f")), .key(.character("/"))] + Key.typing("_2").map { .key($0) })
    expectSnapshot(state, "filter-editing-100x30")
}

@Test func unreadableClipSnapshot() {
    var state = labellingState()
    Sample.send(&state, [.key(.pageDown), .key(.home)] + Array(repeating: .key(.down), count: 10))
    _ = state.update(.warning("/home/me/.config/actionlab/themes/mine.toml: line 3: expected a value"))
    expectSnapshot(state, "unreadable-clip-100x30")
}

@Test func emptyProjectWhileScanningSnapshot() {
    var state = Sample.state([])
    _ = state.update(.scanProgress(ScanStatus(scanned: 0, total: nil, isFinished: false)))
    expectSnapshot(state, "scanning-empty-100x30")
}

@Test func terminalTooSmallSnapshot() {
    var state = labellingState()
    _ = state.update(.resize(width: 70, height: 20))
    expectSnapshot(state, "too-small-70x20")
}

@Test func longMessagesKeepTheirEnd() {
    var state = labellingState()
    let path = "/home/someone/.config/actionlab/themes/" + String(repeating: "deep/", count: 12) + "mine.toml"
    _ = state.update(.warning("\(path): role text.fg: colour 300 is outside the xterm range 0-255"))
    let line = AppView.render(state).lines[29]
    #expect(line.hasPrefix(" …"))
    #expect(line.hasSuffix("mine.toml: role text.fg: colour 300 is outside the xterm range 0-255 "))
}

/// The preview pane's two lines about the clip fit the pane at every size: a narrow
/// pane leaves out the frame count and the word "playing" rather than cut the line.
@Test(arguments: [(80, 24), (100, 30), (120, 40)])
func thePreviewFactsAreWholeAtEverySize(width: Int, height: Int) throws {
    var state = labellingState()
    _ = state.update(.resize(width: width, height: height))
    Sample.deliverPreview(&state)
    let lines = AppView.render(state).lines
    let facts = try #require(lines.first { $0.contains("96x96 · h264 · 25 fps") }, "\(lines.joined(separator: "\n"))")
    #expect(facts.range(of: #"25 fps( · 48 frames)? · 1\.9s *│"#, options: .regularExpression) != nil, "\(facts)")
    let playing = try #require(lines.first { $0.contains("· frame ") })
    #expect(playing.range(of: #"· frame \d+/4 · \d\.\d\ds *│"#, options: .regularExpression) != nil, "\(playing)")
}

/// On the smallest terminal the help overlay still lists every key of the screen and
/// the global ones, flowing a long section into the second column rather than cut it.
@Test(arguments: Screen.allCases)
func theHelpAt80x24ListsEveryKeyOfTheScreen(screen: Screen) throws {
    var state = labellingState()
    _ = state.update(.resize(width: 80, height: 24))
    _ = state.update(.key(.function(Screen.allCases.firstIndex(of: screen)! + 1)))
    _ = state.update(.key(.character("?")))
    let screenText = AppView.render(state).lines
    let shown = HelpView.sections(state).filter { $0.title == screen.rawValue || $0.title == "Everywhere" }
    for entry in shown.flatMap(\.entries) {
        let firstWord = String(entry.text.split(separator: " ").first ?? "")
        let pattern = NSRegularExpression.escapedPattern(for: entry.keys) + " +" + NSRegularExpression.escapedPattern(for: firstWord)
        #expect(screenText.contains { $0.range(of: pattern, options: .regularExpression) != nil },
                "\(screen): \(entry.keys) \(entry.text)\n\(screenText.joined(separator: "\n"))")
        // Its last line too, which may have wrapped onto a line of its own.
        let lastWord = String(entry.text.split(separator: " ").last ?? "")
        #expect(screenText.contains { $0.contains(lastWord + " ") }, "\(screen): \(entry.text) ends in view")
    }
}
