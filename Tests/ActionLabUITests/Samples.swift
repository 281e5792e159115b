import ActionStore
import Foundation
@testable import ActionLabUI

/// In-memory states for the tests: a small project with five classes.
enum Sample {
    static let classNames = ["run", "walk", "jump", "wave", "spin"]
    static let classes = classNames.enumerated().map { index, name in
        ClassInfo(index: index, name: name, key: Character(String(index + 1)))
    }

    /// `count` readable 96x96 clips at 25 fps named `clip_00.mp4`, ...
    static func clips(_ count: Int) -> [ClipRow] {
        (0..<count).map { i in
            let path = String(format: "clip_%02d.mp4", i)
            return ClipRow(id: ClipID(i + 1), path: path, url: URL(fileURLWithPath: "/project/" + path),
                           duration: 1.92, fps: 25, frameCount: 48, width: 96, height: 96, codec: "h264")
        }
    }

    /// A state with `clips` loaded at 100x30, time at 0.
    static func state(_ clips: [ClipRow] = clips(12), width: Int = 100, height: Int = 30) -> AppState {
        var state = AppState(projectName: "sample-data", classes: classes, themes: themes,
                             width: width, height: height)
        _ = state.update(.clipsChanged(clips))
        return state
    }

    static let themes: [Theme] = ThemeLibrary.builtIn.themes

    /// `count` frames of `width` x `height`: a diagonal gradient that shifts each frame.
    static func frames(_ count: Int = 4, width: Int = 42, height: Int = 42, fps: Double = 25) -> [PreviewImage] {
        (0..<count).map { f in
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0..<height {
                for x in 0..<width {
                    let value = UInt8(((x + y) * 255 / (width + height) + f * 16) % 256)
                    rgb[(y * width + x) * 3] = value
                    rgb[(y * width + x) * 3 + 1] = value
                    rgb[(y * width + x) * 3 + 2] = value
                }
            }
            return PreviewImage(width: width, height: height, rgb: rgb, timestamp: Double(f) / fps)
        }
    }

    /// Sends `events` in order; returns every result.
    @discardableResult
    static func send(_ state: inout AppState, _ events: [AppEvent]) -> [UpdateResult] {
        events.map { state.update($0) }
    }

    /// Delivers the preview the state is waiting for.
    static func deliverPreview(_ state: inout AppState, frames: [PreviewImage] = frames()) {
        guard case .loading(let request) = state.clips.preview else { return }
        _ = state.update(.previewLoaded(request, frames))
    }
}
