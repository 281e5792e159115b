import ClipIO
import Foundation

/// Where labels are kept. Every call commits before it returns: the app shows a
/// label change only after that.
public protocol LabelStore: AnyObject {
    /// `acceptedFrom`: the model whose suggestion the label is (Enter), nil for a typed one.
    func setLabel(clipID: ClipID, classIndex: Int, watchedSeconds: Double, acceptedFrom: String?) throws
    func clearLabel(clipID: ClipID) throws
    /// Reverts the most recent label change; returns the clip and its restored
    /// label (class index or nil), or nil when there is nothing to undo.
    func undoLastChange() throws -> (clipID: ClipID, classIndex: Int?)?
}

/// Decodes a clip into preview frames of the given pixel size. Called on a
/// background queue.
public protocol PreviewDecoder: Sendable {
    func previewFrames(of url: URL, width: Int, height: Int) throws -> [PreviewImage]
}

/// Events that background work posts for the main thread to apply.
public final class EventInbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [AppEvent] = []

    public init() {}

    public func post(_ event: AppEvent) {
        condition.lock()
        pending.append(event)
        condition.broadcast()
        condition.unlock()
    }

    /// Everything posted so far, oldest first.
    public func drain() -> [AppEvent] {
        condition.lock()
        defer { condition.unlock() }
        let events = pending
        pending.removeAll()
        return events
    }

    /// Blocks until an event is pending or `deadline` passes; true when one is.
    public func waitForEvents(until deadline: Date) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty {
            if !condition.wait(until: deadline) { return !pending.isEmpty }
        }
        return true
    }
}

/// Decodes previews on a serial background queue and keeps the last few.
/// Requests that are no longer wanted when their turn comes are skipped, so
/// scrolling quickly through the list does not queue up decodes.
final class PreviewLoader: @unchecked Sendable {
    private let decoder: PreviewDecoder
    private let queue = DispatchQueue(label: "actionlab.preview", qos: .userInitiated)
    private let lock = NSLock()
    private var wanted: PreviewRequest?
    /// Most recently used last.
    private var cache: [(PreviewRequest, [PreviewImage])] = []
    private let cacheLimit = 8

    init(decoder: PreviewDecoder) {
        self.decoder = decoder
    }

    /// Returns the frames at once when cached; otherwise decodes in the
    /// background and posts `previewLoaded` or `previewFailed` to `inbox`.
    func load(_ request: PreviewRequest, inbox: EventInbox) -> AppEvent? {
        lock.lock()
        defer { lock.unlock() }
        wanted = request
        if let hit = cache.firstIndex(where: { $0.0 == request }) {
            let entry = cache.remove(at: hit)
            cache.append(entry)
            return .previewLoaded(request, entry.1)
        }
        queue.async { [self] in
            guard isStillWanted(request) else { return }
            // A prefetch of the same clip may have finished while this waited.
            if let frames = cachedFrames(request) {
                inbox.post(.previewLoaded(request, frames))
                return
            }
            do {
                let frames = try Self.decode(request, with: decoder)
                store(request, frames)
                inbox.post(.previewLoaded(request, frames))
            } catch {
                inbox.post(.previewFailed(request, "\(error)"))
            }
        }
        return nil
    }

    /// Decodes `request` in the background into the cache, unless it is there already.
    func prefetch(_ request: PreviewRequest) {
        guard cachedFrames(request) == nil else { return }
        queue.async { [self] in
            guard cachedFrames(request) == nil,
                  let frames = try? Self.decode(request, with: decoder)
            else { return }
            store(request, frames)
        }
    }

    private func isStillWanted(_ request: PreviewRequest) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return wanted == request
    }

    /// The preview `request` asks for: the clip's frames, or their motion drawn as pictures.
    static func decode(_ request: PreviewRequest, with decoder: any PreviewDecoder) throws -> [PreviewImage] {
        let frames = try decoder.previewFrames(of: request.url, width: request.width, height: request.height)
        guard request.showsMotion else { return frames }
        let pictures = frames.map { PreviewFrame(width: $0.width, height: $0.height, rgb: $0.rgb, timestamp: $0.timestamp) }
        return OpticalFlow.motionPictures(of: pictures).map {
            PreviewImage(width: $0.width, height: $0.height, rgb: $0.rgb, timestamp: $0.timestamp)
        }
    }

    private func cachedFrames(_ request: PreviewRequest) -> [PreviewImage]? {
        lock.lock()
        defer { lock.unlock() }
        return cache.first { $0.0 == request }?.1
    }

    private func store(_ request: PreviewRequest, _ frames: [PreviewImage]) {
        lock.lock()
        defer { lock.unlock() }
        cache.removeAll { $0.0 == request }
        cache.append((request, frames))
        if cache.count > cacheLimit { cache.removeFirst(cache.count - cacheLimit) }
    }
}

