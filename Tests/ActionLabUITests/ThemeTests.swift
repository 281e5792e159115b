import Foundation
import TestSupport
import Testing
@testable import Training
@testable import ActionLabUI

@Test func bundledThemesLoadWithEveryRoleAndClassColours() {
    let library = ThemeLibrary.builtIn
    #expect(library.problems == [])
    #expect(library.themes.map(\.name) == ["dark", "light", "high-contrast"])
    for theme in library.themes {
        #expect(Set(theme.roles.keys) == Set(ColorRole.allCases), "\(theme.name) sets every role")
        #expect(theme.classColors.count >= 9, "\(theme.name) has a colour for each of 9 classes")
        #expect(Set(theme.classColors.prefix(5)).count == 5, "\(theme.name): the first five classes differ")
    }
}

@Test func highContrastUsesTheOkabeItoPalette() throws {
    let theme = try #require(ThemeLibrary.builtIn.themes.last)
    // #E69F00 orange is nearest to cube colour 178 (215,175,0); #56B4E9 sky blue to 74 (95,175,215).
    #expect(theme.classColors[0] == .xterm(178))
    #expect(theme.classColors[1] == .xterm(74))
}

@Test func themeColoursAcceptIndicesHexAndDefault() throws {
    let theme = try Theme(toml: """
        name = "mine"
        [roles]
        text = { fg = "default", bg = 16 }
        selection = { fg = "#ffffff", bg = "#000000", bold = true, reverse = false }
        [classes]
        colors = [1, "#ff0000"]
        """)
    #expect(theme.colors(for: .text) == RoleColors(.terminalDefault, .xterm(16)))
    #expect(theme.colors(for: .selection) == RoleColors(.xterm(231), .xterm(16), bold: true))
    #expect(theme.colors(for: .dim) == RoleColors(), "unset roles are plain")
    #expect(theme.color(forClass: 1) == .xterm(196))
    #expect(theme.color(forClass: 2) == .xterm(1), "classes beyond the palette repeat it")
}

@Test(arguments: [
    ("name = ", "line 1"),
    ("[roles]\ntext = { fg = 1 }", "missing name"),
    ("name = \"x\"\n[roles]\ntxet = { fg = 1 }", "unknown role \"txet\""),
    ("name = \"x\"\n[roles]\ntext = { fg = 256 }", "role text.fg: colour 256 is outside"),
    ("name = \"x\"\n[roles]\ntext = { fg = \"#12345\" }", "\"#12345\" is not a colour"),
    ("name = \"x\"\n[roles]\ntext = { fg = 1, blink = true }", "role text.blink: unknown key"),
    ("name = \"x\"\n[classes]\ncolors = 3", "[classes] needs colors"),
    ("name = \"x\"\ncolour = 3", "unknown key \"colour\""),
])
func brokenThemesAreRefusedWithTheReason(text: String, reason: String) {
    #expect(throws: ThemeError.self) { try Theme(toml: text) }
    do {
        _ = try Theme(toml: text)
    } catch {
        #expect(error.description.contains(reason), "\(error.description)")
    }
}

@Test func aBrokenUserThemeIsReportedAndTheRestStillLoad() throws {
    let folder = try TemporaryFolder()
    let broken = try folder.write("name = \"broken\"\n[roles]\ntext = { fg = 999 }\n", to: "broken.toml")
    _ = try folder.write("name = \"dark\"\n[roles]\ntext = { fg = 1 }\n", to: "my-dark.toml")
    let library = ThemeLibrary(directories: [folder.url], builtIn: true)
    #expect(library.themes.map(\.name) == ["dark", "light", "high-contrast"])
    #expect(library.themes[0].colors(for: .text).foreground == .xterm(1), "a user theme replaces the bundled one")
    #expect(library.problems == ["\(broken.path): role text.fg: colour 999 is outside the xterm range 0-255"])
}

@Test func withoutAnyThemeFileTheDefaultIsStillThere() throws {
    let folder = try TemporaryFolder()
    let library = ThemeLibrary(directories: [folder.url])
    #expect(library.themes.map(\.name) == ["dark"])
    #expect(library.index(of: "light") == 0)
}

