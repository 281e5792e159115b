import Foundation
import Testing
import TestSupport

// A tiny training run started, watched and stopped from the real program in tmux.

private func quoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// A copy of sample-data with its labels imported, and a shell command in tmux, built
/// from the program's command line on that project, showing the scanned, labelled list.
private func openLabelledSample(_ command: (_ program: String) -> String) throws -> (SampleProjectCopy, TmuxSession) {
    let sample = try SampleProjectCopy()
    let imported = try ActionLabBinary.run(["labels", "import", sample.project.path,
                                            sample.project.appendingPathComponent("labels.csv").path])
    try #require(imported.status == 0, "labels import: \(imported.stderr)")
    let program = "\(quoted(ActionLabBinary.url.path)) \(quoted(sample.project.path))"
    let tmux = try TmuxSession(command: command(program), environment: ["XDG_CONFIG_HOME": sample.config.path])
    let count = sample.clipPaths.count
    try tmux.waitFor("the labelled, scanned list") { $0.contains("Labelled \(count)/\(count)") && !$0.contains("Scanning") }
    return (sample, tmux)
}

/// Starts the preset's run from the Train screen and waits until it trains.
private func startTinyRun(_ tmux: TmuxSession) throws {
    try tmux.sendKeys("F2")
    try tmux.waitFor(text: "ready: t starts a run")
    try tmux.sendKeys("t")
    try tmux.waitFor(text: "▶ training", timeout: 60)
}

/// The loss chart's plot rows (right of its y axis) on a captured Train screen.
private func lossPlot(_ screen: String) -> [String] {
    let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let top = lines.firstIndex(where: { $0.contains("┌ Loss") }) else { return [] }
    return lines[(top + 2)...].prefix { !$0.contains("└─") }.compactMap { line in
        guard let axis = line.lastIndex(where: { $0 == "┤" || $0 == "│" }), axis > line.startIndex,
              let start = line[..<axis].lastIndex(where: { $0 == "┤" || $0 == "│" }) else { return nil }
        return String(line[line.index(after: start)..<axis])
    }
}

