import ActionStore
import Foundation
import Training

/// Opens a project folder in the terminal UI: the entry point of `actionlab [DIR]`.
public enum ActionLabApp {
    /// Opens (creating if needed) the project in `folder`, starts scanning it in the
    /// background and runs the UI until the user quits. Errors before the screen is
    /// taken over are thrown as they are; the terminal is restored before any error
    /// after that is thrown.
    /// `preset` names the training choice the Train screen starts on (quick, seed, tiny,
    /// project); `epochs` replaces every choice's number of epochs.
    /// Ctrl-C (SIGINT) and kill (SIGTERM) quit as q does, then exit the process with
    /// status 130 or 143.
    public static func run(projectFolder folder: URL, preset: String? = nil, epochs: Int? = nil,
                           environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try openAndRun(projectFolder: folder, preset: preset, epochs: epochs, environment: environment)
        // Ctrl-C or kill ended the program as q does; its exit status still says so. The
        // project is saved and closed by now; `_exit` skips the C library's exit handlers,
        // whose OpenBLAS teardown can wait forever (or crash) when an estimate or prediction
        // that outlived `backgroundWorkTimeout` is still multiplying on another thread.
        if let signal = QuitSignals.received {
            fflush(nil)
            _exit(128 + signal)
        }
    }

    private static func openAndRun(projectFolder folder: URL, preset: String?, epochs: Int?,
                                   environment: [String: String]) throws {
        // Before anything is written to the project folder.
        try TerminalScreen.requireInteractive()
        let layout = ProjectLayout(root: folder)
        let store = try ProjectStore.open(layout)
        var scan: ScanTask?
        var training: ProjectTraining?
        // Before the clips are read: every change after that reading is reported.
        let watcher = ProjectWatcher(store: store)
        // Every way out, thrown errors included, once the terminal is given back.
        defer { shutDown(store: store, scan: scan, training: training, watcher: watcher) }
        let library = ThemeLibrary.standard(environment: environment)
        var problems = library.problems
        let preferencesURL = UserPreferences.fileURL(environment: environment)
        var preferences = UserPreferences()
        do {
            preferences = try UserPreferences.load(from: preferencesURL)
        } catch {
            problems.append(error.description)
        }
        if let name = preferences.themeName, !library.themes.contains(where: { $0.name == name }) {
            problems.append("\(preferencesURL.path): no theme called \"\(name)\"; using \(ThemeLibrary.defaultName)")
        }

        let name = layout.root.lastPathComponent
        var state = AppState(projectName: name.isEmpty ? layout.root.path : name, classes: store.classes,
                             themes: library.themes, themeIndex: library.index(of: preferences.themeName))
        state.machineMemoryBytes = MachineMemory.physicalBytes()
        let config = try? ProjectConfig.load(layout)
        var choices = TrainingChoice.standard(classes: store.classes.count, projectSampling: config?.sampling, epochs: epochs)
        if let recipe = config?.training {
            // The project's [training] choices hold for every preset.
            do {
                choices = try choices.map { choice throws(TrainingError) in
                    TrainingChoice(name: choice.name, settings: try choice.settings.applying(recipe, file: layout.configURL.path))
                }
            } catch {
                problems.append(error.description)
            }
        }
        var choiceIndex = 0
        if let preset {
            guard let index = choices.firstIndex(where: { $0.name == preset }) else {
                throw LaunchError("no training preset called \"\(preset)\" (choose from "
                                  + choices.map(\.name).joined(separator: ", ") + ")")
            }
            choiceIndex = index
        }
        state.training = TrainingState(classNames: store.classes.map(\.name), choices: choices, choiceIndex: choiceIndex)
        let projectTraining = ProjectTraining(store: store)
        training = projectTraining
        let core = AppCore(state: state, store: ProjectLabelStore(store), decoder: ClipPreviews(),
                           preferencesURL: preferencesURL, training: projectTraining, watcher: watcher)
        core.handle(.clipsChanged(try store.clips().map { ClipRow($0, layout: layout) }))
        // The stored predictions show at once; the scan's end starts predicting what is missing.
        do { core.handle(.suggestionsLoaded(try projectTraining.suggestions())) }
        catch { problems.append("The model's predictions could not be read: \(error)") }
        if !problems.isEmpty {
            core.handle(.warning(problems.count == 1 ? problems[0]
                                 : "\(problems.count) problems; first: \(problems[0])"))
        }

        scan = startScan(store: store, layout: layout, inbox: core.inbox)
        try core.runInTerminal()
    }

