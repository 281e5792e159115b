import ActionNet
import ActionStore
import Training
import Foundation

/// The database id of a clip.
public typealias ClipID = Int64

/// One clip as the list shows it.
public struct ClipRow: Sendable, Equatable {
    public var id: ClipID
    /// Path relative to the project folder, shown in the list and used by the filter.
    public var path: String
    /// Where the file is, for decoding its preview.
    public var url: URL
    public var duration: Double?
    public var fps: Double?
    public var frameCount: Int?
    public var width: Int?
    public var height: Int?
    public var codec: String?
    /// The class index of the current label (0 = first class), if labelled.
    public var label: Int?
    /// Why the clip cannot be decoded, if it cannot.
    public var unreadableReason: String?
    /// True when the file has disappeared from the project folder.
    public var isMissing: Bool
    /// False until the scan has opened the file (its facts are unknown until then).
    public var isProbed: Bool

    public init(id: ClipID, path: String, url: URL, duration: Double? = nil, fps: Double? = nil,
                frameCount: Int? = nil, width: Int? = nil, height: Int? = nil, codec: String? = nil,
                label: Int? = nil, unreadableReason: String? = nil, isMissing: Bool = false,
                isProbed: Bool = true) {
        self.id = id
        self.path = path
        self.url = url
        self.duration = duration
        self.fps = fps
        self.frameCount = frameCount
        self.width = width
        self.height = height
        self.codec = codec
        self.label = label
        self.unreadableReason = unreadableReason
        self.isMissing = isMissing
        self.isProbed = isProbed
    }

    /// Whether the clip can be watched and labelled.
    public var isUsable: Bool { isProbed && unreadableReason == nil && !isMissing }
}

/// The screens of the app, in Tab order. Each has its function key (F1 = first).
public enum Screen: String, Sendable, CaseIterable {
    case clips = "Clips"
    case train = "Train"
    case model = "Model"
    case runs = "Runs"
}

/// One decoded preview frame: `rgb` holds `height` rows of `width` pixels, 3 bytes
/// each (R, G, B), row-major. `timestamp` is seconds from the clip's start.
/// `xtermColors` holds each pixel's nearest xterm-256 colour (see `XtermPalette`),
/// worked out once here, off the main thread, so drawing a frame is only lookups.
public struct PreviewImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let rgb: [UInt8]
    public let timestamp: Double
    public let xtermColors: [UInt8]

    public init(width: Int, height: Int, rgb: [UInt8], timestamp: Double) {
        precondition(rgb.count == width * height * 3, "rgb must hold width * height * 3 bytes")
        self.width = width
        self.height = height
        self.rgb = rgb
        self.timestamp = timestamp
        xtermColors = [UInt8](unsafeUninitializedCapacity: width * height) { colors, count in
            rgb.withUnsafeBufferPointer { pixels in
                for i in 0..<(width * height) {
                    colors[i] = XtermPalette.nearest(red: pixels[3 * i], green: pixels[3 * i + 1],
                                                     blue: pixels[3 * i + 2], allowColor: true)
                }
            }
            count = width * height
        }
    }
}

/// Which preview the app wants: a clip decoded to fit `width` x `height` pixels.
public struct PreviewRequest: Sendable, Hashable {
    public var clipID: ClipID
    public var url: URL
    public var width: Int
    public var height: Int
    /// Show the clip's optical flow (what a motion input shows the model) instead of its frames.
    public var showsMotion = false
}

/// The preview pane's content.
public enum PreviewStatus: Sendable, Equatable {
    case none
    case loading(PreviewRequest)
    case ready(PreviewRequest, [PreviewImage])
    case failed(PreviewRequest, String)

    var request: PreviewRequest? {
        switch self {
        case .none: nil
        case .loading(let r), .ready(let r, _), .failed(let r, _): r
        }
    }
}

/// Playback of the selected clip's preview.
public struct Playback: Sendable, Equatable {
    /// Speeds that + and - step through.
    public static let speeds: [Double] = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4]

    public var isPlaying = true
    public var speed: Double = 1
    /// Seconds into the clip.
    public var position: Double = 0
    /// The preview frame on screen.
    public var frameIndex = 0
}

/// A line for the status bar that disappears after a while, or as soon as what it
/// describes has changed.
public struct StatusMessage: Sendable, Equatable {
    public enum Kind: Sendable { case info, warning, error }

    /// What a message describes: when that changes, the message goes.
    public enum Subject: Sendable, Equatable {
        /// Nothing that changes: the message stays its lifetime.
        case none
        /// The clip selected on the Clips screen.
        case clip(ClipID)
        /// The playback speed.
        case speed(Double)
        /// Where the run stands (see `TrainingPhase.kind`).
        case trainingPhase(TrainingPhase.Kind)
        /// The chosen training settings.
        case trainingSettings(TrainingSettings)
        /// The run selected on the Runs screen.
        case run(Int64)
    }

    public var text: String
    public var kind: Kind
    public var subject: Subject = .none
    /// Clock time when it was shown (see `AppState.clock`).
    public var shownAt: Double

