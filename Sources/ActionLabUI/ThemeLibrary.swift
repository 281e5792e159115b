import Foundation
import TOMLKit

/// The themes a user can cycle through with T, and the remembered choice.
///
/// Themes come from the bundled `Themes/*.toml` and from the user's
/// `$XDG_CONFIG_HOME/actionlab/themes/*.toml` (default `~/.config/actionlab/themes`);
/// a user file with a bundled theme's name replaces it. A file that cannot be read
/// is left out and reported in `problems`, so the program starts with the default.
public struct ThemeLibrary: Sendable {
    /// The default theme's name, always first.
    public static let defaultName = "dark"
    /// The bundled themes in the order T cycles them; any other themes follow by name.
    static let preferredOrder = ["dark", "light", "high-contrast"]

    public private(set) var themes: [Theme]
    /// One line per unreadable theme or preferences file: "FILE: what is wrong".
    public private(set) var problems: [String]

    /// Loads themes from the given folders, later folders overriding earlier ones.
    public init(directories: [URL]) {
        var byName: [String: Theme] = [:]
        var problems: [String] = []
        for directory in directories {
            let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
            for file in files.filter({ $0.pathExtension == "toml" }).sorted(by: { $0.path < $1.path }) {
                do throws(ThemeError) {
                    let text: String
                    do { text = try String(contentsOf: file, encoding: .utf8) } catch {
                        throw ThemeError("cannot be read as UTF-8 text")
                    }
                    let theme = try Theme(toml: text)
                    byName[theme.name] = theme
                } catch {
                    problems.append("\(file.path): \(error.description)")
                }
            }
        }
        if byName[Self.defaultName] == nil {
            byName[Self.defaultName] = Theme.monochrome.renamed(Self.defaultName)
        }
        themes = byName.values.sorted { a, b in
            let ia = Self.preferredOrder.firstIndex(of: a.name) ?? Int.max
            let ib = Self.preferredOrder.firstIndex(of: b.name) ?? Int.max
            return ia != ib ? ia < ib : a.name < b.name
        }
        self.problems = problems
    }

    /// The themes shipped with ActionLab.
    public static var bundledDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Themes")
    }

    /// The user's own themes.
    public static func userDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        UserPreferences.configDirectory(environment: environment).appendingPathComponent("themes")
    }

    /// The bundled themes plus the user's own.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ThemeLibrary {
        ThemeLibrary(directories: [bundledDirectory, userDirectory(environment: environment)])
    }

    /// The position of the theme called `name`, or of the default.
    public func index(of name: String?) -> Int {
        name.flatMap { n in themes.firstIndex { $0.name == n } } ?? 0
    }
}

extension Theme {
    func renamed(_ name: String) -> Theme {
        var copy = self
        copy.name = name
        return copy
    }
}

/// Per-user settings of the terminal UI, kept in
/// `$XDG_CONFIG_HOME/actionlab/ui.toml` (default `~/.config/actionlab/ui.toml`):
/// ```toml
/// theme = "light"
/// ```
public struct UserPreferences: Sendable, Equatable {
    public var themeName: String?

    public init(themeName: String? = nil) {
        self.themeName = themeName
    }

    public static func configDirectory(environment: [String: String]) -> URL {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("actionlab")
        }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".config").appendingPathComponent("actionlab")
    }

    public static func fileURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        configDirectory(environment: environment).appendingPathComponent("ui.toml")
    }

    /// Reads the preferences; a missing file gives the defaults, a broken one throws
    /// a message naming the file.
    public static func load(from url: URL) throws(ThemeError) -> UserPreferences {
        guard FileManager.default.fileExists(atPath: url.path) else { return UserPreferences() }
        do {
            let table = try TOMLTable(string: String(contentsOf: url, encoding: .utf8))
            guard let theme = table["theme"] else { return UserPreferences() }
            guard let name = theme.string else { throw ThemeError("theme must be a string") }
            return UserPreferences(themeName: name)
        } catch let error as ThemeError {
            throw ThemeError("\(url.path): \(error.description)")
        } catch let error as TOMLParseError {
            throw ThemeError("\(url.path): line \(error.source.begin.line): \(error.description)")
        } catch {
            throw ThemeError("\(url.path): \(error.localizedDescription)")
        }
    }

    /// Writes the preferences, replacing the file atomically.
    public func save(to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var text = "# ActionLab terminal UI settings, written when you change them in the program.\n"
        if let themeName {
            let escaped = themeName.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            text += "theme = \"\(escaped)\"\n"
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
}
