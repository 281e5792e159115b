import CNcursesw
import Foundation

/// What the terminal delivered while the app waited for input.
enum TerminalInput: Equatable {
    case key(Key)
    case resize(width: Int, height: Int)
}

/// The ncurses driver: owns the real terminal while the app runs, reads keys and
/// copies cell grids to the screen with the theme's colours. Only the main
/// thread uses it.
final class TerminalScreen {
    private(set) var width: Int
    private(set) var height: Int
    /// Colours the terminal offers (8, 16, 256, ...); 0 when it has none.
    let colorCount: Int
    private let pairCount: Int

    /// The grid on screen now, to redraw only the cells that changed.
    private var shown: CellGrid?
    private var shownTheme: Theme?
    /// Colour pairs handed out so far, by (foreground, background).
    private var pairs: [Int64: Int32] = [:]
    private var nextPair: Int32 = 1
    /// Resolved (pair, attributes) for each style under the current theme.
    private var resolved: [CellStyle: (pair: Int32, attributes: UInt32)] = [:]

    /// The ncurses screen, and whether it is the user's terminal (restored on signals).
    private let screen: OpaquePointer
    private let isInteractive: Bool
    private var isClosed = false

    /// Takes over the terminal. Fails if stdin/stdout is not a terminal ncurses can use.
    convenience init() throws {
        Self.useUTF8Locale()
        try Self.requireInteractive()
        // newterm reports a bad TERM as a null screen instead of exiting like initscr.
        guard let output = fdopen(STDOUT_FILENO, "w"), let input = fdopen(STDIN_FILENO, "r"),
              let screen = newterm(nil, output, input) else {
            throw TerminalError("cannot use terminal type \"\(ProcessInfo.processInfo.environment["TERM"] ?? "")\"")
        }
        self.init(screen: screen, isInteractive: true)
    }

    /// Takes the user's locale, but with UTF-8 characters: every screen draws boxes,
    /// half-blocks and braille, which ncursesw writes only under a UTF-8 locale. A bare
    /// environment (no LANG, as under cron, `env -i` or some CI runners) means the "C"
    /// locale, so the character type falls back to C.UTF-8, which glibc always has.
    static func useUTF8Locale() {
        setlocale(LC_ALL, "")
        if let codeset = nl_langinfo(nl_item(CODESET)), String(cString: codeset) == "UTF-8" { return }
        if setlocale(LC_CTYPE, "C.UTF-8") == nil { _ = setlocale(LC_CTYPE, "C.utf8") }
    }

