import ClipIO
import Foundation
import TestSupport
import Testing

@Suite struct OpticalFlowTests {
    /// A smooth texture that is not periodic at small scales: sums of sines of several
    /// directions and wavelengths, in [0, 1].
    static func texture(_ y: Double, _ x: Double) -> Double {
        let value = sin(x * 0.31 + 1.0) + sin(y * 0.23 + 2.0) + sin((x + y) * 0.17)
            + sin((x - 2 * y) * 0.11 + 0.5) + 0.5 * sin(x * 0.7 - y * 0.45)
        return 0.5 + value / 9
    }

    /// Gray frames (T, H, W) of the texture seen through a window that moves by
    /// (`dy`, `dx`) pixels a frame: the picture moves the opposite way.
    static func panning(frames: Int, height: Int, width: Int, dy: Double, dx: Double) -> [Float] {
        var out: [Float] = []
        for t in 0..<frames {
            for y in 0..<height {
                for x in 0..<width {
                    out.append(Float(texture(Double(y) + dy * Double(t), Double(x) + dx * Double(t))))
                }
            }
        }
        return out
    }

    /// Mean (dx, dy) over the inner pixels of frames 1..<T.
    static func meanFlow(_ flow: [Float], frames: Int, height: Int, width: Int) -> (dx: Double, dy: Double) {
        var sum = (0.0, 0.0), count = 0
        for t in 1..<frames {
            for y in 4..<(height - 4) {
                for x in 4..<(width - 4) {
                    let i = ((t * height + y) * width + x) * 2
                    sum.0 += Double(flow[i])
                    sum.1 += Double(flow[i + 1])
                    count += 1
                }
            }
        }
        return (sum.0 / Double(count), sum.1 / Double(count))
    }

    static func flow(of frames: [Float], count: Int, height: Int, width: Int) -> [Float] {
        var flow = [Float](repeating: 0, count: count * height * width * 2)
        frames.withUnsafeBufferPointer { f in
            flow.withUnsafeMutableBufferPointer { out in
                OpticalFlow.flow(ofGrayFrames: f.baseAddress!, count: count, height: height, width: width,
                                 into: out.baseAddress!)
            }
        }
        return flow
    }

    @Test(arguments: [(0.0, 1.0), (0.0, -1.0), (1.0, 0.0), (-1.0, 0.0), (0.0, 3.0), (-2.5, 0.0), (0.7, -0.4)])
    func aUniformShiftIsFoundWithItsSignAndAxis(dy: Double, dx: Double) {
        let (T, H, W) = (4, 32, 32)
        let frames = Self.panning(frames: T, height: H, width: W, dy: dy, dx: dx)
        let mean = Self.meanFlow(Self.flow(of: frames, count: T, height: H, width: W), frames: T, height: H, width: W)
        // The window moves by (dy, dx): the picture under it moves by (-dy, -dx).
        #expect(abs(mean.dx - -dx) < 0.15, "dx \(mean.dx) for a window moving \(dx)")
        #expect(abs(mean.dy - -dy) < 0.15, "dy \(mean.dy) for a window moving \(dy)")
    }

    @Test func frameZeroAndStillFramesHaveNoMotion() {
        let (T, H, W) = (3, 16, 16)
        let frames = Self.panning(frames: T, height: H, width: W, dy: 0, dx: 0)
        let flow = Self.flow(of: frames, count: T, height: H, width: W)
        #expect(flow.allSatisfy { abs($0) < 1e-3 })
        let moving = Self.flow(of: Self.panning(frames: T, height: H, width: W, dy: 0, dx: 1), count: T, height: H, width: W)
        #expect(moving[0 ..< H * W * 2].allSatisfy { $0 == 0 }, "frame 0 has no predecessor")
    }

    /// Pans encoded by each codec the tests use, decoded and sampled as the trainer does:
    /// the flow of the sampled frames points the way the picture moved.
    @Test(arguments: [("mp4", [String]()), ("avi", ["-c:v", "mjpeg", "-q:v", "3"]), ("mkv", ["-c:v", "mpeg4", "-q:v", "3"])])
    func motionOfEncodedPansPointsTheRightWay(container: String, options: [String]) throws {
        let folder = try TemporaryFolder()
        let (frames, side) = (24, 64)
        for (name, dy, dx) in [("right", 0.0, -1.5), ("left", 0.0, 1.5), ("down", -1.5, 0.0), ("up", 1.5, 0.0)] {
            let source = folder.file("\(name)-source.mp4")
            let writer = try MP4Writer(url: source, width: side, height: side, fps: 24, quality: 12)
            let pixels = Self.panning(frames: frames, height: side, width: side, dy: dy, dx: dx)
            for t in 0..<frames {
                let frame = pixels[t * side * side ..< (t + 1) * side * side].map { UInt8(max(0, min(255, $0 * 255))) }
                try writer.append(frame, channels: 1)
            }
            try writer.finish()
            var url = source
            if container != "mp4" {
                url = folder.file("\(name).\(container)")
                try TestClips.ffmpeg(["-i", source.path] + options + [url.path])
            }
            let sampling = SamplingSettings(frames: 12, height: 32, width: 32, channels: 1)
            let clip = try ClipReader(url: url).sampledFrames(sampling)
            let gray = clip.pixels.map { Float($0) / 255 }
            let mean = Self.meanFlow(Self.flow(of: gray, count: 12, height: 32, width: 32), frames: 12, height: 32, width: 32)
            // 24 frames sampled to 12 at half the size: 2 frames and a half-size pixel a step.
            let expected = (dx: -dx, dy: -dy)
            #expect(abs(mean.dx - expected.dx) < 0.5 && abs(mean.dy - expected.dy) < 0.5,
                    "\(container) \(name): flow (\(mean.dx), \(mean.dy)), expected (\(expected.dx), \(expected.dy))")
        }
    }
}
