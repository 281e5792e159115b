import Foundation

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
    /// The out-of-fold review (`actionlab review`): the most doubtful label first.
    case review

    /// For the list header.
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

/// The model's answer for one clip as the list shows it.
public struct ClipSuggestion: Sendable, Equatable {
    /// Index of the likeliest class among the project's classes.
    public var predicted: Int
    /// One per project class, in class order.
    public var probabilities: [Float]
    /// True when a model other than the project's current one made it (or the clip has
    /// changed since): shown marked, never accepted.
    public var isStale: Bool

    public init(predicted: Int, probabilities: [Float], isStale: Bool = false) {
        self.predicted = predicted
        self.probabilities = probabilities
        self.isStale = isStale
    }

    /// The likeliest class's probability.
    public var probability: Float { probabilities.indices.contains(predicted) ? probabilities[predicted] : 0 }

    /// The top probability minus the second: small when the model hesitates.
    public var margin: Float {
        let sorted = probabilities.sorted(by: >)
        return sorted.count < 2 ? (sorted.first ?? 0) : sorted[0] - sorted[1]
    }

    /// The probability the model gives to class `index`.
    public func probability(of index: Int) -> Float {
        probabilities.indices.contains(index) ? probabilities[index] : 0
    }
}

/// The project's current model and what it says about the clips.
public struct ModelSuggestions: Sendable, Equatable {
    /// How the model is named wherever its predictions are shown ("run 3 · epoch 12").
    public var modelName: String?
    public var byClip: [ClipID: ClipSuggestion]

    public init(modelName: String? = nil, byClip: [ClipID: ClipSuggestion] = [:]) {
        self.modelName = modelName
        self.byClip = byClip
    }
}

/// The clip list's filters and order, applied in `ClipListOptions.visible`.
public struct ClipListOptions: Sendable, Equatable {
    /// Text the clip's path contains (/ edits it).
    public var name = ""
    public var label: LabelFilter = .any
    /// Only clips the model predicts as this class (F cycles it).
    public var predicted: Int?
    public var clipSet: ClipSet?
    public var order: ClipListOrder = .name

    public init() {}

    /// True when some filter hides clips.
    public var isFiltering: Bool { !name.isEmpty || label != .any || predicted != nil || clipSet != nil }

    /// The filters and the order in words for the list header, given the class names.
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
    /// order; ties and clips the order knows nothing about keep their path order, after
    /// those it does know about.
    func visible(_ clips: [ClipRow], suggestions: [ClipID: ClipSuggestion], reviewRank: [ClipID: Int]) -> [Int] {
        let needle = name.lowercased()
        let passing = clips.indices.filter { i in
            let clip = clips[i]
            if let clipSet, !clipSet.ids.contains(clip.id) { return false }
            switch label {
            case .any: break
            case .unlabelled: if clip.label != nil || !clip.isUsable { return false }
            case .label(let index): if clip.label != index { return false }
            }
            if let predicted, suggestions[clip.id]?.predicted != predicted { return false }
            return needle.isEmpty || clip.path.lowercased().contains(needle)
        }
        // A key per clip: nil puts it after every keyed clip, in path order.
        let key: (ClipRow) -> [Float]?
        switch order {
        case .name:
            return passing
        case .uncertain:
            // Current predictions before stale ones: a stale margin says little.
            key = { clip in suggestions[clip.id].map { [$0.isStale ? 1 : 0, $0.margin] } }
        case .disagreements:
            key = { clip in
                guard let label = clip.label, let s = suggestions[clip.id], s.predicted != label else { return nil }
                return [s.isStale ? 1 : 0, s.probability(of: label)]
            }
        case .predictedClass:
            key = { clip in suggestions[clip.id].map { [Float($0.predicted), $0.isStale ? 1 : 0, -$0.probability] } }
        case .review:
            key = { clip in reviewRank[clip.id].map { [Float($0)] } }
        }
        let keyed = passing.map { (index: $0, key: key(clips[$0])) }
        return keyed.sorted { a, b in
            switch (a.key, b.key) {
            case (nil, nil): return a.index < b.index
            case (nil, _): return false
            case (_, nil): return true
            case (let x?, let y?): return x.lexicographicallyPrecedes(y) || (x == y && a.index < b.index)
            }
        }.map(\.index)
    }
}
