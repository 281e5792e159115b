/// What a key (or a few keys doing one thing) does on a screen, and how the help
/// overlay, the hint line and README.md describe it. Each screen's keys are one table
/// of these (see `Keymap`): `update` looks the pressed key up there, the help overlay
/// lists the table and the hint line shows its hints, so adding a key is adding a row.
struct KeyBinding: Sendable {
    /// The keys that do it.
    let keys: [Key]
    /// How the help overlay writes the keys ("↑ ↓  j k"); README.md's tables name the same keys.
    let label: String
    /// What it does, for the help overlay.
    let help: String
    /// A line the help adds under `help` for this state (the class keys' names).
    let helpDetail: (@Sendable (AppState) -> String)?
    /// Its short form on the hint line, if it has one there.
    let hint: KeyHint?
    /// True when it works even while the help is open, a filter is being typed or the
    /// terminal is too small (a key that only repaints or quits).
    let worksInEveryMode: Bool
    /// Does it; the key is the one pressed, for rows of several keys.
    let perform: @Sendable (inout AppState, Key) -> UpdateResult

    init(_ keys: [Key], _ label: String? = nil, help: String,
         helpDetail: (@Sendable (AppState) -> String)? = nil, hint: KeyHint? = nil,
         worksInEveryMode: Bool = false, perform: @escaping @Sendable (inout AppState, Key) -> UpdateResult) {
        self.keys = keys
        self.label = label ?? keys.map(\.name).joined(separator: "  ")
        self.help = help
        self.helpDetail = helpDetail
        self.hint = hint
        self.worksInEveryMode = worksInEveryMode
        self.perform = perform
    }
}

/// A key's entry on the hint line: "space play".
struct KeyHint: Sendable {
    let keys: String
    /// The words after the keys in this state, or nil when the hint is not shown now.
    let text: @Sendable (AppState) -> String?

    init(_ keys: String, _ text: String) {
        self.keys = keys
        self.text = { _ in text }
    }

    init(_ keys: String, when text: @escaping @Sendable (AppState) -> String?) {
        self.keys = keys
        self.text = text
    }
}

/// The key tables: the keys that work on every screen, and each screen's own.
enum Keymap {
    /// The keys of `screen`, then those that work everywhere, in the order the help lists them.
    static func bindings(for screen: Screen) -> [KeyBinding] {
        switch screen {
        case .clips: clips
        case .train: train
        case .model: model
        case .runs: runs
        }
    }

    /// The row of `bindings` that `key` belongs to.
    static func binding(for key: Key, in bindings: [KeyBinding]) -> KeyBinding? {
        bindings.first { $0.keys.contains(key) }
    }

    static let everywhere: [KeyBinding] = [
        KeyBinding([.tab, .backTab], "Tab  Shift-Tab", help: "next / prev screen", hint: KeyHint("Tab", "screens")) { state, key in
            state.switchScreen(by: key == .tab ? 1 : -1)
        },
        KeyBinding(Screen.allCases.indices.map { .function($0 + 1) }, "F1-F\(Screen.allCases.count)",
                   help: Screen.allCases.map(\.rawValue).joined(separator: ", ")) { state, key in
            guard case .function(let n) = key else { return .unchanged }
            return state.switchScreen(to: n - 1)
        },
        KeyBinding([.character("T")], help: "next colour theme") { state, _ in state.cycleTheme() },
        KeyBinding([.character("?")], help: "this help", hint: KeyHint("?", "help")) { state, _ in
            state.showingHelp = true
            return .redraw
        },
        KeyBinding([.control("l")], help: "redraw the screen", worksInEveryMode: true) { _, _ in
            UpdateResult(effects: [.repaintTerminal])
        },
        KeyBinding([.character("q")], help: "quit, saving all", hint: KeyHint("q", "quit")) { state, _ in
            state.quit()
        },
        // ncurses turns Ctrl-C into SIGINT, which quits the same way (see QuitSignals);
        // a terminal that delivers it as a key gets the same.
        KeyBinding([.control("c")], help: "q; twice: at once", worksInEveryMode: true) { state, _ in
            state.quit()
        },
    ]