@Test func theThemeChoiceIsRememberedPerUser() throws {
    let folder = try TemporaryFolder()
    let environment = ["XDG_CONFIG_HOME": folder.url.path, "HOME": "/nonexistent"]
    let file = UserPreferences.fileURL(environment: environment)
    #expect(file.path == folder.url.path + "/actionlab/ui.toml")
    #expect(try UserPreferences.load(from: file) == UserPreferences(), "no file: defaults")
    try UserPreferences(themeName: "high-contrast").save(to: file)
    #expect(try UserPreferences.load(from: file).themeName == "high-contrast")
    #expect(UserPreferences.fileURL(environment: ["HOME": "/home/me"]).path == "/home/me/.config/actionlab/ui.toml")
}

@Test func aBrokenPreferencesFileIsReportedWithItsName() throws {
    let folder = try TemporaryFolder()
    let file = try folder.write("theme = [1, 2\n", to: "ui.toml")
    do {
        _ = try UserPreferences.load(from: file)
        Issue.record("a broken file must not load")
    } catch {
        #expect(error.description.hasPrefix(file.path + ": line"))
    }
}

@Test func xtermPaletteMapsGrayToTheRampAndColourToTheCube() {
    #expect(XtermPalette.gray(0) == 232)
    #expect(XtermPalette.gray(255) == 255)
    #expect(XtermPalette.gray(128) == 244)
    #expect(XtermPalette.nearest(red: 200, green: 200, blue: 200, allowColor: true) == 250)
    #expect(XtermPalette.nearest(red: 255, green: 0, blue: 0, allowColor: true) == 196)
    #expect(XtermPalette.nearest(red: 255, green: 0, blue: 0, allowColor: false) == XtermPalette.gray(76))
    #expect(XtermPalette.nearestBasic(196, count: 8) == 1)
    #expect(XtermPalette.nearestBasic(3, count: 8) == 3)
}

/// Readability of every bundled theme: the colours each style is drawn in, as the
/// terminal driver resolves them, never put text in the colour of its background, and
/// keep a WCAG contrast ratio that text can be read at.
@Suite struct ThemeReadabilityTests {
    static let themes = ThemeLibrary.builtIn.themes

    /// An RGB value for a resolved colour. The terminal's own colours are unknown; the
    /// themes that use them (dark) are meant for light text on a dark background.
    static func rgb(_ color: TerminalColor, isBackground: Bool) -> (Int, Int, Int) {
        switch color {
        case .terminalDefault: return isBackground ? (0, 0, 0) : (229, 229, 229)
        case .xterm(let index): return XtermPalette.rgb(index)
        }
    }

    /// WCAG 2 contrast ratio of a look's foreground on its background, 1 to 21.
    static func contrast(_ look: TerminalLook) -> Double {
        func luminance(_ rgb: (Int, Int, Int)) -> Double {
            func channel(_ value: Int) -> Double {
                let c = Double(value) / 255
                return c <= 0.039_28 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
            }
            return 0.2126 * channel(rgb.0) + 0.7152 * channel(rgb.1) + 0.0722 * channel(rgb.2)
        }
        let a = luminance(rgb(look.foreground, isBackground: false)), b = luminance(rgb(look.background, isBackground: true))
        return (max(a, b) + 0.05) / (min(a, b) + 0.05)
    }

