import Foundation
import Testing
import TestSupport

// The real `actionlab` program in a real terminal: tmux at 100x30, driven with
// send-keys and read with capture-pane, on a temporary copy of sample-data.

/// A tmux server of its own (a unique socket), killed when the test ends.
final class TmuxSession {
    static let executable = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static var isAvailable: Bool { executable != nil }

    let socket = "actionlab-test-\(UUID().uuidString.prefix(8))"

    /// Starts `command` (run by the shell) in a detached 100x30 session.
    init(command: String, environment: [String: String]) throws {
        var arguments = ["new-session", "-d", "-x", "100", "-y", "30"]
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) { arguments += ["-e", "\(name)=\(value)"] }
        try tmux(arguments + [command], readOutput: false)
    }

    /// Runs tmux with `arguments` and returns what it printed.
    ///
    /// Spawned with posix_spawn rather than Process so the child starts with no
    /// blocked signals and default handlers: test runner threads block signals, and
    /// the tmux server (and the program in its pane) would inherit that mask, so
    /// Ctrl-C and child exits would never arrive. The first command starts the
    /// server, which keeps its stdout open, so that one's output is not read.
    @discardableResult
    func tmux(_ arguments: [String], readOutput: Bool = true) throws -> String {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pipe: [Int32] = [-1, -1]
        if readOutput {
            guard Glibc.pipe(&pipe) == 0 else { throw SpawnFailed(reason: "pipe: errno \(errno)") }
            posix_spawn_file_actions_adddup2(&actions, pipe[1], STDOUT_FILENO)
            posix_spawn_file_actions_addclose(&actions, pipe[0])
            posix_spawn_file_actions_addclose(&actions, pipe[1])
        } else {
            posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([Self.executable!, "-L", socket, "-f", "/dev/null"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, Self.executable!, &actions, &attributes, argv, environ)
        if readOutput { close(pipe[1]) }
        guard status == 0 else {
            if readOutput { close(pipe[0]) }
            throw SpawnFailed(reason: "posix_spawn \(Self.executable!): error \(status)")
        }
        var output = Data()
        if readOutput {
            let reader = FileHandle(fileDescriptor: pipe[0], closeOnDealloc: true)
            output = reader.readDataToEndOfFile()
        }
        var exitStatus: Int32 = 0
        waitpid(pid, &exitStatus, 0)
        return String(decoding: output, as: UTF8.self)
    }

    struct SpawnFailed: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    func sendKeys(_ keys: String...) throws {
        try tmux(["send-keys", "-t", "0"] + keys)
    }

    /// The visible screen as text.
    func screen() throws -> String {
        try tmux(["capture-pane", "-p", "-t", "0"])
    }

    /// Polls the screen until `condition` holds; fails with the last screen after `timeout` seconds.
    ///
    /// Polled because the terminal is the only place the program shows its state and
    /// tmux tells nobody when a pane changes; the deadline is generous (the tests share
    /// the machine) and only a failing test waits it out.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 60, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TimedOut(what: what, screen: last)
    }

    func waitFor(text: String, timeout: Double = 60) throws -> String {
        try waitFor("\"\(text)\"", timeout: timeout) { $0.contains(text) }
    }

    /// Waits until the screen shows every one of `texts` and none of `absent`. A frame
    /// can reach the terminal in several writes, so what a test expects to see together
    /// is waited for together, not checked on the first capture that shows part of it.
    @discardableResult
    func waitFor(all texts: [String], none absent: [String] = [], timeout: Double = 60) throws -> String {
        let what = texts.map { "\"\($0)\"" }.joined(separator: ", ")
            + (absent.isEmpty ? "" : " without " + absent.map { "\"\($0)\"" }.joined(separator: ", "))
        return try waitFor(what, timeout: timeout) { screen in
            texts.allSatisfy { screen.contains($0) } && !absent.contains { screen.contains($0) }
        }
    }

    /// The process id of the program in the pane.
    func panePID() throws -> pid_t {
        pid_t(try tmux(["list-panes", "-t", "0", "-F", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// The first child of the pane's shell: the program it runs.
    func programPID() throws -> pid_t {
        let shell = try panePID()
        let children = (try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { pid_t($0) } ?? 0
    }

    struct TimedOut: Error, CustomStringConvertible {
        let what: String
        let screen: String
        var description: String { "timed out waiting for \(what); the screen was:\n\(screen)" }
    }

    deinit {
        _ = try? tmux(["kill-server"])
        // tmux leaves its socket file behind.
        let directory = ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp"
        unlink("\(directory)/tmux-\(getuid())/\(socket)")
    }
}

/// A copy of sample-data in a temporary folder, without any state a previous run left in it.
final class SampleProjectCopy {
    let root: URL
    let project: URL
    let config: URL

    init() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        root = FileManager.default.temporaryDirectory.appendingPathComponent("actionlab-e2e-\(UUID().uuidString)")
        project = root.appendingPathComponent("project")
        config = root.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: repository.appendingPathComponent("sample-data"), to: project)
        try? FileManager.default.removeItem(at: project.appendingPathComponent(".actionlab"))
    }

    /// The clip paths relative to the project, in list order.
    var clipPaths: [String] {
        let extensions: Set<String> = ["mp4", "mkv", "webm", "avi", "mov", "m4v"]
        let enumerator = FileManager.default.enumerator(at: project, includingPropertiesForKeys: nil,
                                                        options: [.skipsHiddenFiles])
        var paths: [String] = []
        while let url = enumerator?.nextObject() as? URL {
            if extensions.contains(url.pathExtension.lowercased()) {
                paths.append(String(url.standardizedFileURL.path.dropFirst(project.standardizedFileURL.path.count + 1)))
            }
        }
        return paths.sorted()
    }

    /// Class names from the project's actionlab.toml, in key order.
    var classNames: [String] {
        let text = (try? String(contentsOf: project.appendingPathComponent("actionlab.toml"), encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("classes") }) else { return [] }
        return line.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// `actionlab labels export` as (path, label) pairs.
    func exportedLabels() throws -> [String: String] {
        let result = try ActionLabBinary.run(["labels", "export", project.path])
        guard result.status == 0 else { throw ExportFailed(stderr: result.stderr) }
        var labels: [String: String] = [:]
        for line in result.stdout.split(separator: "\n").dropFirst() where !line.isEmpty {
            let fields = line.split(separator: ",", maxSplits: 1).map(String.init)
            if fields.count == 2 { labels[fields[0]] = fields[1] }
        }
        return labels
    }

    struct ExportFailed: Error, CustomStringConvertible {
        let stderr: String
        var description: String { "labels export failed: \(stderr)" }
    }

    deinit { try? FileManager.default.removeItem(at: root) }
}

private func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// The terminal columns of the box lines ("│") in a line captured from tmux: wide
/// characters take two columns there.
private func borderColumns(_ line: String) -> [Int] {
    var columns: [Int] = [], column = 0
    for character in line {
        if character == "│" { columns.append(column) }
        let scalar = character.unicodeScalars.first!.value
        // The wide characters these tests write: CJK ideographs and kana.
        column += (0x3040...0x9FFF).contains(scalar) ? 2 : 1
    }
    return columns
}

/// Waits until the clip list is filled in (the scan finished) and shows `texts` too.
@discardableResult
private func waitForScannedList(_ tmux: TmuxSession, clips: Int, showing texts: [String] = []) throws -> String {
    try tmux.waitFor(all: ["Labelled 0/\(clips)"] + texts, none: ["Scanning"])
}

@Suite(.serialized) struct TerminalUITests {
    @Test(.enabled(if: TmuxSession.isAvailable, "tmux is not installed: the terminal tests need it"))
    func labelThreeClipsWithKeysQuitAndExport() throws {
        let sample = try SampleProjectCopy()
        let paths = sample.clipPaths
        let classes = sample.classNames
        try #require(paths.count >= 3 && classes.count >= 3, "sample-data needs clips and classes")
        let command = "\(shellQuoted(ActionLabBinary.url.path)) \(shellQuoted(sample.project.path)); echo \"exit status $?\"; sleep 60"
        let tmux = try TmuxSession(command: command, environment: ["XDG_CONFIG_HOME": sample.config.path])

        try waitForScannedList(tmux, clips: paths.count, showing: ["F1 Clips", "Clips 1/\(paths.count)"])
        try tmux.sendKeys("1")
        try tmux.sendKeys("2")
        try tmux.sendKeys("3")
        // Each label moves to the next clip.
        try tmux.waitFor(all: ["Labelled 3/\(paths.count)", "Clips 4/\(paths.count)"])
        try tmux.sendKeys("q")
        // The terminal is restored after q.
        try tmux.waitFor(all: ["exit status 0"], none: ["F1 Clips"])

        let exported = try sample.exportedLabels()
        #expect(exported == [paths[0]: classes[0], paths[1]: classes[1], paths[2]: classes[2]])
    }

    @Test(.enabled(if: TmuxSession.isAvailable, "tmux is not installed: the terminal tests need it"))
    func labelsImportedFromAnotherShellReachTheOpenScreen() throws {
        let sample = try SampleProjectCopy()
        let paths = sample.clipPaths
        let classes = sample.classNames
        try #require(paths.count >= 4 && classes.count >= 2, "sample-data needs clips and classes")
        let command = "\(shellQuoted(ActionLabBinary.url.path)) \(shellQuoted(sample.project.path)); echo \"exit status $?\"; sleep 60"
        let tmux = try TmuxSession(command: command, environment: ["XDG_CONFIG_HOME": sample.config.path])
        try waitForScannedList(tmux, clips: paths.count)
        // One label typed here, on the first clip; three imported from another process.
        try tmux.sendKeys("1")
        try tmux.waitFor(text: "Labelled 1/\(paths.count)")
        let csv = sample.root.appendingPathComponent("labels.csv")
        let rows = paths[1...3].map { "\($0),\(classes[1])" }
        try ("path,label\n" + rows.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let imported = try ActionLabBinary.run(["labels", "import", sample.project.path, csv.path])
        try #require(imported.status == 0, "\(imported.stderr)")

        // The class counts too.
        try tmux.waitFor(all: ["Labelled 4/\(paths.count)", "\(classes[0]) 1", "\(classes[1]) 3"])
        try tmux.sendKeys("F2")
        try tmux.waitFor("the Train screen's data: the four labelled clips") {
            $0.range(of: #"Data +3 train · 1 val"#, options: .regularExpression) != nil
        }
        try tmux.sendKeys("q")
        try tmux.waitFor(text: "exit status 0")
        #expect(try sample.exportedLabels() == [paths[0]: classes[0], paths[1]: classes[1], paths[2]: classes[1],
                                                 paths[3]: classes[1]])
    }

    @Test(.enabled(if: TmuxSession.isAvailable, "tmux is not installed: the terminal tests need it"))
    func aLabelOnScreenSurvivesSIGKILL() throws {
        let sample = try SampleProjectCopy()
        let paths = sample.clipPaths
        let classes = sample.classNames
        try #require(paths.count >= 2 && classes.count >= 2, "sample-data needs clips and classes")
        let command = "\(shellQuoted(ActionLabBinary.url.path)) \(shellQuoted(sample.project.path)); echo \"exit status $?\"; sleep 60"
        let tmux = try TmuxSession(command: command, environment: ["XDG_CONFIG_HOME": sample.config.path])
        try waitForScannedList(tmux, clips: paths.count)
        let pid = try tmux.programPID()
        try #require(pid > 0)
        try tmux.sendKeys("j", "2")
        // The label shows only once committed; kill the moment it is on screen.
        try tmux.waitFor(text: "Labelled 1/\(paths.count)")
        #expect(kill(pid, SIGKILL) == 0)
        // The shell prints the status once it has reaped the program: it is gone, killed by SIGKILL.
        try tmux.waitFor(text: "exit status 137")

        #expect(try sample.exportedLabels() == [paths[1]: classes[1]])
    }

    @Test(.enabled(if: TmuxSession.isAvailable, "tmux is not installed: the terminal tests need it"))
    func rememberedThemeBrokenThemeCtrlCAndATooSmallTerminal() throws {
        let sample = try SampleProjectCopy()
        let paths = sample.clipPaths
        let settings = sample.config.appendingPathComponent("actionlab")
        try FileManager.default.createDirectory(at: settings.appendingPathComponent("themes"), withIntermediateDirectories: true)
        try "theme = \"light\"\n".write(to: settings.appendingPathComponent("ui.toml"), atomically: true, encoding: .utf8)
        try "name = \"mine\"\n[roles]\ntext = { fg = 300 }\n"
            .write(to: settings.appendingPathComponent("themes/mine.toml"), atomically: true, encoding: .utf8)
        let command = "\(shellQuoted(ActionLabBinary.url.path)) \(shellQuoted(sample.project.path)); echo \"exit status $?\"; sleep 60"
        let tmux = try TmuxSession(command: command, environment: ["XDG_CONFIG_HOME": sample.config.path])
        // The remembered theme is used and the broken theme file reported, from the start
        // (the report is a message that goes away after a while, so not after the scan).
        try tmux.waitFor(all: ["theme light", "mine.toml: role text.fg: colour 300 is outside"])
        try tmux.tmux(["resize-window", "-t", "0", "-x", "70", "-y", "20"])
        try tmux.waitFor(text: "needs a terminal of at least 80x24")
        try tmux.tmux(["resize-window", "-t", "0", "-x", "100", "-y", "30"])
        try tmux.waitFor(text: "F1 Clips")
        // Ctrl-C quits as q does (no run here to stop), with the status of SIGINT.
        try tmux.sendKeys("C-c")
        // The terminal is restored after Ctrl-C.
        let after = try tmux.waitFor(all: ["exit status 130"], none: ["F1 Clips"])
        #expect(!after.contains("Stopping the run"), "no run was in progress")
    }

    @Test(.enabled(if: TmuxSession.isAvailable, "tmux is not installed: the terminal tests need it"))
    func aWideClipNameKeepsTheFrameAndCtrlLRepaints() throws {
        let sample = try SampleProjectCopy()
        let jump = sample.project.appendingPathComponent("jump")
        try FileManager.default.moveItem(at: jump.appendingPathComponent("jump-000.mp4"),
                                         to: jump.appendingPathComponent("走る.mp4"))
        let paths = sample.clipPaths
        let command = "\(shellQuoted(ActionLabBinary.url.path)) \(shellQuoted(sample.project.path)); echo \"exit status $?\"; sleep 60"
        let tmux = try TmuxSession(command: command, environment: ["XDG_CONFIG_HOME": sample.config.path,
                                                                   "LANG": "C.UTF-8"])
        try waitForScannedList(tmux, clips: paths.count, showing: ["走る.mp4"])
        // The list box's right border is in the same terminal column on the wide name's row
        // as on the row above it (tmux shows each wide character once, two columns wide).
        var wideRow = 0
        try tmux.waitFor("the wide name's row with its border in line with the row above") { screen in
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard let row = lines.firstIndex(where: { $0.contains("走る.mp4") }), row > 0 else { return false }
            wideRow = row
            return !borderColumns(lines[row]).isEmpty && borderColumns(lines[row]) == borderColumns(lines[row - 1])
        }

        // Another screen shows nothing left over from the list.
        try tmux.sendKeys("F3")
        try tmux.waitFor(all: ["Total params"], none: ["走", "jump-0"])
        try tmux.sendKeys("F1")
        try tmux.waitFor(text: "走る.mp4")

        // Something else writes over the screen; Ctrl-L draws it all again.
        let tty = try tmux.tmux(["display-message", "-p", "-t", "0", "#{pane_tty}"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let garbage = "\u{1B}[\(wideRow + 2);4HSCRIBBLED-OVER"
        try Data(garbage.utf8).write(to: URL(fileURLWithPath: tty))
        try tmux.waitFor(text: "SCRIBBLED-OVER")
        try tmux.sendKeys("C-l")
        // The scribble is painted over, the list drawn again.
        try tmux.waitFor(all: ["走る.mp4"], none: ["SCRIBBLED"])
        try tmux.sendKeys("q")
        try tmux.waitFor(text: "exit status 0")
    }

    @Test(.enabled(if: TmuxSession.isAvailable, "tmux is not installed: the terminal tests need it"))
    func aCopiedProgramWithoutItsBuildFolderUsesTheBuiltInThemes() throws {
        let sample = try SampleProjectCopy()
        // The program alone in a folder of its own: no resource bundle, no themes/ beside it.
        let copy = sample.root.appendingPathComponent("bin/actionlab")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Copied by cp(1), a process of its own: a descriptor this process held open for
        // writing would be inherited by any program another test starts meanwhile, and
        // running the copy would then fail with "Text file busy".
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = [ActionLabBinary.url.path, copy.path]
        try cp.run()
        cp.waitUntilExit()
        try #require(cp.terminationStatus == 0, "cp \(ActionLabBinary.url.path) \(copy.path) failed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: copy.deletingLastPathComponent().path) == ["actionlab"])
        let command = "\(shellQuoted(copy.path)) \(shellQuoted(sample.project.path)); echo \"exit status $?\"; sleep 60"
        let tmux = try TmuxSession(command: command, environment: ["XDG_CONFIG_HOME": sample.config.path])
        // The status line says so.
        try tmux.waitFor(all: ["F1 Clips", "theme dark", "using the built-in themes"])
        try tmux.sendKeys("T")
        try tmux.waitFor(text: "theme light")
        try tmux.sendKeys("q")
        try tmux.waitFor(text: "exit status 0")
    }

    @Test(.enabled(if: TmuxSession.isAvailable, "tmux is not installed: the terminal tests need it"))
    func aCrashRestoresTheTerminal() throws {
        let sample = try SampleProjectCopy()
        let command = "\(shellQuoted(ActionLabBinary.url.path)) \(shellQuoted(sample.project.path)); echo \"exit status $?\"; sleep 60"
        // Without Swift's backtracer, which would wait for a key on a terminal.
        let tmux = try TmuxSession(command: command, environment: ["XDG_CONFIG_HOME": sample.config.path,
                                                                   "SWIFT_BACKTRACE": "enable=no"])
        try tmux.waitFor(text: "F1 Clips")
        let pid = try tmux.programPID()
        try #require(pid > 0)
        #expect(kill(pid, SIGSEGV) == 0)
        // Killed by SIGSEGV after restoring the terminal.
        try tmux.waitFor(all: ["exit status 139"], none: ["F1 Clips"])
    }

    /// A run trained headless makes the project's model; the UI predicts every clip with
    /// it in the background, and Enter labels the selected clip with its suggestion.
    @Test(.enabled(if: TmuxSession.isAvailable, "tmux is not installed: the terminal tests need it"))
    func labelAClipByAcceptingTheModelsSuggestion() throws {
        let sample = try SampleProjectCopy()
        let paths = sample.clipPaths
        try #require(paths.count >= 10, "sample-data needs clips")
        // Every label of sample-data but the first clip's, and a one-epoch run on them.
        let shipped = try String(contentsOf: sample.project.appendingPathComponent("labels.csv"), encoding: .utf8)
        let rows = shipped.split(separator: "\n").dropFirst().filter { !$0.hasPrefix(paths[0] + ",") }
        let csv = sample.root.appendingPathComponent("labels.csv")
        try ("path,label\n" + rows.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let imported = try ActionLabBinary.run(["labels", "import", sample.project.path, csv.path])
        try #require(imported.status == 0, "\(imported.stderr)")
        let trained = try ActionLabBinary.run(["train", sample.project.path, "--preset", "tiny", "--epochs", "1"])
        try #require(trained.status == 0, "\(trained.stderr)")

        let command = "\(shellQuoted(ActionLabBinary.url.path)) \(shellQuoted(sample.project.path)); echo \"exit status $?\"; sleep 60"
        let tmux = try TmuxSession(command: command, environment: ["XDG_CONFIG_HOME": sample.config.path])
        // The first clip is selected; its row shows the model's class and probability once
        // the background job has predicted it, and the hint line offers Enter.
        let screen = try tmux.waitFor("the model's suggestion for the first clip", timeout: 120) { screen in
            screen.contains("model run 1") && screen.contains("Enter accept")
                && screen.split(separator: "\n").contains { $0.contains("▸ " + paths[0]) && $0.contains("%") }
        }
        let row = try #require(screen.split(separator: "\n").first { $0.contains("▸ " + paths[0]) })
        let words = row.split(separator: " ").map(String.init)
        let percent = try #require(words.lastIndex { $0.hasSuffix("%") })
        let suggested = words[percent - 1]
        try #require(sample.classNames.contains(suggested), "\(row)")
        try tmux.sendKeys("Enter")
        try tmux.waitFor(text: "Labelled \(paths.count)/\(paths.count)")
        try tmux.sendKeys("q")
        #expect(try tmux.waitFor(text: "exit status").contains("exit status 0"))

        #expect(try sample.exportedLabels()[paths[0]] == suggested)
        let history = try sqlite(sample.project.appendingPathComponent(".actionlab/project.sqlite"), """
            SELECT h.accepted_from FROM label_history h JOIN clips c ON c.id = h.clip_id WHERE c.path = '\(paths[0])'
            """)
        #expect(history == "run 1\n", "the history says the label was accepted from the model")
    }
}

@Test func withoutATerminalOrAFolderTheUIExplainsWhy() throws {
    let missing = try ActionLabBinary.run(["/nonexistent/project"])
    #expect(missing.status != 0)
    #expect(missing.stderr.contains("/nonexistent/project: no such folder"))

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("actionlab-notty-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let noTerminal = try ActionLabBinary.run([folder.path])
    #expect(noTerminal.status != 0)
    #expect(noTerminal.stderr.contains("needs an interactive terminal"))
}

/// What the sqlite3 program prints for `query` on the database at `url`.
private func sqlite(_ url: URL, _ query: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = ["-readonly", url.path, query]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
