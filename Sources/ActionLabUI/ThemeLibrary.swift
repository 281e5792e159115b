import Foundation
import TOMLKit

/// The themes a user can cycle through with T, and the remembered choice.
///
/// Themes come from, each overriding a theme of the same name before it: the built-in
/// copies of the repository's `themes/*.toml` (see `BuiltInThemes`), the `themes/` folder
/// shipped with the program (see `shippedDirectory`), and the user's
/// `$XDG_CONFIG_HOME/actionlab/themes/*.toml` (default `~/.config/actionlab/themes`).
/// A file that cannot be read is left out and reported in `problems`, so the program
/// starts with the default.
public struct ThemeLibrary: Sendable {
    /// The default theme's name, always first.
    public static let defaultName = "dark"
    /// The shipped themes in the order T cycles them; any other themes follow by name.
    static let preferredOrder = ["dark", "light", "high-contrast"]

    public private(set) var themes: [Theme]
    /// One line per unreadable theme or preferences file: "FILE: what is wrong".
    public private(set) var problems: [String]

    /// Loads the built-in themes (when `builtIn`), then those in `directories`, later ones
    /// overriding earlier ones of the same name.
    public init(directories: [URL], builtIn: Bool = false) {
        var byName: [String: Theme] = [:]
        var problems: [String] = []
        func add(_ text: String, from source: String) {
            do throws(ThemeError) {
                let theme = try Theme(toml: text)
                byName[theme.name] = theme
            } catch {
                problems.append("\(source): \(error.description)")
            }
        }
        if builtIn {
            for file in BuiltInThemes.files { add(file.text, from: "built-in \(file.name)") }
        }
        for directory in directories {
            let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
            for file in files.filter({ $0.pathExtension == "toml" }).sorted(by: { $0.path < $1.path }) {
                guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                    problems.append("\(file.path): cannot be read as UTF-8 text")
                    continue
                }
                add(text, from: file.path)
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

    /// Only the themes built into the program.
    public static var builtIn: ThemeLibrary { ThemeLibrary(directories: [], builtIn: true) }

    /// The `themes/` folder that comes with the program: beside the executable (a copied
    /// or unpacked release), in `../share/actionlab/themes` from it (an installed one), or
    /// at the top of the source tree it was built in (`.build/debug/actionlab`). Nil when
    /// there is none: the built-in copies serve then.
    public static func shippedDirectory(executable: URL? = Bundle.main.executableURL) -> URL? {
        guard let folder = executable?.resolvingSymlinksInPath().deletingLastPathComponent() else { return nil }
        var candidates = [folder.appendingPathComponent("themes"),
                          folder.deletingLastPathComponent().appendingPathComponent("share/actionlab/themes")]
        // A build folder: .build/debug, .build/x86_64-unknown-linux-gnu/release, ...
        var parent = folder
        for _ in 0..<4 {
            parent.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: parent.appendingPathComponent("Package.swift").path) {
                candidates.append(parent.appendingPathComponent("themes"))
                break
            }
        }
        return candidates.first { isDirectory($0) }
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &directory) && directory.boolValue
    }

    /// The user's own themes.
    public static func userDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        UserPreferences.configDirectory(environment: environment).appendingPathComponent("themes")
    }

    /// The built-in themes, the shipped folder's and the user's own. Without a shipped
    /// folder, `problems` says that the built-in themes are used.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment,
                                executable: URL? = Bundle.main.executableURL) -> ThemeLibrary {
        let shipped = shippedDirectory(executable: executable)
        var library = ThemeLibrary(directories: (shipped.map { [$0] } ?? []) + [userDirectory(environment: environment)],
                                   builtIn: true)
        if shipped == nil {
            let place = executable?.deletingLastPathComponent().appendingPathComponent("themes").path ?? "themes"
            library.problems.insert("no themes folder (such as \(place)); using the built-in themes", at: 0)
        }
        return library
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