    static let clips: [KeyBinding] = [
        KeyBinding([.up, .down, .character("j"), .character("k")], "↑ ↓  j k", help: "previous/next clip",
                   hint: KeyHint("↑↓", "move")) { state, key in
            state.moveSelection(to: state.clips.selection + (key == .up || key == .character("k") ? -1 : 1))
        },
        KeyBinding([.pageUp, .pageDown], "PgUp PgDn", help: "one page up / down") { state, key in
            let page = state.layout.listRows
            return state.moveSelection(to: state.clips.selection + (key == .pageUp ? -page : page))
        },
        KeyBinding([.home, .end, .character("g"), .character("G")], "Home End  g G", help: "first / last clip") { state, key in
            state.moveSelection(to: key == .home || key == .character("g") ? 0 : state.clips.visible.count - 1)
        },
        KeyBinding((1...9).map { .character(Character(String($0))) }, "1-9", help: "label, go to next",
                   helpDetail: { state in state.classes.map { "\($0.key) \($0.name)" }.joined(separator: ", ") }) { state, key in
            guard case .character(let c) = key, let index = state.classes.firstIndex(where: { $0.key == c }) else {
                return .unchanged
            }
            return state.label(index)
        },
        KeyBinding([.enter], help: "accept the model's suggestion",
                   hint: KeyHint("Enter", when: { state in
                       guard let clip = state.clips.selectedClip, clip.label == nil,
                             let prediction = state.clips.suggestions.byClip[clip.id], !prediction.isStale else { return nil }
                       return "accept"
                   })) { state, _ in
            state.acceptSuggestion()
        },
        KeyBinding([.character("0"), .backspace, .delete], "0  Bksp  Del", help: "clear the label") { state, _ in
            state.clearLabel()
        },
        KeyBinding([.character("u")], help: "undo (again: more)") { _, _ in
            UpdateResult(effects: [.undoLastLabel])
        },
        KeyBinding([.character("n")], help: "next unlabelled") { state, _ in state.selectNextUnlabelled() },
        KeyBinding([.character(" ")], help: "play / pause", hint: KeyHint("space", "play")) { state, _ in
            state.togglePlayback()
        },
        KeyBinding([.character("+"), .character("="), .character("-"), .character("_")], "+ =  - _",
                   help: "faster / slower", hint: KeyHint("+-", "speed")) { state, key in
            state.changeSpeed(by: key == .character("+") || key == .character("=") ? 1 : -1)
        },
        KeyBinding([.character(","), .character(".")], ",  .", help: "frame back/forward",
                   hint: KeyHint(",.", "step")) { state, key in
            state.stepFrame(by: key == .character(",") ? -1 : 1)
        },
        KeyBinding([.character("/")], help: "filter by name", hint: KeyHint("/", "filter")) { state, _ in
            state.startFilter()
        },
        KeyBinding([.character("f")], help: "only unlabelled / a label") { state, _ in
            state.cycleLabelFilter()
        },
        KeyBinding([.character("F")], help: "only a predicted class") { state, _ in
            state.cyclePredictedFilter()
        },
        KeyBinding([.character("o")], help: "next order of the list",
                   hint: KeyHint("o", when: { $0.clips.suggestions.byClip.isEmpty ? nil : "order" })) { state, _ in
            state.cycleOrder()
        },
        KeyBinding([.escape], help: "clear the filters") { state, _ in
            state.clearFilters()
        },
        KeyBinding([.character("P")], help: "model's prediction", hint: KeyHint("P", "predict")) { state, _ in
            state.predictSelectedClip()
        },
        KeyBinding([.character("M")], help: "preview frames / motion", hint: KeyHint("M", "motion")) { state, _ in
            state.toggleMotionPreview()
        },
    ]

    static let train: [KeyBinding] = [
        KeyBinding([.character("t")], help: "start a run of the preset",
                   hint: KeyHint("t", when: { $0.training.phase.isActive ? nil : "start" })) { state, _ in
            state.startTraining()
        },
        KeyBinding([.character("c")], help: "next preset (before a run)",
                   hint: KeyHint("c", when: { $0.training.phase.isActive ? nil : "preset" })) { state, _ in
            state.cycleTrainingChoice()
        },
        KeyBinding([.character("a")], help: "augmentation off / on") { state, _ in
            state.toggleAugmentation()
        },
        KeyBinding([.character("R")], help: "reset the preset's values",
                   hint: KeyHint("R", when: { state in
                       !state.training.phase.isActive && state.training.run == nil && state.training.choice.isEdited
                           ? "reset" : nil
                   })) { state, _ in
            state.resetTrainingChoice()
        },
        KeyBinding([.character("e"), .character("E")], "e  E", help: "fewer / more epochs",
                   hint: KeyHint("e E", when: { $0.training.phase.isActive ? nil : "epochs" })) { state, key in
            let direction = key == .character("E") ? 1 : -1
            return state.customize("epochs") { $0.epochs = AppState.step($0.epochs, in: AppState.epochLadder, by: direction) }
        },
        KeyBinding([.character("l"), .character("L")], "l  L", help: "halve / double learning rate",
                   hint: KeyHint("l L", when: { $0.training.phase.isActive ? nil : "learning rate" })) { state, key in
            key == .character("L")
                ? state.customize("learning rate") { $0.learningRate = min(1, $0.learningRate * 2) }
                : state.customize("learning rate") { $0.learningRate = max(1e-6, $0.learningRate / 2) }
        },
        KeyBinding([.character("b")], help: "products in bf16 / fp32") { state, _ in
            state.togglePrecision()
        },
        KeyBinding([.character("p")], help: "pause / resume",
                   hint: KeyHint("p", when: { state in
                       state.training.phase.isActive ? (state.training.phase == .paused ? "resume" : "pause") : nil
                   })) { state, _ in
            state.togglePause()
        },
        KeyBinding([.character("s")], help: "stop, save a checkpoint",
                   hint: KeyHint("s", when: { $0.training.phase.isActive ? "stop and save" : nil })) { state, _ in
            state.stopTraining()
        },
    ] + confusionKeys(arrows: [.up, .down, .left, .right], "↑ ↓ ← →") { state, key in state.moveConfusionCell(key) }

