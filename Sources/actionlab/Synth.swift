import ArgumentParser
import ClipIO
import Foundation

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render synthetic action clips (run, walk, jump, wave, spin) with labels.",
        discussion: """
            Writes OUT_DIR/<class>/<class>-NNN.mp4 (H.264), OUT_DIR/labels.csv (path,label) \
            and OUT_DIR/actionlab.toml naming the classes. The same options and seed always \
            render the same frames. OUT_DIR must be empty or not exist yet: a folder with \
            anything in it (a project, say) is refused unless --force is given.
            """)

    @Argument(help: "Folder to write the clips into (created if missing; must be empty).")
    var outDir: String

    @Flag(help: "Write into a folder that is not empty, replacing its actionlab.toml, labels.csv and same-named clips.")
    var force = false

    @Option(help: "Clips per class.")
    var perClass = 10

    @Option(help: "Frames per clip (at 24 fps).")
    var frames = 48

    @Option(help: "Width and height of the clips in pixels (even).")
    var size = 96

    @Option(help: "Seed of the random choices (position, scale, direction, speed, background, noise).")
    var seed: UInt64 = 1

    func validate() throws {
        guard (1...10_000).contains(perClass) else { throw ValidationError("--per-class must be 1...10000") }
        guard (1...10_000).contains(frames) else { throw ValidationError("--frames must be 1...10000") }
        guard (8...4096).contains(size), size % 2 == 0 else { throw ValidationError("--size must be even, 8...4096") }
        // A clip's frames are drawn in memory before they are encoded.
        if let problem = SamplingSettings.sizeProblem(frames: frames, height: size, width: size, channels: 1) {
            throw ValidationError("--frames \(frames) at --size \(size): \(problem)")
        }
    }

    /// A folder synth may not write into, and why.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// Refuses a destination that is a file, or a folder with anything in it unless
    /// `force`: synth replaces actionlab.toml, labels.csv and clips of its naming.
    static func checkDestination(_ directory: URL, force: Bool) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw Refusal(description: "\(directory.path): exists and is not a folder") }
        guard !force else { return }
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        } catch {
            throw Refusal(description: "\(directory.path): cannot be listed (\(error.localizedDescription))")
        }
        guard !entries.isEmpty else { return }
        let shown = entries.prefix(4).joined(separator: ", ") + (entries.count > 4 ? ", ..." : "")
        throw Refusal(description: "\(directory.path): not empty (\(shown)); synth would replace its actionlab.toml, "
                      + "labels.csv and clips of the same names. Choose a new or empty folder, or pass --force.")
    }

    func run() throws {
        let set = SyntheticActionSet(perClass: perClass, frames: frames, size: size, seed: seed)
        let directory = URL(fileURLWithPath: outDir, isDirectory: true)
        try Self.checkDestination(directory, force: force)
        let total = perClass * SyntheticAction.allCases.count
        // A counter redrawn in place on a terminal; into a log, no per-clip lines.
        let interactive = isatty(STDERR_FILENO) == 1
        var written = 0
        let summary = try set.write(to: directory) { _ in
            written += 1
            if interactive { FileHandle.standardError.write(Data("\rwriting clip \(written)/\(total)".utf8)) }
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        if summary.codecName != "libx264" {
            print("note: FFmpeg has no libx264; clips are encoded with \(summary.codecName)")
        }
        print("wrote \(summary.clips.count) clips (\(summary.codecName), \(summary.bytes / 1024) KiB), labels.csv and actionlab.toml to \(outDir)")
    }
}