/// The app without a terminal: applies events to the state and carries out the
/// effects `update` asks for. The terminal loop and the benchmark both drive it.
public final class AppCore {
    public private(set) var state: AppState
    public let inbox = EventInbox()
    private let store: LabelStore
    private let previews: PreviewLoader
    private let preferencesURL: URL?
    private let training: TrainingBackend?
    /// Set by Ctrl-L: the terminal loop clears the screen and draws every cell again.
    public private(set) var repaintRequested = false
    private let watcher: OutsideChangeWatcher?

    /// `preferencesURL`: where the chosen theme is remembered (nil: not remembered).
    /// `training`: runs, estimates and predictions (nil: the training keys explain that
    /// training is not available).
    /// `watcher`: brings in what other processes change in the project (nil: nothing does).
    public init(state: AppState, store: LabelStore, decoder: PreviewDecoder, preferencesURL: URL?,
                training: TrainingBackend? = nil, watcher: OutsideChangeWatcher? = nil) {
        self.state = state
        self.store = store
        self.previews = PreviewLoader(decoder: decoder)
        self.preferencesURL = preferencesURL
        self.training = training
        self.watcher = watcher
    }

    /// Applies `event` and everything it leads to; returns true if the screen must be redrawn.
    @discardableResult
    public func handle(_ event: AppEvent) -> Bool {
        var queue = [event]
        var redraw = false
        while !queue.isEmpty {
            let result = state.update(queue.removeFirst())
            redraw = redraw || result.redraw
            for effect in result.effects {
                queue += perform(effect)
            }
        }
        return redraw
    }

    /// Applies whatever background work has posted. Clip batches that arrived
    /// together are merged first: each merge re-sorts the list, once is enough.
    public func drainInbox() -> Bool {
        var redraw = false
        var pendingClips: [ClipRow] = []
        for event in inbox.drain() {
            if case .clipsChanged(let rows) = event {
                pendingClips += rows
                continue
            }
            if !pendingClips.isEmpty {
                redraw = handle(.clipsChanged(pendingClips)) || redraw
                pendingClips = []
            }
            redraw = handle(event) || redraw
        }
        if !pendingClips.isEmpty { redraw = handle(.clipsChanged(pendingClips)) || redraw }
        return redraw
    }