    /// How long quitting waits for an estimate or a prediction in progress: a measurement
    /// takes a second or two, a prediction of a long clip longer.
    static let backgroundWorkTimeout: Double = 15

    /// How long quitting waits for the project scan to finish the file it is probing.
    static let scanStopTimeout: Double = 2

    /// After the UI: stops the run in progress after its batch with its checkpoint saved,
    /// stops the scan, and closes the database once nothing else can write to it. A scan
    /// still busy after `scanTimeout` seconds (a probe stuck on a bad file) keeps the
    /// database open rather than have it write to a closed one; the program is ending,
    /// and SQLite keeps what was committed. An estimate or prediction in progress is
    /// waited for up to `backgroundWorkTimeout` seconds. Returns true if the database was closed.
    @discardableResult
    static func shutDown(store: ProjectStore, scan: ScanTask?, training: ProjectTraining?,
                         watcher: ProjectWatcher? = nil, scanTimeout: Double = scanStopTimeout,
                         backgroundWorkTimeout: Double = ActionLabApp.backgroundWorkTimeout) -> Bool {
        QuitSignals.beginShutdown()
        scan?.cancel()
        watcher?.stop()
        if let training, training.isRunning {
            let now = QuitSignals.received == nil ? "Ctrl-C" : QuitSignals.received == SIGTERM ? "kill again" : "Ctrl-C again"
            FileHandle.standardError.write(Data("Stopping the run in progress after its batch (\(now) quits at once)…\n".utf8))
            if training.stopAndWait() {
                FileHandle.standardError.write(Data("The run in progress was stopped; its last checkpoint is saved.\n".utf8))
            }
        }
        _ = training?.finishBackgroundWork(seconds: backgroundWorkTimeout)
        if let scan, !waitForScan(scan, seconds: scanTimeout) { return false }
        try? store.close()
        return true
    }

    /// Waits up to `seconds` for `scan` to end; true if it did.
    static func waitForScan(_ scan: ScanTask, seconds: Double) -> Bool {
        let ended = DispatchSemaphore(value: 0)
        DispatchQueue.global(qos: .userInitiated).async {
            _ = try? scan.wait()
            ended.signal()
        }
        return ended.wait(timeout: .now() + seconds) == .success
    }

    public struct LaunchError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Scans the folder on a background queue, posting what it finds to `inbox`.
    static func startScan(store: ProjectStore, layout: ProjectLayout, inbox: EventInbox) -> ScanTask {
        inbox.post(.scanProgress(ScanStatus(scanned: 0, total: nil, isFinished: false)))
        return ProjectScanner(store: store).start { event in
            switch event {
            case .walked(let progress):
                inbox.post(.scanProgress(ScanStatus(scanned: progress.probed, total: progress.toProbe, isFinished: false)))
            case .missingChanged:
                // Rare (files deleted or restored): reload the list rather than patch it.
                if let records = try? store.clips() {
                    inbox.post(.clipsChanged(records.map { ClipRow($0, layout: layout) }))
                }
            case .recorded(let records, let progress):
                inbox.post(.clipsChanged(records.map { ClipRow($0, layout: layout) }))
                inbox.post(.scanProgress(ScanStatus(scanned: progress.probed, total: progress.toProbe, isFinished: false)))
            case .finished(let summary):
                inbox.post(.scanProgress(ScanStatus(scanned: summary.probed, total: summary.probed, isFinished: true)))
            case .failed(let message):
                inbox.post(.scanProgress(ScanStatus(scanned: 0, total: nil, isFinished: true)))
                inbox.post(.warning("Scan stopped: \(message)"))
            }
        }
    }
}
