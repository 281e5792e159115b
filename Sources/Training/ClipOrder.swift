import ActionStore
import Foundation

/// Orders of a clip list by what the model predicted, for labelling with the model in the
/// loop. Pure functions over any list (database records, the UI's rows): `id` gives an
/// item's clip id, `label` its label's class name. Only current predictions count unless
/// `includeStale`; items without one keep their given order after the others.
public enum ClipOrder {
    /// Items with a prediction, smallest margin (top probability minus the second) first:
    /// the clips the model is least sure of, whose labels teach it most.
    public static func mostUncertainFirst<Item>(_ items: [Item], id: (Item) -> Int64,
                                                predictions: [Int64: StoredPrediction],
                                                includeStale: Bool = false) -> [Item] {
        ordered(items) { item in
            usable(predictions[id(item)], includeStale).map { [Double($0.margin)] }
        }
    }

    /// Labelled items whose predicted class is not their label, highest loss
    /// (-log p(label)) first; then every other item in its given order.
    public static func disagreementsFirst<Item>(_ items: [Item], id: (Item) -> Int64, label: (Item) -> String?,
                                                predictions: [Int64: StoredPrediction],
                                                includeStale: Bool = false) -> [Item] {
        ordered(items) { item in
            guard let name = label(item), let p = usable(predictions[id(item)], includeStale),
                  p.topClass != name else { return nil }
            return [-labelLoss(p, label: name)]
        }
    }

    /// Items grouped by predicted class, in the order of `classNames` (classes the project
    /// does not list after them, by name), the most probable first within a class.
    public static func byPredictedClass<Item>(_ items: [Item], id: (Item) -> Int64, classNames: [String],
                                              predictions: [Int64: StoredPrediction],
                                              includeStale: Bool = false) -> [Item] {
        let others = Set(predictions.values.map(\.topClass)).subtracting(classNames).sorted()
        let position = Dictionary(uniqueKeysWithValues: (classNames + others).enumerated().map { ($1, $0) })
        return ordered(items) { item in
            usable(predictions[id(item)], includeStale).map { [Double(position[$0.topClass] ?? 0), -Double($0.topProbability)] }
        }
    }

    /// Labelled items with a prediction, lowest probability of their own label first: the
    /// order of `actionlab review` over its out-of-fold predictions (most doubtful label first).
    public static func reviewOrder<Item>(_ items: [Item], id: (Item) -> Int64, label: (Item) -> String?,
                                         predictions: [Int64: StoredPrediction],
                                         includeStale: Bool = false) -> [Item] {
        ordered(items) { item in
            guard let name = label(item), let p = usable(predictions[id(item)], includeStale) else { return nil }
            return [Double(p.probability(of: name) ?? 0)]
        }
    }

    /// The cross-entropy of a prediction for the class `label`: -log p(label), with p
    /// clipped to 1e-7 as in training (and infinity-free when the class is unknown to it).
    public static func labelLoss(_ prediction: StoredPrediction, label: String) -> Double {
        -log(Double(max(prediction.probability(of: label) ?? 0, 1e-7)))
    }

    private static func usable(_ prediction: StoredPrediction?, _ includeStale: Bool) -> StoredPrediction? {
        guard let prediction, includeStale || !prediction.isStale else { return nil }
        return prediction
    }

    /// Items with a key first, by key ascending (ties keep the given order), then the rest.
    private static func ordered<Item>(_ items: [Item], key: (Item) -> [Double]?) -> [Item] {
        var keyed: [(key: [Double], index: Int)] = [], rest: [Int] = []
        for (index, item) in items.enumerated() {
            // NaN (a diverged model's output) sorts last rather than breaking the order.
            if let k = key(item) { keyed.append((k.map { $0.isNaN ? .infinity : $0 }, index)) } else { rest.append(index) }
        }
        keyed.sort { a, b in
            a.key.lexicographicallyPrecedes(b.key) || (a.key == b.key && a.index < b.index)
        }
        return (keyed.map(\.index) + rest).map { items[$0] }
    }
}

extension ClipOrder {
    /// `mostUncertainFirst` of database records.
    public static func mostUncertainFirst(_ clips: [ClipRecord], predictions: [Int64: StoredPrediction],
                                          includeStale: Bool = false) -> [ClipRecord] {
        mostUncertainFirst(clips, id: \.id, predictions: predictions, includeStale: includeStale)
    }

    /// `disagreementsFirst` of database records.
    public static func disagreementsFirst(_ clips: [ClipRecord], predictions: [Int64: StoredPrediction],
                                          includeStale: Bool = false) -> [ClipRecord] {
        disagreementsFirst(clips, id: \.id, label: { $0.label?.className }, predictions: predictions,
                           includeStale: includeStale)
    }
}
