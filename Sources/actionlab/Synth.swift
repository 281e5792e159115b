import ArgumentParser
import ClipIO
import Foundation

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render synthetic action clips (run, walk, jump, wave, spin) with labels.",
        discussion: """
            Writes OUT_DIR/<class>/<class>-NNN.mp4 (H.264), OUT_DIR/labels.csv (path,label) \
            and OUT_DIR/actionlab.toml naming the classes. The same options and seed always \
            render the same frames.
            """)

    @Argument(help: "Folder to write the clips into (created if missing).")
    var outDir: String

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
    }

    func run() throws {
        let set = SyntheticActionSet(perClass: perClass, frames: frames, size: size, seed: seed)
        let directory = URL(fileURLWithPath: outDir, isDirectory: true)
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