    /// x, the arrows and Enter: a confusion matrix cell and its clips (Train and Runs).
    /// `arrows` are the keys that move the cell; `move` does it.
    static func confusionKeys(arrows: [Key], _ label: String,
                              move: @escaping @Sendable (inout AppState, Key) -> UpdateResult) -> [KeyBinding] {
        [
            KeyBinding([.character("x"), .escape], "x  Esc", help: "select a confusion cell / stop",
                       hint: KeyHint("x", when: { state in
                           state.confusionCell != nil ? "done" : state.hasConfusionMatrix ? "confusion cell" : nil
                       })) { state, key in
                state.toggleConfusionSelection(key)
            },
            KeyBinding(arrows, label, help: "move the selected cell",
                       hint: KeyHint("←→↑↓", when: { $0.confusionCell == nil ? nil : "cell" }), perform: move),
            KeyBinding([.enter], help: "the cell's validation clips",
                       hint: KeyHint("Enter", when: { $0.confusionCell == nil ? nil : "its clips" })) { state, _ in
                state.openConfusionCell()
            },
        ]
    }

    static let model: [KeyBinding] = [
        KeyBinding([.character("v")], help: "summary or layer statistics",
                   hint: KeyHint("v", when: { state in
                       ModelView.statisticsFitBesideTable(state) ? nil
                           : state.modelShowsStatistics ? "summary" : "layer statistics"
                   })) { state, _ in
            state.modelShowsStatistics.toggle()
            return .redraw
        },
    ]

    static let runs: [KeyBinding] = [
        KeyBinding([.up, .down, .character("j"), .character("k")], "↑ ↓  j k", help: "select a run (or a cell)",
                   hint: KeyHint("↑↓", when: { $0.runs.confusionCell == nil ? "select" : nil })) { state, key in
            if state.runs.confusionCell != nil { return state.moveConfusionCell(key) }
            return state.moveRunSelection(to: state.runs.selection + (key == .up || key == .character("k") ? -1 : 1))
        },
        KeyBinding([.home, .end, .character("g"), .character("G")], "Home End  g G", help: "first / last run") { state, key in
            state.moveRunSelection(to: key == .home || key == .character("g") ? 0 : state.runs.rows.count - 1)
        },
        KeyBinding([.character("m")], help: "mark it: overlay its curves", hint: KeyHint("m", "mark to compare")) { state, _ in
            state.toggleRunMark()
        },
        KeyBinding([.character("r")], help: "resume from its checkpoint", hint: KeyHint("r", "resume")) { state, _ in
            state.resumeSelectedRun()
        },
        KeyBinding([.character("n"), .character("N")], "n  N", help: "name / note the run") { state, key in
            state.editRunText(key == .character("n") ? .name : .note)
        },
        KeyBinding([.character("p")], help: "pin as the project's model",
                   hint: KeyHint("p", when: { $0.runs.selectedRow?.isPinned == true ? "unpin" : "pin" })) { state, _ in
            state.togglePin()
        },
        KeyBinding([.character("D")], help: "delete the run (asks first)") { state, _ in
            state.askToDeleteRun()
        },
    ] + confusionKeys(arrows: [.left, .right], "← →") { state, key in state.moveConfusionCell(key) }
}

extension Key {
    /// How the help and README.md write the key: "↑", "PgUp", "space", "Ctrl-L", "F2", "j".
    var name: String {
        switch self {
        case .character(" "): "space"
        case .character(let c): String(c)
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .backspace: "Backspace"
        case .delete: "Del"
        case .enter: "Enter"
        case .escape: "Esc"
        case .tab: "Tab"
        case .backTab: "Shift-Tab"
        case .function(let n): "F\(n)"
        case .control(let c): "Ctrl-" + c.uppercased()
        }
    }
}
