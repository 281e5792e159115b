import Foundation

/// A folder of synthetic action clips, ready to open as an ActionLab project:
///
///     OUT_DIR/run/run-000.mp4 ... OUT_DIR/spin/spin-NNN.mp4   one subfolder per class
///     OUT_DIR/labels.csv                                       path,label (paths relative to OUT_DIR)
///     OUT_DIR/actionlab.toml                                   classes = ["run", "walk", "jump", "wave", "spin"]
///
/// Clip `i` of class `c` is rendered from its own seed, derived from `seed`, `c` and `i`,
/// so the same settings write the same frames, and adding clips keeps the earlier ones.
public struct SyntheticActionSet: Sendable {
    public var perClass: Int
    public var frames: Int
    /// Width and height of the clips in pixels (even).
    public var size: Int
    public var seed: UInt64
    public var fps: Int
    /// x264's constant rate factor: ~28-32 keeps clips of gray figures small.
    public var quality: Int

    public init(perClass: Int = 10, frames: Int = 48, size: Int = 96, seed: UInt64 = 1, fps: Int = 24, quality: Int = 30) {
        self.perClass = perClass
        self.frames = frames
        self.size = size
        self.seed = seed
        self.fps = fps
        self.quality = quality
    }

    /// The seed clip `index` of `action` is rendered from.
    public func clipSeed(_ action: SyntheticAction, index: Int) -> UInt64 {
        let classIndex = UInt64(SyntheticAction.allCases.firstIndex(of: action)!)
        var mixer = SplitMix64(seed: seed ^ (classIndex &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(index) &* 0x8CB9_2BA7_2F3D_8DD7))
        return mixer.next()
    }

    /// The clip's path relative to the output folder, e.g. "run/run-007.mp4".
    public func relativePath(_ action: SyntheticAction, index: Int) -> String {
        let number = String(index)
        let padded = String(repeating: "0", count: max(0, 3 - number.count)) + number
        return "\(action.rawValue)/\(action.rawValue)-\(padded).mp4"
    }

    public func renderer(_ action: SyntheticAction, index: Int) -> ActionRenderer {
        ActionRenderer(action: action, frames: frames, size: size, fps: fps, seed: clipSeed(action, index: index))
    }

    /// What `write` did.
    public struct Summary: Sendable {
        /// (path relative to the folder, label), in the order of labels.csv.
        public var clips: [(path: String, label: String)]
        /// The encoder used, e.g. "libx264" (or "mpeg4" when FFmpeg has no H.264 encoder).
        public var codecName: String
        /// Bytes of all clips together.
        public var bytes: Int
    }

    /// Renders and encodes every clip into `directory`, then writes labels.csv and
    /// actionlab.toml. `progress` hears each clip's relative path as it is written.
    @discardableResult
    public func write(to directory: URL, progress: (String) -> Void = { _ in }) throws(ClipIOError) -> Summary {
        guard perClass > 0, frames > 0, size >= 8, size % 2 == 0 else {
            throw ClipIOError(path: directory.relativePath,
                              reason: "cannot synthesise \(perClass) clips of \(frames) frames at \(size)x\(size) (size must be even, at least 8)")
        }
        var summary = Summary(clips: [], codecName: "", bytes: 0)
        for action in SyntheticAction.allCases {
            let folder = directory.appendingPathComponent(action.rawValue, isDirectory: true)
            try createFolder(folder)
            for index in 0..<perClass {
                let path = relativePath(action, index: index)
                let url = directory.appendingPathComponent(path)
                let writer = try MP4Writer(url: url, width: size, height: size, fps: fps, quality: quality)
                for picture in renderer(action, index: index).render() {
                    try writer.append(picture, channels: 1)
                }
                try writer.finish()
                summary.codecName = writer.codecName
                summary.bytes += ((try? FileManager.default.attributesOfItem(atPath: url.path)[.size]) as? Int) ?? 0
                summary.clips.append((path, action.rawValue))
                progress(path)
            }
        }
        let csv = "path,label\n" + summary.clips.map { "\($0.path),\($0.label)\n" }.joined()
        try writeText(csv, to: directory.appendingPathComponent("labels.csv"))
        let names = SyntheticAction.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        // The recipe for these clips (docs/recipes.md): their figures are lines a pixel or
        // two wide on a noisy texture, where optical flow is weakest and frame differences
        // show the figure best, and a frame-wide mean dilutes them where a maximum finds
        // them; and figures face and travel either way in every class, so a mirrored clip
        // shows the same action.
        let text = """
            # Written by actionlab synth: the classes in key order (1-\(SyntheticAction.allCases.count)).
            classes = [\(names)]

            [training]
            # Thin figures on a noisy texture: frame differences show them best,
            # and the strongest response anywhere in the frame finds them.
            input = "frame_differences"
            head = "global_max_pool"
            # Figures face and move either way in every class: a mirrored clip keeps its label.
            horizontal_flip = true

            """
        try writeText(text, to: directory.appendingPathComponent("actionlab.toml"))
        return summary
    }

    private func createFolder(_ url: URL) throws(ClipIOError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw ClipIOError(path: url.relativePath, reason: "cannot create the folder: \(error.localizedDescription)")
        }
    }

    private func writeText(_ text: String, to url: URL) throws(ClipIOError) {
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw ClipIOError(path: url.relativePath, reason: "cannot write: \(error.localizedDescription)")
        }
    }
}
