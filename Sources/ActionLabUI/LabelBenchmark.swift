import ActionStore
import Foundation

/// Measures what a user feels when labelling: from a class key press, through the
/// label's commit to the project database, to the redrawn screen (the views drawn
/// into a cell grid and the ncurses driver writing the changed cells for an
/// xterm-256color terminal, whose output goes to /dev/null), on a project of many clips.
public enum LabelBenchmark {
    public struct Result: Sendable {
        public var clips: Int
        public var presses: Int
        /// Milliseconds per key press, sorted.
        public var milliseconds: [Double]

        public var median: Double { percentile(50) }
        public var p99: Double { percentile(99) }
        public var worst: Double { milliseconds.last ?? 0 }

        /// The `p`th percentile (nearest rank) of the sorted times.
        public func percentile(_ p: Double) -> Double {
            guard !milliseconds.isEmpty else { return 0 }
            let rank = Int((p / 100 * Double(milliseconds.count)).rounded(.up))
            return milliseconds[max(0, min(milliseconds.count - 1, rank - 1))]
        }
    }

    /// Builds a project of `clips` clips in a temporary folder (database only: the
    /// clips are recorded as probed 96x96 videos), then presses class keys `presses`
    /// times at 100x30 with a preview playing, timing each press until the screen is
    /// redrawn. The folder is removed afterwards.
    public static func run(clips clipCount: Int, presses: Int, width: Int = 100, height: Int = 30) throws -> Result {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("actionlab-bench-ui-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }

        let layout = ProjectLayout(root: root)
        let store = try ProjectStore.open(layout, config: ProjectConfig(), user: "bench")
        let probe = ClipProbe(codec: "h264", width: 96, height: 96, fps: 25, duration: 1.92,
                              frameCount: 48, frameCountIsExact: true)
        let stamp = FileStamp(size: 100_000, modified: Date())
        let scanned = (0..<clipCount).map { i in
            ScannedClip(path: String(format: "class_%d/clip_%05d.mp4", i % 5, i), stamp: stamp, outcome: .readable(probe))
        }
        try store.record(scanned)

        let library = ThemeLibrary.builtIn
        let state = AppState(projectName: root.lastPathComponent, classes: store.classes, themes: library.themes,
                             width: width, height: height)
        let core = AppCore(state: state, store: ProjectLabelStore(store), decoder: SyntheticPreviews(),
                           preferencesURL: nil)
        core.handle(.clipsChanged(try store.clips().map { ClipRow($0, layout: layout) }))
        let terminal = try TerminalScreen.offscreen(width: width, height: height)
        defer { terminal.close() }
        terminal.draw(AppView.render(core.state), theme: core.state.theme)

        let clock = ContinuousClock()
        var times: [Double] = []
        times.reserveCapacity(presses)
        for press in 0..<presses {
            // Let the previous clip's preview arrive, as it would between key presses.
            waitForPreview(core)
            let key = store.classes[press % store.classes.count].key
            let start = clock.now
            let changed = core.handle(.key(.character(key)))
            if changed { terminal.draw(AppView.render(core.state), theme: core.state.theme) }
            let elapsed = clock.now - start
            times.append(Double(elapsed.components.attoseconds) * 1e-15 + Double(elapsed.components.seconds) * 1e3)
            precondition(changed, "a label key must change the screen")
        }
        try store.close()
        return Result(clips: clipCount, presses: presses, milliseconds: times.sorted())
    }

    private static func waitForPreview(_ core: AppCore) {
        for _ in 0..<1000 {
            _ = core.drainInbox()
            if case .loading = core.state.clips.preview { Thread.sleep(forTimeInterval: 0.0005) } else { return }
        }
    }
}

/// Stands in for video decoding in the benchmark (no clip files exist): 48 gray
/// gradient frames of the requested size, so the preview pane is drawn as it is
/// for a real clip.
private struct SyntheticPreviews: PreviewDecoder {
    func previewFrames(of url: URL, width: Int, height: Int) throws -> [PreviewImage] {
        (0..<48).map { f in
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0..<height {
                for x in 0..<width {
                    let value = UInt8(truncatingIfNeeded: (x * 5 + y * 3 + f * 7))
                    let i = (y * width + x) * 3
                    rgb[i] = value
                    rgb[i + 1] = value
                    rgb[i + 2] = value
                }
            }
            return PreviewImage(width: width, height: height, rgb: rgb, timestamp: Double(f) / 25)
        }
    }
}
