import Foundation
import Testing
@testable import ActionLabUI

/// A temporary folder removed when the test ends.
final class TemporaryFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("actionlab-ui-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func write(_ text: String, to name: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

@Test func bundledThemesLoadWithEveryRoleAndClassColours() {
    let library = ThemeLibrary(directories: [ThemeLibrary.bundledDirectory])
    #expect(library.problems == [])
    #expect(library.themes.map(\.name) == ["dark", "light", "high-contrast"])
    for theme in library.themes {
        #expect(Set(theme.roles.keys) == Set(ColorRole.allCases), "\(theme.name) sets every role")
        #expect(theme.classColors.count >= 9, "\(theme.name) has a colour for each of 9 classes")
        #expect(Set(theme.classColors.prefix(5)).count == 5, "\(theme.name): the first five classes differ")
    }
}

@Test func highContrastUsesTheOkabeItoPalette() throws {
    let theme = try #require(ThemeLibrary(directories: [ThemeLibrary.bundledDirectory]).themes.last)
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
    let library = ThemeLibrary(directories: [ThemeLibrary.bundledDirectory, folder.url])
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
