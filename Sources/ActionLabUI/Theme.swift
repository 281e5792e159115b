import Foundation
import TOMLKit

/// A terminal colour as a theme names it: the terminal's own default, or an
/// xterm-256 palette index (0-15 are the terminal's basic colours).
public enum TerminalColor: Sendable, Hashable {
    case terminalDefault
    case xterm(UInt8)

    /// Parses `"default"`, an integer 0-255, or `"#rrggbb"` (the nearest xterm-256 colour).
    init(tomlValue value: TOMLValueConvertible) throws(ThemeError) {
        if let index = value.int {
            guard (0...255).contains(index) else {
                throw ThemeError("colour \(index) is outside the xterm range 0-255")
            }
            self = .xterm(UInt8(index))
            return
        }
        guard let text = value.string else {
            throw ThemeError("a colour must be 0-255, \"#rrggbb\" or \"default\"")
        }
        if text == "default" {
            self = .terminalDefault
            return
        }
        let hex = text.hasPrefix("#") ? text.dropFirst() : ""
        guard hex.count == 6, let rgb = UInt32(hex, radix: 16) else {
            throw ThemeError("\"\(text)\" is not a colour (use 0-255, \"#rrggbb\" or \"default\")")
        }
        self = .xterm(XtermPalette.closest(red: Int(rgb >> 16 & 0xff), green: Int(rgb >> 8 & 0xff),
                                           blue: Int(rgb & 0xff)))
    }
}

/// The colours and attributes of one role.
public struct RoleColors: Sendable, Hashable {
    public var foreground: TerminalColor
    public var background: TerminalColor
    public var bold: Bool
    public var reverse: Bool

    public init(_ foreground: TerminalColor = .terminalDefault, _ background: TerminalColor = .terminalDefault,
                bold: Bool = false, reverse: Bool = false) {
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.reverse = reverse
    }
}

/// A problem in a theme file, without the file name (the library adds it).
public struct ThemeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A colour theme: a name, colours per role and one colour per action class.
///
/// Theme files are TOML:
/// ```toml
/// name = "dark"
/// [roles]                      # every role of `ColorRole`; missing ones are plain
/// text = { fg = "default", bg = "default" }
/// selection = { fg = 16, bg = 117, bold = true }
/// [classes]
/// colors = [203, 114, 221, 75, 177]   # class 1, 2, ...; repeats when there are more classes
/// ```
public struct Theme: Sendable, Hashable {
    public var name: String
    public var roles: [ColorRole: RoleColors]
    /// Foreground colour of class 1, 2, ... (cycled for more classes).
    public var classColors: [TerminalColor]

    public init(name: String, roles: [ColorRole: RoleColors], classColors: [TerminalColor]) {
        self.name = name
        self.roles = roles
        self.classColors = classColors
    }

    public func colors(for role: ColorRole) -> RoleColors {
        roles[role] ?? RoleColors()
    }

    public func color(forClass index: Int) -> TerminalColor {
        classColors.isEmpty ? .terminalDefault : classColors[index % classColors.count]
    }

    /// A theme that needs no file and no colours: used only if even the bundled
    /// default cannot be read, so the program still starts.
    public static let monochrome = Theme(
        name: "monochrome",
        roles: [.selection: RoleColors(reverse: true), .header: RoleColors(reverse: true),
                .status: RoleColors(reverse: true), .accent: RoleColors(bold: true),
                .key: RoleColors(bold: true), .error: RoleColors(bold: true),
                .warning: RoleColors(bold: true)],
        classColors: [])

    /// Parses a theme file's text.
    public init(toml text: String) throws(ThemeError) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ThemeError("line \(error.source.begin.line): \(error.description)")
        } catch {
            throw ThemeError("\(error)")
        }
        guard let name = table["name"]?.string, !name.isEmpty else {
            throw ThemeError("missing name = \"...\"")
        }
        for key in table.keys where !["name", "roles", "classes"].contains(key) {
            throw ThemeError("unknown key \"\(key)\" (expected name, [roles], [classes])")
        }
        var roles: [ColorRole: RoleColors] = [:]
        if let roleTable = table["roles"] {
            guard let roleTable = roleTable.table else { throw ThemeError("roles must be a table") }
            for key in roleTable.keys {
                guard let role = ColorRole(rawValue: key) else {
                    let known = ColorRole.allCases.map(\.rawValue).joined(separator: ", ")
                    throw ThemeError("unknown role \"\(key)\" (known: \(known))")
                }
                roles[role] = try Self.parseRole(roleTable[key]!, name: key)
            }
        }
        var classColors: [TerminalColor] = []
        if let classTable = table["classes"] {
            guard let colors = classTable.table?["colors"]?.array else {
                throw ThemeError("[classes] needs colors = [...]")
            }
            for value in colors { classColors.append(try TerminalColor(tomlValue: value)) }
        }
        self.init(name: name, roles: roles, classColors: classColors)
    }

    private static func parseRole(_ value: TOMLValueConvertible, name: String) throws(ThemeError) -> RoleColors {
        guard let table = value.table else {
            throw ThemeError("role \(name) must be a table like { fg = 252, bg = \"default\" }")
        }
        var colors = RoleColors()
        for key in table.keys {
            let entry = table[key]!
            do throws(ThemeError) {
                switch key {
                case "fg": colors.foreground = try TerminalColor(tomlValue: entry)
                case "bg": colors.background = try TerminalColor(tomlValue: entry)
                case "bold", "reverse":
                    guard let flag = entry.bool else { throw ThemeError("must be true or false") }
                    if key == "bold" { colors.bold = flag } else { colors.reverse = flag }
                default: throw ThemeError("unknown key (expected fg, bg, bold, reverse)")
                }
            } catch {
                throw ThemeError("role \(name).\(key): \(error.description)")
            }
        }
        return colors
    }
}

