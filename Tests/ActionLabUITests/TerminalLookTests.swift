import Testing
@testable import ActionLabUI

private let dark = Sample.themes[0]

@Test func rolesTakeTheirColoursAndAttributesFromTheTheme() {
    let look = TerminalLook(.role(.selection), theme: dark, hasColors: true)
    #expect(look == TerminalLook.expected(.xterm(231), .xterm(24), bold: true))
    let text = TerminalLook(.plain, theme: dark, hasColors: true)
    #expect(text == TerminalLook.expected(.terminalDefault, .terminalDefault))
}

@Test func classAndPreviewColoursSitOnTheTextBackgroundUnlessToldOtherwise() {
    let light = Sample.themes[1]
    #expect(TerminalLook(CellStyle(.classColor(0)), theme: light, hasColors: true)
            == TerminalLook.expected(.xterm(160), .xterm(255)))
    #expect(TerminalLook(CellStyle(.classColor(1), background: .role(.selection), bold: true), theme: light,
                         hasColors: true) == TerminalLook.expected(.xterm(28), .xterm(153), bold: true))
    #expect(TerminalLook(CellStyle(.xterm(232), background: .xterm(255)), theme: light, hasColors: true)
            == TerminalLook.expected(.xterm(232), .xterm(255)))
}

@Test func withoutColoursBarsAndSelectionAreReversed() {
    #expect(TerminalLook(.role(.selection), theme: dark, hasColors: false).reverse)
    #expect(TerminalLook(.role(.status), theme: dark, hasColors: false).reverse)
    #expect(!TerminalLook(.role(.text), theme: dark, hasColors: false).reverse)
    // The active tab is a reversed header: reversing twice shows it plain, so it stands out.
    #expect(!TerminalLook(CellStyle(.role(.header), reverse: true), theme: dark, hasColors: false).reverse)
}

extension TerminalLook {
    static func expected(_ foreground: TerminalColor, _ background: TerminalColor, bold: Bool = false) -> TerminalLook {
        var look = TerminalLook(.plain, theme: .monochrome, hasColors: true)
        look.foreground = foreground
        look.background = background
        look.bold = bold
        return look
    }
}
