import Foundation
import Testing
@testable import ActionLabUI

@Suite struct MotionPreviewTests {
    @Test func mAsksForTheSelectedClipsMotionAndBack() {
        var state = Sample.state()
        Sample.deliverPreview(&state)
        let result = state.update(.key(.character("M")))
        #expect(state.clips.showsMotion)
        guard case .loadPreview(let request) = result.effects.first else {
            Issue.record("expected a preview request, got \(result.effects)")
            return
        }
        #expect(request.showsMotion && request.clipID == 1)
        #expect(state.message?.text.contains("motion") == true)
        // Moving on keeps showing motion.
        let moved = state.update(.key(.down))
        guard case .loadPreview(let next) = moved.effects.first else {
            Issue.record("expected a preview request, got \(moved.effects)")
            return
        }
        #expect(next.showsMotion && next.clipID == 2)
        _ = state.update(.key(.character("M")))
        #expect(!state.clips.showsMotion)
        if case .loading(let back) = state.clips.preview { #expect(!back.showsMotion) } else { Issue.record("no new request") }
    }

    /// A decoder whose clip is a texture drifting right by one pixel a frame.
    struct DriftingClip: PreviewDecoder {
        func previewFrames(of url: URL, width: Int, height: Int) throws -> [PreviewImage] {
            (0..<4).map { t in
                var rgb = [UInt8](repeating: 0, count: width * height * 3)
                for y in 0..<height {
                    for x in 0..<width {
                        let (u, v) = (Double(x - t), Double(y))
                        let value = 0.5 + (sin(u * 0.31 + 1.0) + sin(v * 0.23 + 2.0) + sin((u + v) * 0.17)
                            + sin((u - 2 * v) * 0.11 + 0.5) + 0.5 * sin(u * 0.7 - v * 0.45)) / 9
                        let byte = UInt8(max(0, min(255, value * 255)))
                        for c in 0..<3 { rgb[(y * width + x) * 3 + c] = byte }
                    }
                }
                return PreviewImage(width: width, height: height, rgb: rgb, timestamp: Double(t) / 25)
            }
        }
    }

    @Test func theMotionPreviewColoursARightwardDriftRed() throws {
        let request = PreviewRequest(clipID: 1, url: URL(fileURLWithPath: "/clip.mp4"), width: 32, height: 24, showsMotion: true)
        let pictures = try PreviewLoader.decode(request, with: DriftingClip())
        #expect(pictures.count == 4 && pictures.allSatisfy { $0.width == 32 && $0.height == 24 })
        #expect(pictures[0].rgb.allSatisfy { $0 == 0 }, "the first frame has no motion")
        // Motion to the right (+x) is red: in the middle of a later frame red dominates.
        var red = 0, other = 0
        for y in 6..<18 {
            for x in 8..<24 {
                let i = (y * 32 + x) * 3
                let (r, g, b) = (Int(pictures[2].rgb[i]), Int(pictures[2].rgb[i + 1]), Int(pictures[2].rgb[i + 2]))
                if r > g + 20 && r > b + 20 { red += 1 } else { other += 1 }
            }
        }
        #expect(red > 3 * other, "red \(red), other \(other)")
        let plain = try PreviewLoader.decode(PreviewRequest(clipID: 1, url: request.url, width: 32, height: 24), with: DriftingClip())
        #expect(plain == (try DriftingClip().previewFrames(of: request.url, width: 32, height: 24)))
    }
}

@Suite struct AugmentationKeyTests {
    @Test func aTurnsAugmentationOffAndBackAndTheRunBoxSaysSo() {
        var state = Sample.state()
        _ = state.update(.key(.tab))
        let preset = state.training.choice.settings.augmentation
        #expect(!preset.isOff)
        _ = state.update(.key(.character("a")))
        #expect(state.training.choice.settings.augmentation.isOff && state.training.choice.isEdited)
        #expect(state.message?.text.contains("Augmentation off") == true)
        #expect(TrainView.runBoxLines(state.training).contains { line in
            if case .text("Sees", let value, _) = line { value.hasSuffix("none") } else { false }
        })
        _ = state.update(.key(.character("a")))
        #expect(state.training.choice.settings.augmentation == preset && !state.training.choice.isEdited)
        #expect(TrainView.runBoxLines(state.training).contains { line in
            if case .text("Sees", let value, _) = line { value.contains("crop + shift") } else { false }
        })
    }
}
