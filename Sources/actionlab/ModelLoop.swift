import ActionNet
import ActionStore
import Foundation
import Training

/// The model a command uses: `--checkpoint` when given, else the project's current model.
func chooseModel(_ store: ProjectStore, checkpoint: String?) throws -> ProjectModel {
    if let checkpoint {
        let url = URL(fileURLWithPath: checkpoint)
        guard let model = try store.model(checkpoint: url) else {
            throw Train.Failure(description: "\(url.path): no such checkpoint file")
        }
        return model
    }
    guard let model = try store.currentModel() else {
        throw Train.Failure(description: "\(store.layout.root.path): no trained model yet: train one "
                            + "(actionlab train DIR) or give --checkpoint")
    }
    return model
}

/// JSON as the commands print it: sorted keys, slashes as they are.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Calls `stop` at the first Ctrl-C (after saying so); a second one quits at once.
/// Cancel the returned source when the work is done.
func onInterrupt(_ progress: StepProgress, _ message: String, stop: @escaping @Sendable () -> Void) -> any DispatchSourceSignal {
    signal(SIGINT, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "ActionLab.interrupt"))
    nonisolated(unsafe) var interrupted = false
    source.setEventHandler {
        if interrupted { Foundation.exit(130) }
        interrupted = true
        progress.line(message + " (Ctrl-C again to quit at once)")
        stop()
    }
    source.resume()
    return source
}

/// Progress on standard error: a redrawn bar on a terminal, a few plain lines otherwise.
final class StepProgress: @unchecked Sendable {
    // Called from worker threads and the interrupt handler: `lock` guards the fields.
    private let lock = NSLock()
    let interactive: Bool
    private var barShown = false
    private var lastDraw = 0.0

    init(interactive: Bool = isatty(STDERR_FILENO) == 1) { self.interactive = interactive }

    func line(_ text: String) {
        lock.withLock {
            FileHandle.standardError.write(Data(((barShown ? "\r\u{1B}[2K" : "") + text + "\n").utf8))
            barShown = false
        }
    }

    /// Redraws the bar (at most ten times a second, and always when done); nothing off a terminal.
    func bar(_ label: String, done: Int, total: Int, tail: String = "") {
        guard interactive else { return }
        lock.withLock {
            let now = Date().timeIntervalSince1970
            guard done >= total || now - lastDraw > 0.1 else { return }
            lastDraw = now
            let width = 24, filled = total > 0 ? width * min(done, total) / total : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(label) [\(bar)] \(done)/\(total) \(tail)".utf8))
            barShown = true
        }
    }

    /// Clears the bar.
    func clear() {
        lock.withLock {
            if barShown { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
            barShown = false
        }
    }

    /// Shows the training of one of several models (`step` of `steps`, named `what`).
    func training(_ event: TrainingEvent, _ what: String) {
        switch event {
        case .loading(let p):
            bar("\(what): preparing", done: p.done, total: p.total)
        case .batch(let b):
            bar("\(what) epoch \(b.epoch)/\(b.epochs)", done: b.batch, total: b.batches,
                tail: String(format: "loss %.4f | ETA %@", b.meanLoss, Formatting.duration(b.etaSeconds)))
        case .validation(let v):
            bar("\(what) validating", done: v.batch, total: v.batches)
        case .finished(let s):
            var text = "\(what): \(s.epochsCompleted) epochs in \(Formatting.duration(s.seconds))"
            if let best = s.bestValidationAccuracy { text += String(format: ", best val_accuracy %.4f", best) }
            line(text)
        default:
            break
        }
    }
}

/// Loads the labelled clips of `store` at the sampling of `settings`, with a progress bar.
func loadLabelledClips(_ store: ProjectStore, settings: TrainingSettings, progress: StepProgress) throws -> SampleSet {
    let loaded = try ProjectDataset.load(store: store, sampling: settings.sampling, loader: ProjectDataset.cached(store.layout),
                                         progress: { done, total in progress.bar("loading clips", done: done, total: total) })
    progress.clear()
    for skipped in loaded.skipped.prefix(10) { progress.line("skipped \(skipped.path): \(skipped.reason)") }
    if loaded.skipped.count > 10 { progress.line("... and \(loaded.skipped.count - 10) more skipped") }
    guard loaded.set.count > 0 else {
        throw Train.Failure(description: "\(store.layout.root.path): no labelled, readable clips "
                            + "(label clips in the app or with `actionlab labels import`)")
    }
    return loaded.set
}

/// A line chart of `points` (x, y in 0...1) in braille dots: each character holds 2 x 4
/// dots, so `width` x `height` characters plot (2 width) x (4 height) dots. Rows from the
/// top, with the y axis (percent) on the left and x from `xLabels` below.
func brailleChart(_ points: [(x: Double, y: Double)], width: Int = 40, height: Int = 8,
                  xRange: ClosedRange<Double>, yRange: ClosedRange<Double> = 0...1) -> [String] {
    let dotsWide = width * 2, dotsHigh = height * 4
    var cells = [UInt32](repeating: 0, count: width * height)
    // Bits of the dots in a braille cell, by (column, row) of the 2 x 4 dots.
    let bits: [[UInt32]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
    func dot(_ p: (x: Double, y: Double)) -> (Int, Int) {
        // A NaN would trap in the conversion to Int: it is drawn at the bottom left.
        let xs = p.x.isNaN ? 0 : (p.x - xRange.lowerBound) / max(xRange.upperBound - xRange.lowerBound, 1e-9)
        let ys = p.y.isNaN ? 0 : (p.y - yRange.lowerBound) / max(yRange.upperBound - yRange.lowerBound, 1e-9)
        let x = Int((min(max(xs, 0), 1) * Double(dotsWide - 1)).rounded())
        let y = Int(((1 - min(max(ys, 0), 1)) * Double(dotsHigh - 1)).rounded())
        return (x, y)
    }
    func set(_ x: Int, _ y: Int) { cells[(y / 4) * width + x / 2] |= bits[x % 2][y % 4] }
    let dots = points.map(dot)
    for (a, b) in zip(dots, dots.dropFirst()) {
        let steps = max(abs(b.0 - a.0), abs(b.1 - a.1), 1)
        for s in 0...steps {
            set(a.0 + (b.0 - a.0) * s / steps, a.1 + (b.1 - a.1) * s / steps)
        }
    }
    if dots.count == 1 { set(dots[0].0, dots[0].1) }
    return (0..<height).map { row in
        let label: String
        if row == 0 { label = String(format: "%3.0f%%", yRange.upperBound * 100) }
        else if row == height - 1 { label = String(format: "%3.0f%%", yRange.lowerBound * 100) }
        else { label = "    " }
        let characters = (0..<width).map { column in
            Character(Unicode.Scalar(0x2800 + cells[row * width + column]) ?? " ")
        }
        return label + " ┤" + String(characters)
    }
}