@Suite(.serialized) struct TrainingUITests {
    @Test(.enabled(if: TmuxSession.isAvailable, "tmux is not installed: the terminal tests need it"))
    func aTinyRunStartsDrawsItsCurvesStopsWithACheckpointResumesAndPredicts() throws {
        // Enough epochs that the run is still going when s arrives.
        let (sample, tmux) = try openLabelledSample { "\($0) --preset tiny --epochs 2000; echo \"exit status $?\"; sleep 60" }
        try tmux.sendKeys("F2")
        let ready = try tmux.waitFor(text: "ready: t starts a run")
        #expect(ready.contains("Preset  tiny"))
        #expect(ready.contains("2000 epochs"))
        try tmux.waitFor("the estimate") { $0.contains("/epoch ·") }
        let empty = lossPlot(try tmux.screen())
        #expect(!empty.isEmpty && empty.allSatisfy { $0.allSatisfy { $0 == " " } }, "no curve before the run")

        try tmux.sendKeys("t")
        let moving = try tmux.waitFor("the loss curve", timeout: 60) { screen in
            lossPlot(screen).contains { $0.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) } }
        }
        #expect(moving.contains("Run 1"))
        // The chart keeps changing as batches finish.
        let first = lossPlot(moving)
        try tmux.waitFor("the chart to change", timeout: 60) { lossPlot($0) != first }
        try tmux.waitFor("a finished epoch", timeout: 60) { $0.contains("Validation, epoch") }

        try tmux.sendKeys("s")
        let stopped = try tmux.waitFor(text: "was stopped", timeout: 60)
        #expect(stopped.contains("Run 1 was stopped after"))
        let runFolder = sample.project.appendingPathComponent(".actionlab/runs/1")
        #expect(FileManager.default.fileExists(atPath: runFolder.appendingPathComponent("last.safetensors").path))
        #expect(FileManager.default.fileExists(atPath: runFolder.appendingPathComponent("metrics.csv").path))

        // The Runs screen lists it as stopped, with its curves.
        try tmux.sendKeys("F4")
        let runs = try tmux.waitFor(text: "Runs (1)")
        #expect(runs.contains("tiny 4x24x24x1 4/4/4 d16 b8"))
        #expect(runs.contains("stopped"))

        // r resumes it from its last checkpoint, on the Train screen.
        try tmux.sendKeys("r")
        try tmux.waitFor("the resumed run", timeout: 60) { $0.contains("Run 1 ") && $0.contains("▶ training") }
        try tmux.sendKeys("s")
        let resumed = try tmux.waitFor(text: "was stopped", timeout: 60)
        #expect(resumed.contains("Run 1 was stopped after"))

        // P on a clip: the best checkpoint's guess beside its label.
        try tmux.sendKeys("F1")
        try tmux.sendKeys("P")
        let predicted = try tmux.waitFor("a prediction", timeout: 30) { screen in
            screen.range(of: #"model: \w+ \d+%"#, options: .regularExpression) != nil
        }
        #expect(predicted.contains("Label: "))

        try tmux.sendKeys("q")
        let after = try tmux.waitFor(text: "exit status")
        #expect(after.contains("exit status 0"))
    }

    @Test(.enabled(if: TmuxSession.isAvailable, "tmux is not installed: the terminal tests need it"))
    func labellingGoesOnDuringARunAndQuittingSavesIt() throws {
        let (sample, tmux) = try openLabelledSample { "\($0) --preset tiny --epochs 2000; echo \"exit status $?\"; sleep 60" }
        let paths = sample.clipPaths
        try startTinyRun(tmux)

        // While it trains, a label is cleared on the Clips screen.
        try tmux.sendKeys("F1")
        try tmux.sendKeys("0")
        try tmux.waitFor(text: "Labelled \(paths.count - 1)/\(paths.count)")

        try tmux.sendKeys("q")
        let after = try tmux.waitFor(text: "exit status", timeout: 60)
        #expect(after.contains("Stopping the run in progress after its batch (Ctrl-C quits at once)"))
        #expect(after.contains("The run in progress was stopped; its last checkpoint is saved."))
        #expect(after.contains("exit status 0"))
        let last = sample.project.appendingPathComponent(".actionlab/runs/1/last.safetensors")
        #expect(FileManager.default.fileExists(atPath: last.path))
    }

    @Test(.enabled(if: TmuxSession.isAvailable, "tmux is not installed: the terminal tests need it"))
    func ctrlCDuringARunQuitsLikeQAndKillToo() throws {
        // The program twice: the run, then (after Enter) the project reopened.
        let (sample, tmux) = try openLabelledSample { program in
            "\(program) --preset tiny --epochs 2000; echo \"exit status $?\"; read line; "
                + "\(program); echo \"reopened exit status $?\"; sleep 60"
        }
        try startTinyRun(tmux)

        // Ctrl-C: the run stops after its batch with its checkpoint saved, as with q.
        try tmux.sendKeys("C-c")
        let after = try tmux.waitFor(text: "exit status", timeout: 60)
        #expect(after.contains("Stopping the run in progress after its batch (Ctrl-C again quits at once)"))
        #expect(after.contains("The run in progress was stopped; its last checkpoint is saved."))
        #expect(after.contains("exit status 130"))
        #expect(!after.contains("F1 Clips"), "the terminal is restored after Ctrl-C")
        let last = sample.project.appendingPathComponent(".actionlab/runs/1/last.safetensors")
        #expect(FileManager.default.fileExists(atPath: last.path))

        // Reopened, the run is recorded as stopped, not found interrupted.
        try tmux.sendKeys("Enter")
        try tmux.waitFor(text: "F1 Clips")
        try tmux.sendKeys("F4")
        let runs = try tmux.waitFor(text: "Runs (1)")
        #expect(runs.contains("stopped"))
        #expect(!runs.contains("interrupted"))

        // kill (SIGTERM) quits the same way, with its own status.
        let pid = try tmux.programPID()
        try #require(pid > 0)
        #expect(kill(pid, SIGTERM) == 0)
        let killed = try tmux.waitFor(text: "reopened exit status")
        #expect(killed.contains("reopened exit status 143"))
        #expect(!killed.contains("Runs (1)"), "the terminal is restored after kill")
    }
}
