import Foundation

extension AppState {
    // MARK: Filters and orders of the clip list

    /// f: all clips, then unlabelled ones, then each class's in turn, then all again.
    mutating func cycleLabelFilter() -> UpdateResult {
        let next: LabelFilter
        switch clips.options.label {
        case .any: next = .unlabelled
        case .unlabelled: next = classes.isEmpty ? .any : .label(0)
        case .label(let index): next = index + 1 < classes.count ? .label(index + 1) : .any
        }
        return changeListOptions { $0.label = next }
    }

    /// F: each predicted class in turn, then all clips again.
    mutating func cyclePredictedFilter() -> UpdateResult {
        guard !clips.suggestions.byClip.isEmpty || clips.options.predicted != nil else {
            show(Self.noPredictionsYet, .info)
            return .redraw
        }
        let next: Int? = switch clips.options.predicted {
        case nil: classes.isEmpty ? nil : 0
        case let index?: index + 1 < classes.count ? index + 1 : nil
        }
        return changeListOptions { $0.predicted = next }
    }

    /// o: the next order that has something to order by (the model's predictions, a
    /// stored review), back to by name after the last.
    mutating func cycleOrder() -> UpdateResult {
        let all = ClipListOrder.allCases
        let start = all.firstIndex(of: clips.options.order) ?? 0
        for step in 1...all.count {
            let order = all[(start + step) % all.count]
            guard canOrder(by: order) else { continue }
            if order == clips.options.order {
                show(clips.suggestions.byClip.isEmpty ? Self.noPredictionsYet : "No other order is available", .info)
                return .redraw
            }
            return changeListOptions { $0.order = order }
        }
        return .unchanged
    }

    private func canOrder(by order: ClipListOrder) -> Bool {
        switch order {
        case .name: true
        case .uncertain, .disagreements, .predictedClass: !clips.suggestions.byClip.isEmpty
        case .review: !clips.reviewRank.isEmpty
        }
    }

    /// Esc: every filter off (the order stays).
    mutating func clearFilters() -> UpdateResult {
        guard clips.options.isFiltering else { return .unchanged }
        return changeListOptions { options in
            options.name = ""
            options.label = .any
            options.predicted = nil
            options.clipSet = nil
        }
    }

    /// New predictions: the list keeps its selected clip where the order puts it now.
    mutating func applySuggestions(_ suggestions: ModelSuggestions) -> UpdateResult {
        guard suggestions != clips.suggestions else { return .unchanged }
        clips.suggestions = suggestions
        if suggestions.byClip.isEmpty {
            clips.options.predicted = nil
            if clips.options.order != .review { clips.options.order = .name }
        }
        recomputeVisible(keeping: clips.selectedClip?.id)
        return .redraw
    }

    static let noPredictionsYet = "No predictions yet: the current model predicts every clip after a run completes"
}
