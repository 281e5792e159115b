import ActionLabUI
import ArgumentParser
import Foundation

/// `actionlab bench --ui`: key press to committed label to redrawn screen.
struct UIBenchOptions: ParsableArguments {
    @Flag(name: .customLong("ui"),
          help: "Time labelling: key press, committed label, redrawn screen (median and 99th percentile).")
    var enabled = false

    @Option(name: .customLong("ui-clips"), help: "Clips in the benchmark project.")
    var clips = 10_000

    @Option(name: .customLong("ui-presses"), help: "Label key presses to time.")
    var presses = 1_000

    func validate() throws {
        guard clips >= 1 else { throw ValidationError("--ui-clips must be at least 1") }
        guard presses >= 1 else { throw ValidationError("--ui-presses must be at least 1") }
    }

    /// Runs the benchmark and prints one line per figure.
    func run() throws {
        let result = try LabelBenchmark.run(clips: clips, presses: min(presses, clips))
        func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
        print("ui: label key -> committed -> redrawn (100x30), \(result.clips) clips, \(result.presses) presses")
        print("ui: median \(ms(result.median)), p99 \(ms(result.p99)), worst \(ms(result.worst)) (target < 16 ms)")
    }
}