    /// How long a message stays, in seconds; errors stay longer.
    var lifetime: Double { kind == .info ? 4 : 10 }
}

/// How far the background scan of the project folder has got.
public struct ScanStatus: Sendable, Equatable {
    public var scanned: Int
    public var total: Int?
    public var isFinished: Bool

    public init(scanned: Int, total: Int?, isFinished: Bool) {
        self.scanned = scanned
        self.total = total
        self.isFinished = isFinished
    }
}

/// The Clips screen: the list, the filter and the preview.
public struct ClipsState: Sendable, Equatable {
    /// Every clip, sorted by path.
    public internal(set) var clips: [ClipRow] = []
    /// Indices into `clips` of the rows the filter lets through, in list order.
    public internal(set) var visible: [Int] = []
    /// The selected row, as a position in `visible`.
    public internal(set) var selection = 0
    /// The first visible row shown at the top of the list.
    public internal(set) var scrollTop = 0
    /// The filters (name, label, predicted class, a confusion cell's clips) and the order.
    public internal(set) var options = ClipListOptions()
    /// The name filter's text.
    public var filter: String { options.name }
    public internal(set) var isEditingFilter = false
    public internal(set) var preview: PreviewStatus = .none
    /// The preview shows motion (optical flow, coloured by direction) instead of frames.
    public internal(set) var showsMotion = false
    public internal(set) var playback = Playback()
    /// Clock time when the selected clip was selected: watching time is recorded with a label.
    public internal(set) var selectedSince: Double = 0
    public internal(set) var scan = ScanStatus(scanned: 0, total: nil, isFinished: true)
    /// The best checkpoint's answers for clips, asked for with P.
    public internal(set) var predictions: [ClipID: PredictionStatus] = [:]
    /// The project's current model and its predictions, as the database holds them.
    public internal(set) var suggestions = ModelSuggestions()
    /// The background job predicting clips with the current model, while it runs.
    public internal(set) var predicting: PredictionProgress?
    /// How many label changes this app has committed; and for each clip changed, the
    /// count just after its latest change. A list read before that change is older than
    /// the clip's label on screen.
    public internal(set) var labelEdits = 0
    public internal(set) var labelEditedAt: [ClipID: Int] = [:]

    public var selectedClip: ClipRow? {
        visible.indices.contains(selection) ? clips[visible[selection]] : nil
    }
}

/// Everything the app shows, as one plain value. Only `update` changes it.
public struct AppState: Sendable, Equatable {
    /// The smallest terminal the screens are laid out for.
    public static let minimumSize = (width: 80, height: 24)

    public internal(set) var screen: Screen = .clips
    public internal(set) var width: Int
    public internal(set) var height: Int
    /// The project's name for the title bar.
    public internal(set) var projectName: String
    public internal(set) var classes: [ClassInfo]
    public internal(set) var clips = ClipsState()
    /// The Train and Model screens: the chosen settings and the run in progress.
    public internal(set) var training: TrainingState
    /// The Runs screen.
    public internal(set) var runs = RunsState()
    /// Runs' validation clips as their best checkpoints classify them (Enter on a
    /// confusion matrix cell), by run id.
    public internal(set) var validations: [Int64: ValidationStatus] = [:]
    /// A confusion cell waiting for its run's validation to open its clips.
    public internal(set) var confusionOpening: ConfusionOpening?
    public internal(set) var themes: [Theme]
    public internal(set) var themeIndex: Int
    public internal(set) var showingHelp = false
    /// On the Model screen, when the summary and the layer statistics do not fit side by
    /// side: true shows the statistics (v switches).
    public internal(set) var modelShowsStatistics = false
    public internal(set) var message: StatusMessage?
    /// Seconds on a monotonic clock, advanced by tick events.
    public internal(set) var clock: Double = 0
    /// Clock time of the last look for changes made by other processes.
    public internal(set) var lastOutsideCheck: Double = 0
    /// True when the terminal has 256 colours: the preview then uses the xterm
    /// gray ramp and colour cube, otherwise shade characters.
    public var has256Colors: Bool
    /// The machine's physical memory (see `MachineMemory`): a run estimated to need more
    /// is started only when t is pressed again. Nil: unknown, no warning.
    public var machineMemoryBytes: Int?
    /// The CPU's name and features: whether b may switch a run's products to bf16.
    public var cpu: CPUFeatures = .current
    public internal(set) var quitRequested = false

    public init(projectName: String, classes: [ClassInfo], themes: [Theme] = [Theme.monochrome],
                themeIndex: Int = 0, width: Int = 100, height: Int = 30, has256Colors: Bool = true) {
        self.projectName = projectName
        self.classes = classes
        self.themes = themes.isEmpty ? [Theme.monochrome] : themes
        self.themeIndex = min(max(0, themeIndex), self.themes.count - 1)
        self.width = width
        self.height = height
        self.has256Colors = has256Colors
        training = TrainingState(classNames: classes.map(\.name))
    }

    public var theme: Theme { themes[themeIndex] }

    public var isTooSmall: Bool {
        width < Self.minimumSize.width || height < Self.minimumSize.height
    }
}
