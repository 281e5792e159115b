/// A key press as the app sees it, independent of the terminal library.
public enum Key: Sendable, Hashable {
    case character(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case backspace, delete, enter, escape, tab, backTab
    /// F1, F2, ...
    case function(Int)
    /// A letter typed with Ctrl held (Ctrl-L is `.control("l")`).
    case control(Character)

    /// The character keys of `text`, for tests and scripted input.
    public static func typing(_ text: String) -> [Key] {
        text.map { .character($0) }
    }
}
