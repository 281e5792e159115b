import Foundation

/// One label class of the project, in key order.
public struct ClassInfo: Sendable, Equatable, Hashable {
    /// Position in `actionlab.toml`'s `classes`, from 0; also the model's output index.
    public let index: Int
    public let name: String
    /// The key that applies this label: "1" for index 0 up to "9".
    public let key: Character

    /// The class's colour comes from the terminal UI's theme (`[classes] colors`), not from here.
    public init(index: Int, name: String, key: Character) {
        self.index = index
        self.name = name
        self.key = key
    }
}

/// What probing a video file found, as recorded for a clip.
public struct ClipProbe: Sendable, Equatable {
    public var codec: String
    public var width: Int
    public var height: Int
    /// Frames per second.
    public var fps: Double
    /// Seconds.
    public var duration: Double
    public var frameCount: Int
    /// False when `frameCount` was estimated from duration x fps rather than counted.
    public var frameCountIsExact: Bool

    public init(codec: String, width: Int, height: Int, fps: Double, duration: Double,
                frameCount: Int, frameCountIsExact: Bool) {
        self.codec = codec
        self.width = width
        self.height = height
        self.fps = fps
        self.duration = duration
        self.frameCount = frameCount
        self.frameCountIsExact = frameCountIsExact
    }
}

/// The label a clip carries now.
public struct ClipLabel: Sendable, Equatable {
    public let className: String
    /// The class's index in the current configuration; nil if `actionlab.toml` no longer names it.
    public let classIndex: Int?
    /// The user name (`USER`) of whoever applied it.
    public let labelledBy: String
    public let labelledAt: Date
    /// Seconds the clip was watched before the label was applied.
    public let watchedSeconds: Double

    public init(className: String, classIndex: Int?, labelledBy: String, labelledAt: Date, watchedSeconds: Double) {
        self.className = className
        self.classIndex = classIndex
        self.labelledBy = labelledBy
        self.labelledAt = labelledAt
        self.watchedSeconds = watchedSeconds
    }
}

/// One clip of the project with what is known about it and its current label.
public struct ClipRecord: Sendable, Equatable, Identifiable {
    public let id: Int64
    /// Path relative to the project folder, with `/` separators.
    public let path: String
    /// File size in bytes and modification time when last scanned.
    public let size: Int64
    public let modified: Date
    /// What probing found; nil if not yet probed or unreadable.
    public let probe: ClipProbe?
    /// Why the file cannot be decoded, e.g. "no video stream"; nil if readable or not yet probed.
    public let unreadableReason: String?
    /// True when the last scan did not find the file.
    public let isMissing: Bool
    public let label: ClipLabel?

    public init(id: Int64, path: String, size: Int64, modified: Date, probe: ClipProbe?,
                unreadableReason: String?, isMissing: Bool, label: ClipLabel?) {
        self.id = id
        self.path = path
        self.size = size
        self.modified = modified
        self.probe = probe
        self.unreadableReason = unreadableReason
        self.isMissing = isMissing
        self.label = label
    }

    /// The file name without its folders, for lists.
    public var name: String { path.split(separator: "/").last.map(String.init) ?? path }
    /// True when the clip can be shown and trained on.
    public var isUsable: Bool { probe != nil && unreadableReason == nil && !isMissing }
}

/// One change of a clip's label, as kept in the history for undo and audit.
public struct LabelChange: Sendable, Equatable, Identifiable {
    public enum Kind: String, Sendable {
        /// A label applied with a key.
        case set
        /// A label removed with a key.
        case clear
        /// A label applied or changed by `labels import`.
        case imported
        /// An earlier change reverted by undo; `previousClass`/`newClass` describe the revert.
        case undo
    }

    public let id: Int64
    public let clipID: Int64
    public let path: String
    public let kind: Kind
    /// The class before and after the change; nil means unlabelled.
    public let previousClass: String?
    public let newClass: String?
    public let who: String
    public let at: Date
    /// Seconds the clip was watched before this change.
    public let watchedSeconds: Double
    /// True once undo has reverted this change.
    public let isUndone: Bool
    /// The name of the model (`ProjectModel.name`) whose suggestion was accepted; nil when typed.
    public let acceptedFrom: String?

