import Foundation
import Training

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
        case .review: !clips.suggestions.review.isEmpty
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
        if suggestions.review.isEmpty, clips.options.order == .review { clips.options.order = .name }
        recomputeVisible(keeping: clips.selectedClip?.id)
        return .redraw
    }

    /// Enter: labels the selected clip with the current model's suggestion, as a class key
    /// would, its history saying it was accepted from the model.
    mutating func acceptSuggestion() -> UpdateResult {
        guard let clip = clips.selectedClip else { return .unchanged }
        guard clip.isUsable else { return label(0) }   // says why it cannot be labelled
        guard let prediction = clips.suggestions.byClip[clip.id], let model = clips.suggestions.modelName else {
            show("No suggestion for \(clip.path) yet: " + (clips.suggestions.modelName == nil
                ? "a completed run makes the project's model" : "the model predicts it shortly"), .info, about: .clip(clip.id))
            return .redraw
        }
        guard !prediction.isStale else {
            show("\(clip.path): that suggestion is an older model's; \(model)'s comes shortly", .info, about: .clip(clip.id))
            return .redraw
        }
        guard let index = prediction.predictedIndex(in: classes.map(\.name)) else {
            show("\(model) predicts \(prediction.topClass), a class actionlab.toml does not list", .warning, about: .clip(clip.id))
            return .redraw
        }
        let watched = max(0, clock - clips.selectedSince)
        return UpdateResult(effects: [.acceptSuggestion(clipID: clip.id, classIndex: index, watchedSeconds: watched,
                                                        model: model)])
    }

    /// After a run, and after the scan: read the model's predictions and predict what
    /// it has not (not while a run trains: the job would slow it down).
    func predictClipsEffects() -> [Effect] {
        training.phase.isActive ? [.loadSuggestions] : [.loadSuggestions, .predictClips]
    }

    /// The prediction job's progress: the stored predictions are read again after each
    /// batch, so the column fills in as it goes.
    mutating func applyPredictionJob(_ event: PredictionEvent) -> UpdateResult {
        switch event {
        case .progress(let progress):
            clips.predicting = progress
        case .finished(let progress, _):
            clips.predicting = nil
            if !progress.failures.isEmpty {
                let first = progress.failures[0]
                show("\(progress.failures.count) clips could not be predicted; \(first.id): \(first.reason)", .warning)
            }
        case .failed(let reason):
            clips.predicting = nil
            show("Predicting the clips stopped: \(reason)", .warning)
            return .redraw
        }
        return UpdateResult(redraw: true, effects: [.loadSuggestions])
    }

    static let noPredictionsYet = "No predictions yet: the current model predicts every clip after a run completes"
}
