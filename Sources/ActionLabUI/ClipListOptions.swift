import ActionStore
import Foundation
import Training

/// Which clips the list shows by their label (f cycles it).
public enum LabelFilter: Sendable, Equatable {
    case any
    case unlabelled
    /// Clips labelled with this class index.
    case label(Int)
}

/// A fixed set of clips the list is narrowed to, with the words that say where it came
/// from: the validation clips of one confusion matrix cell.
public struct ClipSet: Sendable, Equatable {
    /// "run 3 validation: walk predicted as run".
    public var title: String
    public var ids: Set<ClipID>

    public init(title: String, ids: Set<ClipID>) {
        self.title = title
        self.ids = ids
    }
}

/// The order of the clip list (o cycles it).
public enum ClipListOrder: Sendable, Equatable, CaseIterable {
    /// By path, as the folder reads.
    case name
    /// Smallest margin between the model's two likeliest classes first: the clips a
    /// label teaches the model most about.
    case uncertain
    /// Labelled clips the model predicts otherwise first, the least likely label first.
    case disagreements
    /// Grouped by the model's predicted class, the surest first within each.
    case predictedClass
    /// The stored out-of-fold review (`actionlab review`): the most doubtful label first.
    case review

    /// For the list's border.
    var title: String {
        switch self {
        case .name: "by name"
        case .uncertain: "most uncertain first"
        case .disagreements: "disagreements first"
        case .predictedClass: "by predicted class"
        case .review: "review: most doubtful first"
        }
    }
}

/// The project's current model and the predictions the database holds for it.
public struct ModelSuggestions: Sendable, Equatable {
    /// How the model is named wherever its predictions show ("run 3", a run's own name).
    public var modelName: String?
    /// Its predictions by clip; for a clip it has not predicted yet, the newest of another
    /// checkpoint, marked stale (`StoredPrediction.isStale`): shown marked, never accepted.
    public var byClip: [ClipID: StoredPrediction]
    /// The latest stored out-of-fold review (`actionlab review`), by clip.
    public var review: [ClipID: StoredPrediction]

    public init(modelName: String? = nil, byClip: [ClipID: StoredPrediction] = [:],
                review: [ClipID: StoredPrediction] = [:]) {
        self.modelName = modelName
        self.byClip = byClip
        self.review = review
    }
}

extension StoredPrediction {
    /// The project class index of the likeliest class; nil when the project has no class of that name.
    func predictedIndex(in classNames: [String]) -> Int? { classNames.firstIndex(of: topClass) }
}

/// The clip list's filters and order, applied in `ClipListOptions.visible`.
public struct ClipListOptions: Sendable, Equatable {
    /// Text the clip's path contains (/ edits it).
    public var name = ""
    public var label: LabelFilter = .any
    /// Only clips the model predicts as this class index (F cycles it).
    public var predicted: Int?
    public var clipSet: ClipSet?
    public var order: ClipListOrder = .name

    public init() {}

    /// True when some filter hides clips.
    public var isFiltering: Bool { !name.isEmpty || label != .any || predicted != nil || clipSet != nil }

    /// The filters and the order in words for the list's border.
    func description(classNames: [String]) -> [String] {
        func className(_ index: Int) -> String { classNames.indices.contains(index) ? classNames[index] : "class \(index + 1)" }
        var parts: [String] = []
        if let clipSet { parts.append(clipSet.title) }
        switch label {
        case .any: break
        case .unlabelled: parts.append("unlabelled")
        case .label(let index): parts.append("label \(className(index))")
        }
        if let predicted { parts.append("predicted \(className(predicted))") }
        if !name.isEmpty { parts.append("name \"\(name)\"") }
        if order != .name { parts.append(order.title) }
        return parts
    }

    /// Indices into `clips` (sorted by path) that the filters let through, in the order's
    /// order (`ClipOrder`, on current predictions only): clips the order knows nothing
    /// about follow the others in path order.
    func visible(_ clips: [ClipRow], classNames: [String], suggestions: ModelSuggestions) -> [Int] {
        let needle = name.lowercased()
        let predictedName = predicted.flatMap { classNames.indices.contains($0) ? classNames[$0] : nil }
        let passing = clips.indices.filter { i in
            let clip = clips[i]
            if let clipSet, !clipSet.ids.contains(clip.id) { return false }
            switch label {
            case .any: break
            case .unlabelled: if clip.label != nil || !clip.isUsable { return false }
            case .label(let index): if clip.label != index { return false }
            }
            if predicted != nil, suggestions.byClip[clip.id]?.topClass != predictedName { return false }
            return needle.isEmpty || clip.path.lowercased().contains(needle)
        }
        let id: (Int) -> Int64 = { clips[$0].id }
        let labelName: (Int) -> String? = { i in clips[i].label.flatMap { classNames.indices.contains($0) ? classNames[$0] : nil } }
        switch order {
        case .name:
            return passing
        case .uncertain:
            return ClipOrder.mostUncertainFirst(passing, id: id, predictions: suggestions.byClip)
        case .disagreements:
            return ClipOrder.disagreementsFirst(passing, id: id, label: labelName, predictions: suggestions.byClip)
        case .predictedClass:
            return ClipOrder.byPredictedClass(passing, id: id, classNames: classNames, predictions: suggestions.byClip)
        case .review:
            return ClipOrder.reviewOrder(passing, id: id, label: labelName, predictions: suggestions.review)
        }
    }
}