    public init(id: Int64, clipID: Int64, path: String, kind: Kind, previousClass: String?, newClass: String?,
                who: String, at: Date, watchedSeconds: Double, isUndone: Bool, acceptedFrom: String? = nil) {
        self.id = id
        self.clipID = clipID
        self.path = path
        self.kind = kind
        self.previousClass = previousClass
        self.newClass = newClass
        self.who = who
        self.at = at
        self.watchedSeconds = watchedSeconds
        self.isUndone = isUndone
        self.acceptedFrom = acceptedFrom
    }
}

/// How a training run ended, or that it is still going.
public enum RunStatus: String, Sendable, CaseIterable {
    case running
    /// All requested epochs ran.
    case completed
    /// Early stopping ended it.
    case earlyStopped = "early_stopped"
    /// The user stopped it.
    case stopped
    case failed
    /// Its process ended without recording how the run ended (found on the next open).
    case interrupted
}

/// One training run as listed on the Runs screen.
public struct RunRecord: Sendable, Equatable, Identifiable {
    public let id: Int64
    public var startedAt: Date
    /// The trainer's settings (epochs, batch size, learning rate, model config...) as JSON.
    public var settingsJSON: String
    /// Which clips went to training and which to validation, as JSON.
    public var splitJSON: String
    public var status: RunStatus
    /// Why it failed or stopped, in words; nil otherwise.
    public var statusDetail: String?
    /// Epochs completed so far.
    public var epochs: Int
    public var bestValAccuracy: Double?
    /// Wall-clock seconds from start to end (or to the last update while running).
    public var durationSeconds: Double
    /// The checkpoint of the last epoch and of the best validation accuracy.
    public var lastCheckpointPath: String?
    public var bestCheckpointPath: String?
    /// The user's name and note for the run; nil until given. Changed only by
    /// `ProjectStore.describeRun`, never by `updateRun` (the trainer's copy may be older).
    public var name: String?
    public var note: String?

    public init(id: Int64, startedAt: Date, settingsJSON: String, splitJSON: String, status: RunStatus,
                statusDetail: String? = nil, epochs: Int = 0, bestValAccuracy: Double? = nil,
                durationSeconds: Double = 0, lastCheckpointPath: String? = nil, bestCheckpointPath: String? = nil,
                name: String? = nil, note: String? = nil) {
        self.id = id
        self.startedAt = startedAt
        self.settingsJSON = settingsJSON
        self.splitJSON = splitJSON
        self.status = status
        self.statusDetail = statusDetail
        self.epochs = epochs
        self.bestValAccuracy = bestValAccuracy
        self.durationSeconds = durationSeconds
        self.lastCheckpointPath = lastCheckpointPath
        self.bestCheckpointPath = bestCheckpointPath
        self.name = name
        self.note = note
    }

    /// The run's name, or "run N" until the user names it.
    public var displayName: String { name.map { $0.isEmpty ? "run \(id)" : $0 } ?? "run \(id)" }
}

/// The metrics of one epoch of one run. Validation values are nil when there is no validation set.
public struct EpochMetrics: Sendable, Equatable {
    public let runID: Int64
    /// From 1.
    public let epoch: Int
    public let loss: Double
    public let accuracy: Double
    public let valLoss: Double?
    public let valAccuracy: Double?
    public let learningRate: Double
    /// Wall-clock seconds the epoch took.
    public let seconds: Double

    public init(runID: Int64, epoch: Int, loss: Double, accuracy: Double, valLoss: Double?, valAccuracy: Double?,
                learningRate: Double, seconds: Double) {
        self.runID = runID
        self.epoch = epoch
        self.loss = loss
        self.accuracy = accuracy
        self.valLoss = valLoss
        self.valAccuracy = valAccuracy
        self.learningRate = learningRate
        self.seconds = seconds
    }
}