    /// Every style the screens draw a visible character in, collected from renders of
    /// each screen in the states that use the most styles: labelled, unreadable and
    /// missing clips, the selection on each, messages of every kind, the help overlay,
    /// a run in progress, a failed run, the Model and Runs screens and a too-small
    /// terminal. The preview's exact colours are left out: they are the video's.
    static func drawnStyles(width: Int = 100, height: Int = 30) -> [String: CellStyle] {
        var clips = Sample.clips(12)
        for i in 0..<8 { clips[i].label = i % Sample.classNames.count }
        clips[9].unreadableReason = "clip_09.mp4: invalid data found when processing input"
        clips[10].isMissing = true
        var states: [(String, AppState)] = []
        var state = Sample.state(clips, width: width, height: height)
        state.training = TrainingState(classNames: Sample.classNames,
                                       choices: TrainingChoice.standard(classes: 5, epochs: 4), choiceIndex: 2)
        Sample.deliverPreview(&state)
        for row in 0..<11 {
            states.append(("clips, row \(row) selected", state))
            _ = state.update(.key(.down))
        }
        for (kind, event) in [("warning", AppEvent.warning("a warning")), ("error", .labelNotChanged("Label not saved")),
                              ("info", .key(.character("T")))] {
            var withMessage = state
            _ = withMessage.update(event)
            states.append(("clips, \(kind) message", withMessage))
        }
        var help = state
        _ = help.update(.key(.character("?")))
        states.append(("help", help))
        var editing = state
        _ = editing.update(.key(.character("/")))
        states.append(("filter", editing))

        var train = state
        Sample.send(&train, [.key(.function(2)), .key(.character("t"))] + RecordedRun.events.map { .training($0) })
        _ = train.update(.tick(now: 5))
        states.append(("train", train))
        var paused = train
        Sample.send(&paused, [.key(.character("p")), .training(.paused(TrainingPosition(epoch: 3, batch: 3)))])
        states.append(("train, paused", paused))
        var failed = train
        _ = failed.update(.training(.failed(TrainingFailure(runID: 3, message: "no space left on device"))))
        states.append(("train, failed", failed))
        var model = train
        _ = model.update(.key(.function(3)))
        states.append(("model", model))
        var runs = train
        Sample.send(&runs, [.key(.function(4)), .runsLoaded(RunsScreenTests.rows),
                            .runMetricsLoaded(runID: 2, RunsScreenTests.metrics(2, 2, offset: 0)),
                            .key(.character("m")), .key(.down),
                            .runMetricsLoaded(runID: 1, RunsScreenTests.metrics(1, 3, offset: 0.1))])
        states.append(("runs", runs))
        var small = state
        _ = small.update(.resize(width: 70, height: 20))
        states.append(("too small", small))

        var styles: [String: CellStyle] = [:]
        for (name, state) in states {
            let grid = AppView.render(state)
            for row in 0..<grid.height {
                for column in 0..<grid.width {
                    let cell = grid[row, column]
                    if case .xterm = cell.style.foreground { continue }
                    guard cell.character != " " || cell.style.reverse || cell.style.underline else { continue }
                    let key = "\(cell.style)"
                    if styles[key] == nil { styles[key] = cell.style }
                    _ = name
                }
            }
        }
        return styles
    }

    @Test(arguments: themes.map(\.name))
    func noDrawnStyleIsUnreadable(themeName: String) throws {
        let theme = try #require(Self.themes.first { $0.name == themeName })
        let styles = Self.drawnStyles()
        #expect(styles.count > 20, "the screens draw in many styles")
        for (name, style) in styles.sorted(by: { $0.key < $1.key }) {
            let look = TerminalLook(style, theme: theme, hasColors: true)
            let same = look.foreground == look.background && look.foreground != .terminalDefault
            #expect(!same, "\(theme.name): \(name) draws in \(look.foreground) on \(look.background)")
            // WCAG asks 3 for large or bold text, 4.5 for body text; box lines are not text.
            let isBorder = style.foreground == .role(.border)
            let minimum = isBorder ? 1.8 : 3
            let ratio = Self.contrast(look)
            #expect(ratio >= minimum, "\(theme.name): \(name) has contrast \(String(format: "%.2f", ratio)) < \(minimum)")
        }
    }

    @Test(arguments: themes.map(\.name))
    func everyRoleIsReadableOnItsOwnBackground(themeName: String) throws {
        let theme = try #require(Self.themes.first { $0.name == themeName })
        for role in ColorRole.allCases {
            let look = TerminalLook(.role(role), theme: theme, hasColors: true)
            // Body text at 4.5; bold and secondary roles at 3, as WCAG asks of large text.
            let minimum = role == .border ? 1.8 : [.text, .selection, .header, .status, .overlay].contains(role) ? 4.5 : 3
            let ratio = Self.contrast(look)
            #expect(ratio >= minimum, "\(theme.name): \(role) has contrast \(String(format: "%.2f", ratio)) < \(minimum)")
        }
        for index in theme.classColors.indices {
            let ratio = Self.contrast(TerminalLook(CellStyle(.classColor(index)), theme: theme, hasColors: true))
            #expect(ratio >= 3, "\(theme.name): class \(index + 1) has contrast \(String(format: "%.2f", ratio))")
        }
    }
}

