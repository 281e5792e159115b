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
        try tmux.waitFor(all: ["ready: t starts a run", "Preset  tiny", "2000 epochs"])
        let estimated = try tmux.waitFor("the estimate and the empty loss chart") {
            $0.contains("/epoch ·") && !lossPlot($0).isEmpty
        }
        #expect(lossPlot(estimated).allSatisfy { $0.allSatisfy { $0 == " " } }, "no curve before the run")

        try tmux.sendKeys("t")
        let moving = try tmux.waitFor("run 1's loss curve", timeout: 60) { screen in
            screen.contains("Run 1")
                && lossPlot(screen).contains { $0.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) } }
        }
        // The chart keeps changing as batches finish.
        let first = lossPlot(moving)
        try tmux.waitFor("the chart to change", timeout: 60) { lossPlot($0) != first }
        try tmux.waitFor("a finished epoch", timeout: 60) { $0.contains("Validation, epoch") }

        try tmux.sendKeys("s")
        try tmux.waitFor(text: "Run 1 was stopped after", timeout: 60)
        let runFolder = sample.project.appendingPathComponent(".actionlab/runs/1")
        #expect(FileManager.default.fileExists(atPath: runFolder.appendingPathComponent("last.safetensors").path))
        #expect(FileManager.default.fileExists(atPath: runFolder.appendingPathComponent("metrics.csv").path))

        // The Runs screen lists it as stopped, with its curves.
        try tmux.sendKeys("F4")
        try tmux.waitFor(all: ["Runs (1)", "tiny 4x24x24x1 4/4/4 d16 b8", "stopped"])

        // r resumes it from its last checkpoint, on the Train screen.
        try tmux.sendKeys("r")
        try tmux.waitFor("the resumed run", timeout: 60) { $0.contains("Run 1 ") && $0.contains("▶ training") }
        try tmux.sendKeys("s")
        try tmux.waitFor(text: "Run 1 was stopped after", timeout: 60)

        // P on a clip: the project's model (run 1) names its guess beside the label.
        try tmux.sendKeys("F1")
        try tmux.sendKeys("P")
        try tmux.waitFor("run 1's prediction beside the label", timeout: 60) { screen in
            screen.range(of: #"Label: \w+ +run 1: \w+ \d+%"#, options: .regularExpression) != nil
        }

        try tmux.sendKeys("q")
        try tmux.waitFor(text: "exit status 0")
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
        try tmux.waitFor(all: ["Stopping the run in progress after its batch (Ctrl-C quits at once)",
                               "The run in progress was stopped; its last checkpoint is saved.", "exit status 0"])
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
        // The terminal is restored after Ctrl-C.
        try tmux.waitFor(all: ["Stopping the run in progress after its batch (Ctrl-C again quits at once)",
                               "The run in progress was stopped; its last checkpoint is saved.", "exit status 130"],
                         none: ["F1 Clips"])
        let last = sample.project.appendingPathComponent(".actionlab/runs/1/last.safetensors")
        #expect(FileManager.default.fileExists(atPath: last.path))

        // Reopened, the run is recorded as stopped, not found interrupted.
        try tmux.sendKeys("Enter")
        try tmux.waitFor(text: "F1 Clips")
        try tmux.sendKeys("F4")
        try tmux.waitFor(all: ["Runs (1)", "stopped"], none: ["interrupted"])

        // kill (SIGTERM) quits the same way, with its own status.
        let pid = try tmux.programPID()
        try #require(pid > 0)
        #expect(kill(pid, SIGTERM) == 0)
        // The terminal is restored after kill.
        try tmux.waitFor(all: ["reopened exit status 143"], none: ["Runs (1)"])
    }
}