    /// Carries out one effect; returns the events it produced at once.
    private func perform(_ effect: Effect) -> [AppEvent] {
        switch effect {
        case .setLabel(let clipID, let classIndex, let watched):
            do {
                try store.setLabel(clipID: clipID, classIndex: classIndex, watchedSeconds: watched, acceptedFrom: nil)
                return [.labelCommitted(clipID: clipID, classIndex: classIndex, cause: .label)]
            } catch {
                return [.labelNotChanged("Label not saved: \(error)")]
            }
        case .acceptSuggestion(let clipID, let classIndex, let watched, let model):
            do {
                try store.setLabel(clipID: clipID, classIndex: classIndex, watchedSeconds: watched, acceptedFrom: model)
                return [.labelCommitted(clipID: clipID, classIndex: classIndex, cause: .label)]
            } catch {
                return [.labelNotChanged("Label not saved: \(error)")]
            }
        case .clearLabel(let clipID):
            do {
                try store.clearLabel(clipID: clipID)
                return [.labelCommitted(clipID: clipID, classIndex: nil, cause: .clear)]
            } catch {
                return [.labelNotChanged("Label not cleared: \(error)")]
            }
        case .undoLastLabel:
            do {
                guard let change = try store.undoLastChange() else { return [.labelNotChanged("Nothing to undo")] }
                return [.labelCommitted(clipID: change.clipID, classIndex: change.classIndex, cause: .undo)]
            } catch {
                return [.labelNotChanged("Undo failed: \(error)")]
            }
        case .loadPreview(let request):
            return previews.load(request, inbox: inbox).map { [$0] } ?? []
        case .prefetchPreview(let request):
            previews.prefetch(request)
            return []
        case .saveTheme(let name):
            guard let preferencesURL else { return [] }
            do {
                try UserPreferences(themeName: name).save(to: preferencesURL)
                return []
            } catch {
                return [.warning("Theme choice not saved to \(preferencesURL.path): \(error.localizedDescription)")]
            }
        case .repaintTerminal:
            repaintRequested = true
            return []
        case .checkOutsideChanges(let labelEdits):
            watcher?.check(labelEdits: labelEdits, inbox: inbox)
            return []
        case .quit:
            return []
        // Training: results from background work come through the inbox. Every case is
        // listed (no default), so a new effect does not build until it is handled here.
        case .estimateTraining(let request):
            guard let training else { return [.estimateFailed(request, Self.noTraining)] }
            let inbox = inbox
            training.estimate(request) { outcome in
                switch outcome {
                case .success(let estimate): inbox.post(.estimateReady(request, estimate))
                case .failure(let error): inbox.post(.estimateFailed(request, error.description))
                }
            }
            return []
        case .startTraining(let settings):
            guard let training else { return [.trainingNotStarted(Self.noTraining)] }
            let inbox = inbox
            do { try training.start(settings) { inbox.post(.training($0)) } }
            catch { return [.trainingNotStarted("\(error)")] }
            return []
        case .resumeRun(let runID):
            guard let training else { return [.trainingNotStarted(Self.noTraining)] }
            let inbox = inbox
            do { try training.resume(runID: runID) { inbox.post(.training($0)) } }
            catch { return [.trainingNotStarted("\(error)")] }
            return []
        case .pauseTraining:
            training?.pause()
            return []
        case .resumeTraining:
            training?.resume()
            return []
        case .stopTraining:
            training?.stop()
            return []
        case .loadRuns:
            guard let training else { return [] }
            var events: [AppEvent]
            do { events = [.runsLoaded(try training.runs())] }
            catch { return [.warning("The runs could not be read: \(error)")] }
            do { events.append(.learningCurveLoaded(try training.learningCurve())) }
            catch { events.append(.warning("\(error)")) }
            return events
        case .loadRunMetrics(let runID):
            guard let training else { return [] }
            do { return [.runMetricsLoaded(runID: runID, try training.metrics(runID: runID))] }
            catch { return [.warning("The metrics of run \(runID) could not be read: \(error)")] }
        case .predict(let clipID, let url):
            guard let training else { return [.predictionFailed(clipID: clipID, Self.noTraining)] }
            let inbox = inbox
            training.predict(clip: url) { outcome in
                switch outcome {
                case .success(let prediction): inbox.post(.predictionReady(clipID: clipID, prediction))
                case .failure(let error): inbox.post(.predictionFailed(clipID: clipID, error.description))
                }
            }
            return []
        case .describeRun(let runID, let name, let note):
            guard let training else { return [] }
            do {
                try training.describeRun(id: runID, name: name, note: note)
                return [.runsChanged("Run \(runID): name and note saved", modelMayHaveChanged: false)]
            } catch { return [.warning("Run \(runID)'s name and note not saved: \(error)")] }
        case .pinCheckpoint(let path):
            guard let training else { return [] }
            do {
                try training.pinCheckpoint(path)
                return [.runsChanged(path.map { "Pinned \($0) as the project's model" }
                                     ?? "Unpinned: the latest run's best checkpoint is the project's model", modelMayHaveChanged: true)]
            } catch { return [.warning("Not pinned: \(error)")] }
        case .deleteRun(let runID):
            guard let training else { return [] }
            do {
                try training.deleteRun(id: runID)
                return [.runsChanged("Run \(runID) deleted with its checkpoints", modelMayHaveChanged: true)]
            } catch { return [.warning("Run \(runID) not deleted: \(error)")] }
        case .loadSuggestions:
            guard let training else { return [] }
            do { return [.suggestionsLoaded(try training.suggestions())] }
            catch { return [.suggestionsFailed("\(error)")] }
        case .predictClips:
            guard let training else { return [] }
            let inbox = inbox
            do { try training.predictClips { inbox.post(.predictionJob($0)) } }
            catch { return [.suggestionsFailed("\(error)")] }
            return []
        case .stopPredicting:
            training?.stopPredicting()
            return []
        case .loadRunValidation(let runID):
            guard let training else { return [.runValidationFailed(runID: runID, Self.noTraining)] }
            let inbox = inbox
            training.validation(runID: runID) { outcome in
                switch outcome {
                case .success(let validation): inbox.post(.runValidationLoaded(validation))
                case .failure(let error): inbox.post(.runValidationFailed(runID: runID, error.description))
                }
            }
            return []
        }
    }

    /// Why a training effect did nothing in an app made without a training backend.
    private static let noTraining = "training is not available here"

    /// Runs the app in the terminal until the user quits. The terminal is restored
    /// before this returns or throws.
    public func runInTerminal() throws {
        let terminal = try TerminalScreen()
        defer { terminal.close() }
        QuitSignals.install()
        state.has256Colors = terminal.colorCount >= 256
        let clock = ContinuousClock()
        let start = clock.now
        func now() -> Double {
            let elapsed = clock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
        handle(.tick(now: now()))
        handle(.resize(width: terminal.width, height: terminal.height))
        terminal.draw(AppView.render(state), theme: state.theme)
        while !state.quitRequested {
            if QuitSignals.received != nil {
                handle(.quit)
                return
            }
            var redraw = false
            // Wait briefly for a key, then take every key already typed so a burst
            // (key repeat, pasted text) costs one redraw.
            var input = terminal.read(timeoutMilliseconds: 30)
            while let next = input {
                switch next {
                case .key(let key): redraw = handle(.key(key)) || redraw
                case .resize(let width, let height): redraw = handle(.resize(width: width, height: height)) || redraw
                }
                if state.quitRequested { return }
                input = terminal.read(timeoutMilliseconds: 0)
            }
            redraw = drainInbox() || redraw
            redraw = handle(.tick(now: now())) || redraw
            if repaintRequested {
                repaintRequested = false
                terminal.repaintAll()
                redraw = true
            }
            if redraw { terminal.draw(AppView.render(state), theme: state.theme) }
        }
    }
}
