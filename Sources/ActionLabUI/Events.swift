/// Why a clip's label changed, which decides where the selection goes next.
public enum LabelCause: Sendable, Equatable {
    /// A class key: the selection moves on to the next clip.
    case label
    /// 0 or Backspace.
    case clear
    /// u: the selection jumps to the clip whose label was restored.
    case undo
}

/// Everything that can change the app's state.
public enum AppEvent: Sendable, Equatable {
    case key(Key)
    /// The main loop's heartbeat; `now` is seconds on a monotonic clock.
    case tick(now: Double)
    case resize(width: Int, height: Int)
    /// New or changed clips from the project scan (matched by id).
    case clipsChanged([ClipRow])
    case scanProgress(ScanStatus)
    /// A label change is committed to the database; only now is it shown.
    case labelCommitted(clipID: ClipID, classIndex: Int?, cause: LabelCause)
    /// Nothing to undo, or a write failed: shown in the status line.
    case labelNotChanged(String)
    case previewLoaded(PreviewRequest, [PreviewImage])
    case previewFailed(PreviewRequest, String)
    /// A problem found outside `update` (theme file, preferences) to show.
    case warning(String)
}

/// Work `update` asks the app to do: database writes, decoding, saving settings.
/// Their results come back as events.
public enum Effect: Sendable, Equatable {
    case setLabel(clipID: ClipID, classIndex: Int, watchedSeconds: Double)
    case clearLabel(clipID: ClipID)
    case undoLastLabel
    case loadPreview(PreviewRequest)
    /// Decode a preview ahead of need (the clip that labelling moves to next) and keep
    /// it cached; nothing is posted.
    case prefetchPreview(PreviewRequest)
    case saveTheme(name: String)
    case quit
}

/// What an event changed: whether the screen must be redrawn, and the work to do.
public struct UpdateResult: Sendable, Equatable {
    public var redraw: Bool
    public var effects: [Effect]

    public init(redraw: Bool = false, effects: [Effect] = []) {
        self.redraw = redraw
        self.effects = effects
    }

    public static let unchanged = UpdateResult()
    public static let redraw = UpdateResult(redraw: true)

    mutating func merge(_ other: UpdateResult) {
        redraw = redraw || other.redraw
        effects += other.effects
    }
}