/// Helpers for the xterm 256-colour palette: 16 basic colours, a 6x6x6 colour
/// cube (16-231) and a 24-step gray ramp (232-255).
public enum XtermPalette {
    /// The intensity of each of the cube's six levels.
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The gray-ramp colour (232-255) for a brightness 0-255.
    @inline(__always)
    public static func gray(_ value: UInt8) -> UInt8 {
        // The ramp runs from 8 to 238 in steps of 10; map 0-255 evenly onto its 24 steps.
        232 + UInt8((Int(value) * 24) / 256)
    }

    /// The xterm colour nearest to an RGB value: the gray ramp when the pixel is
    /// (nearly) gray or colour is not allowed, else the closer of cube and ramp.
    @inline(__always)
    public static func nearest(red: UInt8, green: UInt8, blue: UInt8, allowColor: Bool) -> UInt8 {
        let r = Int(red), g = Int(green), b = Int(blue)
        let luma = (r * 299 + g * 587 + b * 114) / 1000
        let grayIndex = gray(UInt8(luma))
        guard allowColor, max(r, g, b) - min(r, g, b) > 12 else { return grayIndex }
        let (ri, gi, bi) = (cubeStep(r), cubeStep(g), cubeStep(b))
        let cubeDistance = square(cubeLevels[ri] - r) + square(cubeLevels[gi] - g) + square(cubeLevels[bi] - b)
        let grayLevel = 8 + 10 * Int(grayIndex - 232)
        let grayDistance = square(grayLevel - r) + square(grayLevel - g) + square(grayLevel - b)
        return grayDistance < cubeDistance ? grayIndex : UInt8(16 + 36 * ri + 6 * gi + bi)
    }

    /// The xterm colour 16-255 closest to an RGB value, searching the cube and the
    /// ramp alike (for theme colours given as "#rrggbb").
    public static func closest(red: Int, green: Int, blue: Int) -> UInt8 {
        var best: UInt8 = 16, bestDistance = Int.max
        for index in 16...255 {
            let (r, g, b) = rgb(UInt8(index))
            let distance = square(r - red) + square(g - green) + square(b - blue)
            if distance < bestDistance { best = UInt8(index); bestDistance = distance }
        }
        return best
    }

    /// The RGB value of an xterm colour 16-255 (0-15 depend on the terminal; an
    /// approximation of the usual VGA values is returned).
    public static func rgb(_ index: UInt8) -> (Int, Int, Int) {
        let i = Int(index)
        switch i {
        case 232...255:
            let level = 8 + 10 * (i - 232)
            return (level, level, level)
        case 16...231:
            let c = i - 16
            return (cubeLevels[c / 36], cubeLevels[(c / 6) % 6], cubeLevels[c % 6])
        default:
            let basic: [(Int, Int, Int)] = [
                (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205),
                (0, 205, 205), (229, 229, 229), (127, 127, 127), (255, 0, 0), (0, 255, 0),
                (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255)]
            return basic[i]
        }
    }

    /// The nearest of the first `count` basic colours (8 or 16), for terminals
    /// without 256 colours.
    public static func nearestBasic(_ index: UInt8, count: Int) -> Int {
        if Int(index) < count { return Int(index) }
        let (r, g, b) = rgb(index)
        var best = 0, bestDistance = Int.max
        for candidate in 0..<min(16, max(1, count)) {
            let (cr, cg, cb) = rgb(UInt8(candidate))
            let distance = square(cr - r) + square(cg - g) + square(cb - b)
            if distance < bestDistance { best = candidate; bestDistance = distance }
        }
        return best
    }

    @inline(__always)
    private static func cubeStep(_ value: Int) -> Int {
        value < 48 ? 0 : value < 115 ? 1 : (value - 35) / 40
    }

    @inline(__always)
    private static func square(_ x: Int) -> Int { x * x }
}
