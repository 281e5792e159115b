import Foundation

/// Stored text snapshots of rendered screens, compared line by line.
///
/// Snapshots live in a `Snapshots/` folder beside the test file, one `NAME.txt`
/// per snapshot. Set `ACTIONLAB_RECORD_SNAPSHOTS=1` to (re)write them from the
/// current output instead of comparing; a missing snapshot is written and reported
/// as a failure, so a new test never passes silently.
public enum Snapshot {
    public static var isRecording: Bool {
        ProcessInfo.processInfo.environment["ACTIONLAB_RECORD_SNAPSHOTS"] == "1"
    }

    /// Compares `lines` with the stored snapshot `name`; returns a description of
    /// the differences, or nil when they match (or were just recorded on request).
    public static func mismatch(_ lines: [String], named name: String, testFile: String = #filePath) -> String? {
        let directory = URL(fileURLWithPath: testFile).deletingLastPathComponent().appendingPathComponent("Snapshots")
        let file = directory.appendingPathComponent(name + ".txt")
        let actual = lines.joined(separator: "\n") + "\n"
        let stored = try? String(contentsOf: file, encoding: .utf8)
        if isRecording || stored == nil {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try actual.write(to: file, atomically: true, encoding: .utf8)
            } catch {
                return "cannot write snapshot \(file.path): \(error)"
            }
            return stored == nil && !isRecording
                ? "no snapshot \(file.path) existed; it has been recorded, check it and run again" : nil
        }
        let expected = stored!.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        var differences: [String] = []
        for row in 0..<max(expected.count, lines.count) {
            let want = row < expected.count ? expected[row] : "<no line>"
            let got = row < lines.count ? lines[row] : "<no line>"
            if want != got {
                differences.append("line \(row + 1):\n  expected |\(want)|\n  actual   |\(got)|")
            }
        }
        guard !differences.isEmpty else { return nil }
        return "\(file.lastPathComponent) differs (ACTIONLAB_RECORD_SNAPSHOTS=1 re-records it):\n"
            + differences.prefix(8).joined(separator: "\n")
    }
}