    /// Fails unless stdin and stdout are a terminal.
    static func requireInteractive() throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw TerminalError("the terminal UI needs an interactive terminal (stdin and stdout are not one)")
        }
    }

    /// A screen that renders for an xterm-256color terminal of the given size into
    /// /dev/null: the benchmark times the driver's work without a terminal.
    static func offscreen(width: Int, height: Int) throws -> TerminalScreen {
        Self.useUTF8Locale()
        guard let output = fopen("/dev/null", "w"), let input = fopen("/dev/null", "r"),
              let screen = newterm("xterm-256color", output, input) else {
            throw TerminalError("cannot set up an off-screen xterm-256color terminal")
        }
        let terminal = TerminalScreen(screen: screen, isInteractive: false)
        resizeterm(Int32(height), Int32(width))
        terminal.width = width
        terminal.height = height
        return terminal
    }

    private init(screen: OpaquePointer, isInteractive: Bool) {
        self.screen = screen
        self.isInteractive = isInteractive
        set_term(screen)
        if isInteractive { TerminalRestore.install() }
        cbreak()
        noecho()
        nonl()
        keypad(cncurses_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        if has_colors() {
            start_color()
            use_default_colors()
            colorCount = Int(cncurses_color_count())
            pairCount = Int(cncurses_pair_count())
        } else {
            colorCount = 0
            pairCount = 0
        }
        var rows: Int32 = 0, columns: Int32 = 0
        cncurses_screen_size(&rows, &columns)
        width = Int(columns)
        height = Int(rows)
    }

    /// Gives the terminal back. Safe to call more than once.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        if isInteractive {
            TerminalRestore.restore()
        } else {
            endwin()
        }
        delscreen(screen)
    }

    /// Waits up to `timeoutMilliseconds` for input (0: just checks).
    func read(timeoutMilliseconds: Int32) -> TerminalInput? {
        timeout(timeoutMilliseconds)
        var character: wint_t = 0
        let status = get_wch(&character)
        if status == cncurses_err() { return nil }
        if status == cncurses_key_code_yes() {
            let code = Int32(character)
            if code == cncurses_key_resize() {
                var rows: Int32 = 0, columns: Int32 = 0
                cncurses_screen_size(&rows, &columns)
                width = Int(columns)
                height = Int(rows)
                shown = nil
                return .resize(width: width, height: height)
            }
            return Self.functionKey(code).map { .key($0) }
        }
        switch character {
        case 9: return .key(.tab)
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        case 1...26: return .key(.control(Character(Unicode.Scalar(UInt8(character) + 0x60))))
        default:
            guard let scalar = Unicode.Scalar(UInt32(character)) else { return nil }
            return .key(.character(Character(scalar)))
        }
    }

    private static func functionKey(_ code: Int32) -> Key? {
        switch code {
        case cncurses_key_up(): .up
        case cncurses_key_down(): .down
        case cncurses_key_left(): .left
        case cncurses_key_right(): .right
        case cncurses_key_ppage(): .pageUp
        case cncurses_key_npage(): .pageDown
        case cncurses_key_home(): .home
        case cncurses_key_end(): .end
        case cncurses_key_backspace(): .backspace
        case cncurses_key_dc(): .delete
        case cncurses_key_btab(): .backTab
        case cncurses_key_enter(): .enter
        default:
            (1...12).first { cncurses_key_f(Int32($0)) == code }.map { .function($0) }
        }
    }

    /// Copies `grid` to the screen: only the cells that differ from what is shown.
    func draw(_ grid: CellGrid, theme: Theme) {
        var full = shown == nil || shown!.width != grid.width || shown!.height != grid.height || shownTheme != theme
        if colorCount > 0 && Int(nextPair) >= pairCount {
            // Out of colour pairs: start over, which needs every cell redrawn.
            pairs.removeAll()
            resolved.removeAll()
            nextPair = 1
            full = true
        }
        if shownTheme != theme { resolved.removeAll() }
        if full { erase() }
        let previous = full ? nil : shown
        for row in 0..<grid.height {
            for column in 0..<grid.width {
                let cell = grid[row, column]
                // ncurses keeps the second half of a wide character drawn in the first.
                if cell.isContinuation { continue }
                if let previous, previous[row, column] == cell { continue }
                let (pair, attributes) = resolve(cell.style, theme: theme)
                let text = Self.cellText(cell.character)
                _ = text.withUnsafeBufferPointer { characters in
                    cncurses_put_cell(Int32(row), Int32(column), characters.baseAddress, Int32(characters.count),
                                      attributes, pair)
                }
            }
        }
        refresh()
        shown = grid
        shownTheme = theme
    }

    /// The wide characters of one cell: the character's first scalar and the combining
    /// marks after it (at most three, as a cchar_t holds). Further spacing scalars of
    /// the cluster (the rest of an emoji sequence) have no cell of their own: ncurses
    /// refuses a cell with two, so they are left out.
    static func cellText(_ character: Character) -> [wchar_t] {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return [wchar_t(bitPattern: 0x20)] }
        var text = [wchar_t(bitPattern: first.value)]
        for scalar in scalars.dropFirst() where DisplayWidth.of(scalar) == 0 && text.count < 4 {
            text.append(wchar_t(bitPattern: scalar.value))
        }
        return text
    }

    /// Makes the next `draw` clear the terminal and draw every cell (Ctrl-L): whatever
    /// another program wrote over the screen goes away.
    func repaintAll() {
        shown = nil
        cncurses_repaint_all()
    }

    private func resolve(_ style: CellStyle, theme: Theme) -> (pair: Int32, attributes: UInt32) {
        if let known = resolved[style] { return known }
        let look = TerminalLook(style, theme: theme, hasColors: colorCount > 0)
        var attributes = cncurses_attr_normal()
        if look.bold { attributes |= cncurses_attr_bold() }
        if look.reverse { attributes |= cncurses_attr_reverse() }
        if look.underline { attributes |= cncurses_attr_underline() }
        let result = (pair(look.foreground, look.background), attributes)
        resolved[style] = result
        return result
    }

    private func pair(_ foreground: TerminalColor, _ background: TerminalColor) -> Int32 {
        guard colorCount > 0 else { return 0 }
        let fg = terminalIndex(foreground), bg = terminalIndex(background)
        if fg == -1 && bg == -1 { return 0 }
        let key = Int64(fg) << 32 | Int64(UInt32(bitPattern: bg))
        if let known = pairs[key] { return known }
        guard Int(nextPair) < pairCount else { return 0 }
        let number = nextPair
        nextPair += 1
        init_extended_pair(number, fg, bg)
        pairs[key] = number
        return number
    }

    private func terminalIndex(_ color: TerminalColor) -> Int32 {
        switch color {
        case .terminalDefault: return -1
        case .xterm(let index):
            return Int(index) < colorCount ? Int32(index) : Int32(XtermPalette.nearestBasic(index, count: colorCount))
        }
    }
}

/// Why the terminal could not be used.
public struct TerminalError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// How a cell style looks under a theme: the terminal colours and attributes the
/// driver sets. Roles take both colours from the theme; class and exact colours
/// sit on the text background unless the style names a background.
struct TerminalLook: Equatable {
    var foreground: TerminalColor
    var background: TerminalColor
    var bold = false
    var reverse = false
    var underline = false

    /// Roles shown reversed on terminals without colours, where they would otherwise vanish.
    static let reversedWithoutColor: Set<ColorRole> = [.selection, .header, .status]

    init(_ style: CellStyle, theme: Theme, hasColors: Bool) {
        switch style.foreground {
        case .role(let role):
            let colors = theme.colors(for: role)
            foreground = colors.foreground
            background = colors.background
            bold = colors.bold
            reverse = colors.reverse || (!hasColors && Self.reversedWithoutColor.contains(role))
        case .classColor(let index):
            foreground = theme.color(forClass: index)
            background = theme.colors(for: .text).background
        case .xterm(let index):
            foreground = .xterm(index)
            background = theme.colors(for: .text).background
        }
        switch style.background {
        case nil: break
        case .role(let role)?: background = theme.colors(for: role).background
        case .classColor(let index)?: background = theme.color(forClass: index)
        case .xterm(let index)?: background = .xterm(index)
        }
        bold = bold || style.bold
        // A reversed style on a reversed role cancels out, as the attribute would.
        reverse = reverse != style.reverse
        underline = style.underline
    }
}