/// The repository's top-level themes/ folder.
private let themesFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("themes")

@Test func builtInThemesMatchTheThemesFolder() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: themesFolder.path).filter { $0.hasSuffix(".toml") }
    #expect(Set(files) == Set(BuiltInThemes.files.map(\.name)), "every file of themes/ is built in, and only those")
    for builtIn in BuiltInThemes.files {
        let text = try String(contentsOf: themesFolder.appendingPathComponent(builtIn.name), encoding: .utf8)
        // A multi-line literal leaves out the file's last line break.
        #expect(builtIn.text + "\n" == text, "BuiltInThemes.swift's \(builtIn.name) differs from themes/\(builtIn.name)")
    }
    #expect(ThemeLibrary.builtIn.problems.isEmpty)
    #expect(ThemeLibrary.builtIn.themes.map(\.name) == ["dark", "light", "high-contrast"])
}

@Test func theShippedThemesFolderIsFoundBesideInstalledOrBuiltPrograms() throws {
    let folder = try TemporaryFolder()
    let manager = FileManager.default
    func make(_ path: String) throws -> URL {
        let url = folder.url.appendingPathComponent(path)
        try manager.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
    // A copy with nothing beside it.
    let alone = folder.url.appendingPathComponent("copy/actionlab")
    #expect(ThemeLibrary.shippedDirectory(executable: alone) == nil)
    let library = ThemeLibrary.standard(environment: ["HOME": folder.url.path], executable: alone)
    #expect(library.themes.map(\.name) == ["dark", "light", "high-contrast"], "the built-in themes serve")
    #expect(library.problems.first?.contains("using the built-in themes") == true, "\(library.problems)")

    let beside = try make("unpacked/themes")
    #expect(ThemeLibrary.shippedDirectory(executable: folder.url.appendingPathComponent("unpacked/actionlab"))?.path == beside.path)
    let installed = try make("usr/share/actionlab/themes")
    #expect(ThemeLibrary.shippedDirectory(executable: folder.url.appendingPathComponent("usr/bin/actionlab"))?.path
            == installed.path)
    let source = try make("src/themes")
    _ = try make("src/.build/x86_64-unknown-linux-gnu/debug")
    try "// swift-tools-version:6.0\n".write(to: folder.url.appendingPathComponent("src/Package.swift"), atomically: true, encoding: .utf8)
    let built = folder.url.appendingPathComponent("src/.build/x86_64-unknown-linux-gnu/debug/actionlab")
    #expect(ThemeLibrary.shippedDirectory(executable: built)?.path == source.path)

    // A theme in the shipped folder joins the built-in ones, and a broken one is named.
    try "name = \"ocean\"\n[roles]\ntext = { fg = 45 }\n".write(to: beside.appendingPathComponent("ocean.toml"),
                                                                atomically: true, encoding: .utf8)
    let shipped = ThemeLibrary.standard(environment: ["HOME": folder.url.path],
                                        executable: folder.url.appendingPathComponent("unpacked/actionlab"))
    #expect(shipped.themes.map(\.name) == ["dark", "light", "high-contrast", "ocean"])
    #expect(shipped.problems.isEmpty, "\(shipped.problems)")
}

@Test func theReadmeExampleThemeLoadsWithEveryRole() throws {
    let readme = try String(contentsOf: themesFolder.deletingLastPathComponent().appendingPathComponent("README.md"),
                            encoding: .utf8)
    let section = try #require(readme.components(separatedBy: "## Colour themes").dropFirst().first)
    let block = try #require(section.components(separatedBy: "```toml\n").dropFirst().first?
        .components(separatedBy: "```").first)
    let theme = try Theme(toml: block)
    #expect(theme.name == "ocean")
    #expect(Set(theme.roles.keys) == Set(ColorRole.allCases), "the example sets every role")
    #expect(theme.classColors.count == 7)
}
