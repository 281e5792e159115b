import Foundation

/// Sizes and durations in words, worded one way for the summary, the command line and
/// the terminal UI.
public enum Formatting {
    /// "45.1 MB": 1024-based units from B to TB, `decimals` digits after the point.
    public static func bytes(_ count: Int, decimals: Int = 1) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count), unit = 0
        while abs(value) >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return String(format: "%.\(max(0, decimals))f %@", value, units[unit])
    }

    /// "12.3s" below a minute, "4:05" below an hour, "2h05m" from an hour; "?" when unknown.
    public static func duration(_ seconds: Double?) -> String {
        // Durations come from the database and clip headers: beyond a century is no duration.
        guard let seconds, seconds.isFinite, seconds >= 0, seconds < 3e9 else { return "?" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        if seconds < 3600 {
            let whole = (seconds.rounded() as Double)
            return String(format: "%.0f:%02.0f", (whole / 60).rounded(.down), whole.truncatingRemainder(dividingBy: 60))
        }
        let minutes = (seconds / 60).rounded()
        return String(format: "%.0fh%02.0fm", (minutes / 60).rounded(.down), minutes.truncatingRemainder(dividingBy: 60))
    }
}
